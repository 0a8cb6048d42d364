
/*
 * Copyright (C) wsgate authors
 *
 * ngx_http_wsgate_path_check(): raw request URIs that a backend may read
 * as another path than nginx did.
 */


#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "ngx_http_wsgate_check.h"


/* the reasons as the contract spells them, not the header's macros */

#define OK         NULL
#define SLASH      "encoded slash"
#define BACKSLASH  "encoded backslash"
#define DOT        "encoded dot segment"
#define PARAM      "path parameter"
#define DOTDOT     "dot-dot segment"


typedef struct {
    int          line;
    const char  *uri;
    size_t       len;
    const char  *want;
} path_case_t;


#define PATH(uri, want)          { __LINE__, uri, sizeof(uri) - 1, want }
#define PATHN(uri, len, want)    { __LINE__, uri, len, want }


static const path_case_t  path_cases[] = {

    /* fine */
    PATH("/", OK),
    PATH("/ws/0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01/a2a", OK),
    PATH("/a..b/", OK),
    PATH("/a../", OK),
    PATH("/..a/", OK),
    PATH("/a%2Eb", OK),
    PATH("/a%2e%2e", OK),
    PATH("/%2e%2ea/", OK),
    PATH("/x/%2E%2Ex", OK),
    PATH("/.well-known/x", OK),
    PATH("/./a", OK),
    PATH("/a/.", OK),
    PATH("/.../", OK),
    PATH("/a/.../b", OK),
    PATH("//a//b//", OK),
    PATH("/a%20b/%41%7e", OK),
    PATH("/a%2", OK),
    PATH("/a%", OK),
    PATH("/a%zz/", OK),
    PATH("/a%252F", OK),
    PATH("/a%25%32%46", OK),
    PATH("/%c0%ae%c0%ae/", OK),
    PATH("/.%41./", OK),
    PATH("/%2e%41/", OK),
    PATH("/%41%2e%2e/", OK),
    PATH("/a/b\\c", OK),
    PATH("", OK),
    PATH("*", OK),

    /* anything goes after the "?" */
    PATH("/a?b=%2F", OK),
    PATH("/a?x=/../y", OK),
    PATH("/a?;", OK),
    PATH("/a?%5c%2e%2e", OK),
    PATH("/?..", OK),
    PATH("/a?/%2e%2e/", OK),
    PATH("/a/b?", OK),
    PATH("?/../;%2F", OK),

    /* encoded separators, any hex case */
    PATH("/a%2Fb", SLASH),
    PATH("/a%2fb", SLASH),
    PATH("/ws/A%2F..%2FB/a2a", SLASH),
    PATH("/%2F", SLASH),
    PATH("%2f", SLASH),
    PATH("/a/b%2F?x", SLASH),
    PATH("/a%5Cb", BACKSLASH),
    PATH("/a%5cb", BACKSLASH),
    PATH("/..%5c..%5cetc", BACKSLASH),

    /* encoded dots in a segment of dots only */
    PATH("/%2e%2e/", DOT),
    PATH("/%2E%2E/", DOT),
    PATH("/.%2E/", DOT),
    PATH("/%2e./", DOT),
    PATH("/%2e/", DOT),
    PATH("/%2E", DOT),
    PATH("/a/%2e%2e", DOT),
    PATH("/a/%2e%2e?x", DOT),
    PATH("/%2e%2e%2e/", DOT),
    PATH("/ws/A/%2e%2e/B", DOT),

    /* path parameters */
    PATH("/a;b", PARAM),
    PATH("/a;", PARAM),
    PATH(";", PARAM),
    PATH("/ws/A;x=1/a2a", PARAM),
    PATH("/..;/", PARAM),
    PATH("/a;/?x", PARAM),

    /* dot-dot segments */
    PATH("/a/../b", DOTDOT),
    PATH("/..", DOTDOT),
    PATH("/../", DOTDOT),
    PATH("/a/..", DOTDOT),
    PATH("/a/..?x=1", DOTDOT),
    PATH("..", DOTDOT),
    PATH("/ws/A/../B/a2a", DOTDOT),
    PATH("//..//", DOTDOT),

    /* the first found, left to right */
    PATH("/../a;b", DOTDOT),
    PATH("/a;b/../", PARAM),
    PATH("/%2e%2e/%2F", DOT),
    PATH("/%2F/%2e%2e/", SLASH),

    /* only len bytes count */
    PATHN("/a/..", 4, OK),
    PATHN("/a/../", 5, DOTDOT),
    PATHN("/a%2F", 4, OK),
    PATHN("/a%2F", 5, SLASH),
    PATHN("/a%2e", 4, OK),
    PATHN("/%2e", 3, OK),
    PATHN("/a;", 2, OK),
    PATHN("/..", 0, OK),
};


static void
test_path_table(void)
{
    size_t              i;
    u_char             *buf;
    const path_case_t  *t;

    for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
        t = &path_cases[i];
        UNIT_ROW(t->line);

        buf = unit_dup(t->uri, t->len);
        CHECK_STR(ngx_http_wsgate_path_check(buf, t->len), t->want);
        free(buf);
    }

    UNIT_ROW_END();

    CHECK_STR(ngx_http_wsgate_path_check(NULL, 0), OK);
}


/* every hex case of the encoded characters, in every position */

static void
test_path_cases(void)
{
    size_t       i, j, n;
    u_char       uri[16];
    const char  *want;

    static const char  *encoded[] = { "%2f", "%2F", "%5c", "%5C" };
    static const char  *dots[] = { "%2e", "%2E", "." };

    for (i = 0; i < 4; i++) {
        want = (i < 2) ? SLASH : BACKSLASH;

        for (j = 0; j < 3; j++) {
            unit_case("%s at %zu", encoded[i], j);

            memcpy(uri, "/ab", 3);
            memcpy(uri + j, encoded[i], 3);
            CHECK_STR(ngx_http_wsgate_path_check(uri, j + 3), want);
        }
    }

    /* "/<a><b>/" for every pair: only ".." plain is not encoded */

    for (i = 0; i < 3; i++) {
        for (j = 0; j < 3; j++) {
            unit_case("/%s%s/", dots[i], dots[j]);

            n = 0;
            uri[n++] = '/';
            memcpy(uri + n, dots[i], strlen(dots[i]));
            n += strlen(dots[i]);
            memcpy(uri + n, dots[j], strlen(dots[j]));
            n += strlen(dots[j]);
            uri[n++] = '/';

            want = (i == 2 && j == 2) ? DOTDOT : DOT;
            CHECK_STR(ngx_http_wsgate_path_check(uri, n), want);
        }
    }

    UNIT_ROW_END();
}


void
test_path(void)
{
    test_path_table();
    test_path_cases();
}
