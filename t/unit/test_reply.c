
/*
 * Copyright (C) wsgate authors
 *
 * Redis replies (ngx_http_wsgate_reply.h): RESP2 through hiredis's
 * reader into wsgate's reply values, whole and a byte at a time, and
 * what the token lookup and the cache's invalidation messages read out
 * of them.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "ngx_http_wsgate_reply.h"


#define WS      "6ba7b811-9dad-11d1-80b4-00c04fd430c8"
#define PREFIX  "wsgate:token:"
#define DIGEST                                                                \
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define CHANNEL "__redis__:invalidate"


static const u_char  digest_bytes[32] = {
    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
    0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
    0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
    0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad
};


/*
 * The first reply in resp, fed chunk bytes at a time (0: all at once);
 * NULL when it is incomplete or the reader refused it (*err set).
 */

static ngx_http_wsgate_reply_t *
reply_parse(const char *resp, size_t len, size_t chunk, int *err)
{
    void         *r;
    size_t        n;
    u_char       *copy;
    redisReader  *rd;

    *err = 0;
    r = NULL;

    rd = ngx_http_wsgate_reply_reader();
    if (rd == NULL) {
        fprintf(stderr, "reply_parse: out of memory\n");
        exit(2);
    }

    /* each chunk a heap copy of its own: ASan sees a read past it */

    while (len) {
        n = (chunk == 0 || chunk > len) ? len : chunk;

        copy = unit_dup(resp, n);

        if (redisReaderFeed(rd, (char *) copy, n) != REDIS_OK) {
            *err = 1;
        }

        free(copy);

        resp += n;
        len -= n;

        if (*err) {
            break;
        }

        r = NULL;

        if (redisReaderGetReply(rd, &r) != REDIS_OK) {
            *err = 1;
            break;
        }

        if (r != NULL) {
            break;
        }
    }

    redisReaderFree(rd);

    return r;
}


static int
reply_equal(ngx_http_wsgate_reply_t *a, ngx_http_wsgate_reply_t *b)
{
    size_t  i;

    if (a->type != b->type || a->integer != b->integer
        || a->str.len != b->str.len || a->nelts != b->nelts)
    {
        return 0;
    }

    if (a->str.len && memcmp(a->str.data, b->str.data, a->str.len) != 0) {
        return 0;
    }

    for (i = 0; i < a->nelts; i++) {
        if (!reply_equal(a->elts[i], b->elts[i])) {
            return 0;
        }
    }

    return 1;
}


typedef struct {
    int                            line;
    const char                    *resp;
    size_t                         len;
    ngx_http_wsgate_reply_type_e   type;
    const char                    *str;     /* STRING, ERROR */
    size_t                         str_len;
    int64_t                        integer;
    size_t                         nelts;
} reply_case_t;


#define STR(resp, type, s)                                                    \
    { __LINE__, resp, sizeof(resp) - 1, type, s, sizeof(s) - 1, 0, 0 }
#define INT(resp, n)                                                          \
    { __LINE__, resp, sizeof(resp) - 1, NGX_HTTP_WSGATE_REPLY_INTEGER,       \
      NULL, 0, n, 0 }
#define NIL(resp)                                                             \
    { __LINE__, resp, sizeof(resp) - 1, NGX_HTTP_WSGATE_REPLY_NIL,           \
      NULL, 0, 0, 0 }
#define ARR(resp, n)                                                          \
    { __LINE__, resp, sizeof(resp) - 1, NGX_HTTP_WSGATE_REPLY_ARRAY,         \
      NULL, 0, 0, n }


static const reply_case_t  reply_cases[] = {
    STR("+OK\r\n", NGX_HTTP_WSGATE_REPLY_STRING, "OK"),
    STR("+\r\n", NGX_HTTP_WSGATE_REPLY_STRING, ""),
    STR("-ERR unknown command\r\n", NGX_HTTP_WSGATE_REPLY_ERROR,
        "ERR unknown command"),
    STR("-LOADING Redis is loading the dataset in memory\r\n",
        NGX_HTTP_WSGATE_REPLY_ERROR,
        "LOADING Redis is loading the dataset in memory"),
    STR("$5\r\nhello\r\n", NGX_HTTP_WSGATE_REPLY_STRING, "hello"),
    STR("$0\r\n\r\n", NGX_HTTP_WSGATE_REPLY_STRING, ""),
    STR("$4\r\na\0\r\n\r\n", NGX_HTTP_WSGATE_REPLY_STRING, "a\0\r\n"),
    INT(":0\r\n", 0),
    INT(":42\r\n", 42),
    INT(":-2\r\n", -2),
    INT(":9223372036854775807\r\n", INT64_MAX),
    INT(":-9223372036854775808\r\n", INT64_MIN),
    NIL("$-1\r\n"),
    NIL("*-1\r\n"),
    ARR("*0\r\n", 0),
    ARR("*3\r\n$36\r\n" WS "\r\n$9\r\nworkspace\r\n$-1\r\n", 3),
    ARR("*2\r\n*2\r\n:1\r\n*0\r\n-ERR x\r\n", 2),
};


static void
test_reply_values(void)
{
    int                       err;
    size_t                    i, chunk;
    ngx_http_wsgate_reply_t  *r, *whole;

    for (i = 0; i < sizeof(reply_cases) / sizeof(reply_cases[0]); i++) {
        UNIT_ROW(reply_cases[i].line);

        whole = reply_parse(reply_cases[i].resp, reply_cases[i].len, 0,
                            &err);

        CHECK(err == 0);
        CHECK(whole != NULL);

        if (whole == NULL) {
            continue;
        }

        CHECK_INT(whole->type, reply_cases[i].type);
        CHECK_INT(whole->integer, reply_cases[i].integer);
        CHECK_INT(whole->nelts, reply_cases[i].nelts);

        if (reply_cases[i].str != NULL) {
            CHECK_MEM(whole->str.data, whole->str.len, reply_cases[i].str,
                      reply_cases[i].str_len);
            CHECK(whole->str.data[whole->str.len] == '\0');

        } else {
            CHECK_INT(whole->str.len, 0);
        }

        for (chunk = 1; chunk < 4; chunk++) {
            unit_case("fed %zu bytes at a time", chunk);

            r = reply_parse(reply_cases[i].resp, reply_cases[i].len, chunk,
                            &err);

            CHECK(err == 0);
            CHECK(r != NULL && reply_equal(r, whole));

            ngx_http_wsgate_reply_free(r);
        }

        ngx_http_wsgate_reply_free(whole);
    }

    UNIT_ROW_END();

    /* nested: the tree as sent */

    r = reply_parse("*2\r\n*2\r\n:1\r\n*0\r\n-ERR x\r\n",
                    sizeof("*2\r\n*2\r\n:1\r\n*0\r\n-ERR x\r\n") - 1, 0, &err);

    CHECK(r != NULL);

    if (r != NULL) {
        CHECK_INT(r->elts[0]->type, NGX_HTTP_WSGATE_REPLY_ARRAY);
        CHECK_INT(r->elts[0]->nelts, 2);
        CHECK_INT(r->elts[0]->elts[0]->integer, 1);
        CHECK_INT(r->elts[0]->elts[1]->type, NGX_HTTP_WSGATE_REPLY_ARRAY);
        CHECK_INT(r->elts[0]->elts[1]->nelts, 0);
        CHECK_INT(r->elts[1]->type, NGX_HTTP_WSGATE_REPLY_ERROR);
        CHECK_MEM(r->elts[1]->str.data, r->elts[1]->str.len, "ERR x", 5);

        ngx_http_wsgate_reply_free(r);
    }

    ngx_http_wsgate_reply_free(NULL);
}


static void
test_reply_stream(void)
{
    int                       rc;
    void                     *r;
    redisReader              *rd;
    ngx_http_wsgate_reply_t  *reply;

    static const char  two[] = ":1\r\n$2\r\nab\r\n";
    static const char  half[] = "*3\r\n:1\r\n$1\r\nx\r\n";

    /* two replies in one read, then nothing: the pipeline's case */

    rd = ngx_http_wsgate_reply_reader();
    CHECK(rd != NULL);

    if (rd == NULL) {
        return;
    }

    CHECK(redisReaderFeed(rd, two, sizeof(two) - 1) == REDIS_OK);

    r = NULL;
    CHECK(redisReaderGetReply(rd, &r) == REDIS_OK);
    reply = r;
    CHECK(reply != NULL && reply->type == NGX_HTTP_WSGATE_REPLY_INTEGER
          && reply->integer == 1);
    ngx_http_wsgate_reply_free(r);

    r = NULL;
    CHECK(redisReaderGetReply(rd, &r) == REDIS_OK);
    CHECK(r != NULL && ngx_http_wsgate_reply_is(r, "ab", 2));
    ngx_http_wsgate_reply_free(r);

    r = NULL;
    CHECK(redisReaderGetReply(rd, &r) == REDIS_OK);
    CHECK(r == NULL);

    /* half an array, then a protocol error: the half is freed (LSan) */

    CHECK(redisReaderFeed(rd, half, sizeof(half) - 1) == REDIS_OK);

    r = NULL;
    CHECK(redisReaderGetReply(rd, &r) == REDIS_OK);
    CHECK(r == NULL);

    CHECK(redisReaderFeed(rd, "?\r\n", 3) == REDIS_OK);

    r = NULL;
    rc = redisReaderGetReply(rd, &r);
    CHECK(rc == REDIS_ERR);
    CHECK(r == NULL);

    redisReaderFree(rd);

    /* a bad length */

    r = reply_parse("$x\r\n", 4, 0, &rc);
    CHECK(rc == 1 && r == NULL);

    r = reply_parse("*1\r\n!\r\n", 7, 1, &rc);
    CHECK(rc == 1 && r == NULL);

    /* an array of 2^31 - 1 elements is refused before it is allocated */

    r = reply_parse("*2147483647\r\n:1\r\n", 17, 0, &rc);
    CHECK(rc == 1 && r == NULL);

    r = reply_parse("*1048577\r\n:1\r\n", 14, 0, &rc);
    CHECK(rc == 1 && r == NULL);

    r = reply_parse("*2\r\n*1048577\r\n", 14, 0, &rc);
    CHECK(rc == 1 && r == NULL);

    /* the largest one allowed: incomplete, not refused */

    r = reply_parse("*1048576\r\n:1\r\n", 14, 0, &rc);
    CHECK(rc == 0 && r == NULL);
}


static void
test_reply_predicates(void)
{
    int                       err;
    ngx_http_wsgate_reply_t  *r;

#define PARSE(resp)  reply_parse(resp, sizeof(resp) - 1, 0, &err)

    r = PARSE("+message\r\n");
    CHECK(ngx_http_wsgate_reply_is(r, "message", 7));
    CHECK(!ngx_http_wsgate_reply_is(r, "messag", 6));
    CHECK(!ngx_http_wsgate_reply_is(r, "Message", 7));
    CHECK(!ngx_http_wsgate_reply_is_loading(r));
    CHECK(!ngx_http_wsgate_reply_is_message(r));
    ngx_http_wsgate_reply_free(r);

    r = PARSE("-message\r\n");
    CHECK(!ngx_http_wsgate_reply_is(r, "message", 7));
    ngx_http_wsgate_reply_free(r);

    r = PARSE("-LOADING\r\n");
    CHECK(ngx_http_wsgate_reply_is_loading(r));
    ngx_http_wsgate_reply_free(r);

    r = PARSE("-LOADIN\r\n");
    CHECK(!ngx_http_wsgate_reply_is_loading(r));
    ngx_http_wsgate_reply_free(r);

    r = PARSE("+LOADING\r\n");
    CHECK(!ngx_http_wsgate_reply_is_loading(r));
    ngx_http_wsgate_reply_free(r);

    r = PARSE("*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$-1\r\n");
    CHECK(ngx_http_wsgate_reply_is_message(r));
    ngx_http_wsgate_reply_free(r);

    r = PARSE("*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n");
    CHECK(!ngx_http_wsgate_reply_is_message(r));
    ngx_http_wsgate_reply_free(r);

    r = PARSE("*2\r\n$7\r\nmessage\r\n$1\r\nc\r\n");
    CHECK(!ngx_http_wsgate_reply_is_message(r));
    ngx_http_wsgate_reply_free(r);

    r = PARSE("*4\r\n$7\r\nmessage\r\n$1\r\nc\r\n$-1\r\n$-1\r\n");
    CHECK(!ngx_http_wsgate_reply_is_message(r));
    ngx_http_wsgate_reply_free(r);
}


typedef struct {
    int          line;
    const char  *resp;
    size_t       len;
    int          with_pttl;
    int          want;
    const char  *id;
    int64_t      pttl;
} record_case_t;


#define RECORD(resp, with_pttl, want, id, pttl)                               \
    { __LINE__, resp, sizeof(resp) - 1, with_pttl,                            \
      NGX_HTTP_WSGATE_RECORD_ ## want, id, pttl }

#define B(s)   "$" #s "\r\n"
#define WSB    "$36\r\n" WS "\r\n"
#define KW     "$9\r\nworkspace\r\n"
#define KS     "$6\r\nsystem\r\n"
#define NILB   "$-1\r\n"


static const record_case_t  record_cases[] = {
    RECORD("*3\r\n" WSB KW NILB, 0, WORKSPACE, WS, -1),
    RECORD("*4\r\n" WSB KW NILB ":-1\r\n", 1, WORKSPACE, WS, -1),
    RECORD("*4\r\n" WSB KW NILB ":86400000\r\n", 1, WORKSPACE, WS,
           86400000),
    RECORD("*3\r\n$36\r\n6BA7B811-9DAD-11D1-80B4-00C04FD430C8\r\n" KW NILB,
           0, WORKSPACE, "6BA7B811-9DAD-11D1-80B4-00C04FD430C8", -1),
    RECORD("*3\r\n" NILB KS "$22\r\nsystem:restart-context\r\n", 0, SYSTEM,
           "system:restart-context", -1),
    RECORD("*4\r\n" WSB KS "$1\r\nx\r\n:5\r\n", 1, SYSTEM, "x", 5),

    /* no such token: kind nil, whatever else */
    RECORD("*3\r\n" NILB NILB NILB, 0, UNKNOWN, NULL, -1),
    RECORD("*4\r\n" NILB NILB NILB ":-2\r\n", 1, UNKNOWN, NULL, -2),
    RECORD("*3\r\n" WSB NILB "$1\r\nx\r\n", 0, UNKNOWN, NULL, -1),

    /* a record wsgate can't use */
    RECORD("*3\r\n$35\r\n6ba7b811-9dad-11d1-80b4-00c04fd430c\r\n" KW NILB, 0,
           MALFORMED, NULL, -1),
    RECORD("*3\r\n" NILB KW NILB, 0, MALFORMED, NULL, -1),
    RECORD("*3\r\n:1\r\n" KW NILB, 0, MALFORMED, NULL, -1),
    RECORD("*3\r\n" WSB KS NILB, 0, MALFORMED, NULL, -1),
    RECORD("*3\r\n" WSB KS "$0\r\n\r\n", 0, MALFORMED, NULL, -1),
    RECORD("*3\r\n" WSB "$9\r\nWorkspace\r\n" NILB, 0, MALFORMED, NULL, -1),
    RECORD("*3\r\n" WSB "+workspace\r\n" NILB, 0, WORKSPACE, WS, -1),
    RECORD("*3\r\n" WSB "-workspace\r\n" NILB, 0, MALFORMED, NULL, -1),
    RECORD("*3\r\n" WSB ":1\r\n" NILB, 0, MALFORMED, NULL, -1),
    RECORD("*3\r\n" WSB "*0\r\n" NILB, 0, MALFORMED, NULL, -1),
    RECORD("*3\r\n" WSB "$4\r\nuser\r\n" NILB, 0, MALFORMED, NULL, -1),

    /* not the lookup's reply */
    RECORD("-ERR wrong type\r\n", 0, ERROR, NULL, 0),
    RECORD("-NOSCRIPT x\r\n", 1, ERROR, NULL, 0),
    RECORD("$-1\r\n", 0, UNEXPECTED, NULL, 0),
    RECORD(":3\r\n", 0, UNEXPECTED, NULL, 0),
    RECORD("+OK\r\n", 0, UNEXPECTED, NULL, 0),
    RECORD("*4\r\n" WSB KW NILB ":1\r\n", 0, UNEXPECTED, NULL, 0),
    RECORD("*3\r\n" WSB KW NILB, 1, UNEXPECTED, NULL, 0),
    RECORD("*4\r\n" WSB KW NILB "$1\r\n1\r\n", 1, UNEXPECTED, NULL, 0),
    RECORD("*4\r\n" WSB KW NILB NILB, 1, UNEXPECTED, NULL, 0),
    RECORD("*2\r\n" WSB KW, 0, UNEXPECTED, NULL, 0),
    RECORD("*0\r\n", 1, UNEXPECTED, NULL, 0),
};


static void
test_reply_record(void)
{
    int                              err, rc;
    size_t                           i;
    ngx_http_wsgate_reply_t         *r;
    ngx_http_wsgate_token_record_t   rec;

    for (i = 0; i < sizeof(record_cases) / sizeof(record_cases[0]); i++) {
        UNIT_ROW(record_cases[i].line);

        r = reply_parse(record_cases[i].resp, record_cases[i].len, 0, &err);

        CHECK(r != NULL);

        if (r == NULL) {
            continue;
        }

        memset(&rec, 0, sizeof(rec));
        rec.pttl = 12345;

        rc = ngx_http_wsgate_reply_record(r, record_cases[i].with_pttl, &rec);

        CHECK_INT(rc, record_cases[i].want);

        if (rc >= NGX_HTTP_WSGATE_RECORD_UNKNOWN) {
            CHECK_INT(rec.pttl, record_cases[i].pttl);
        }

        if (record_cases[i].id != NULL) {
            CHECK_MEM(rec.id.data, rec.id.len, record_cases[i].id,
                      strlen(record_cases[i].id));
        }

        ngx_http_wsgate_reply_free(r);
    }

    UNIT_ROW_END();
}


typedef struct {
    int          line;
    const char  *resp;
    size_t       len;
    int          want;
    size_t       nkeys;
} invalidation_case_t;


#define INVAL(resp, want, n)                                                  \
    { __LINE__, resp, sizeof(resp) - 1, NGX_HTTP_WSGATE_INVALIDATE_ ## want, \
      n }

#define MSG    "*3\r\n$7\r\nmessage\r\n$20\r\n" CHANNEL "\r\n"
#define KEY    "$77\r\n" PREFIX DIGEST "\r\n"


static const invalidation_case_t  invalidation_cases[] = {
    INVAL(MSG "*1\r\n" KEY, KEYS, 1),
    INVAL(MSG "*3\r\n" KEY "$1\r\nx\r\n:1\r\n", KEYS, 3),
    INVAL(MSG "*0\r\n", KEYS, 0),
    INVAL(MSG KEY, KEYS, 1),
    INVAL(MSG "$-1\r\n", FLUSH, 0),
    INVAL(MSG "*-1\r\n", FLUSH, 0),
    INVAL(MSG ":1\r\n", FLUSH, 0),
    INVAL(MSG "-ERR\r\n", FLUSH, 0),
    INVAL("*3\r\n$7\r\nmessage\r\n$19\r\n__redis__:invalidat\r\n" KEY, NONE,
          0),
    INVAL("*3\r\n$7\r\nmessage\r\n$20\r\n__REDIS__:invalidate\r\n" KEY, NONE,
          0),
    INVAL("*3\r\n$7\r\nmessage\r\n-" CHANNEL "\r\n" KEY, NONE, 0),
    INVAL("*3\r\n$9\r\nsubscribe\r\n$20\r\n" CHANNEL "\r\n:1\r\n", NONE, 0),
    INVAL("*2\r\n$7\r\nmessage\r\n$20\r\n" CHANNEL "\r\n", NONE, 0),
    INVAL(KEY, NONE, 0),
};


static void
test_reply_invalidation(void)
{
    int                        err, rc;
    size_t                     i, n;
    ngx_http_wsgate_reply_t   *r, **keys;

    for (i = 0;
         i < sizeof(invalidation_cases) / sizeof(invalidation_cases[0]);
         i++)
    {
        UNIT_ROW(invalidation_cases[i].line);

        r = reply_parse(invalidation_cases[i].resp, invalidation_cases[i].len,
                        0, &err);

        CHECK(r != NULL);

        if (r == NULL) {
            continue;
        }

        keys = NULL;
        n = 99;

        rc = ngx_http_wsgate_reply_invalidation(r, (u_char *) CHANNEL,
                                                sizeof(CHANNEL) - 1, &keys,
                                                &n);

        CHECK_INT(rc, invalidation_cases[i].want);

        if (rc == NGX_HTTP_WSGATE_INVALIDATE_KEYS) {
            CHECK_INT(n, invalidation_cases[i].nkeys);
            CHECK(n == 0 || keys != NULL);

            if (n > 0) {
                CHECK(ngx_http_wsgate_reply_is(keys[0], PREFIX DIGEST,
                                               sizeof(PREFIX DIGEST) - 1));
            }
        }

        ngx_http_wsgate_reply_free(r);
    }

    UNIT_ROW_END();
}


typedef struct {
    int          line;
    const char  *resp;
    size_t       len;
    int          ok;
} digest_case_t;


#define DIG(resp, ok)  { __LINE__, resp, sizeof(resp) - 1, ok }


static const digest_case_t  digest_cases[] = {
    DIG(KEY, 1),
    DIG("+" PREFIX DIGEST "\r\n", 1),
    DIG("$77\r\n" PREFIX
        "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD\r\n",
        1),
    DIG("-" PREFIX DIGEST "\r\n", 0),
    DIG("$76\r\n" PREFIX
        "a7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\r\n",
        0),
    DIG("$78\r\n" PREFIX DIGEST "0\r\n", 0),
    DIG("$77\r\nwsgate:tokeN:" DIGEST "\r\n", 0),
    DIG("$77\r\nwsgate:token:"
        "ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\r\n",
        0),
    DIG("$77\r\nwsgate:token:"
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a \r\n",
        0),
    DIG("$77\r\nwsgate:token:"
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a\0\r\n",
        0),
    DIG("$-1\r\n", 0),
    DIG(":1\r\n", 0),
    DIG("*1\r\n" KEY, 0),
};


static void
test_reply_digest(void)
{
    int                       err, rc;
    size_t                    i;
    u_char                    digest[32];
    ngx_http_wsgate_reply_t  *r;

    for (i = 0; i < sizeof(digest_cases) / sizeof(digest_cases[0]); i++) {
        UNIT_ROW(digest_cases[i].line);

        r = reply_parse(digest_cases[i].resp, digest_cases[i].len, 0, &err);

        CHECK(r != NULL);

        if (r == NULL) {
            continue;
        }

        memset(digest, 0, sizeof(digest));

        rc = ngx_http_wsgate_reply_digest(r, (u_char *) PREFIX,
                                          sizeof(PREFIX) - 1, digest,
                                          sizeof(digest));

        CHECK_INT(rc, digest_cases[i].ok ? 0 : -1);

        if (rc == 0) {
            CHECK_MEM(digest, sizeof(digest), digest_bytes,
                      sizeof(digest_bytes));
        }

        ngx_http_wsgate_reply_free(r);
    }

    UNIT_ROW_END();
}


void
test_reply(void)
{
    test_reply_values();
    test_reply_stream();
    test_reply_predicates();
    test_reply_record();
    test_reply_invalidation();
    test_reply_digest();
}
