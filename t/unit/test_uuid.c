
/*
 * Copyright (C) wsgate authors
 */


#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "ngx_http_wsgate_uuid.h"


#define NS_URL  "6ba7b811-9dad-11d1-80b4-00c04fd430c8"
#define NS_DNS  "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
#define UUID1   "123e4567-e89b-12d3-a456-426614174000"


static const u_char  ns_url_bytes[16] = {
    0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
    0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8
};


typedef struct {
    int          line;
    const char  *in;
    size_t       len;
    int          ok;
} uuid_parse_case_t;


#define PARSE(in, ok)  { __LINE__, in, sizeof(in) - 1, ok }


static const uuid_parse_case_t  parse_cases[] = {
    PARSE(NS_URL, 1),
    PARSE("6BA7B811-9DAD-11D1-80B4-00C04FD430C8", 1),
    PARSE("6Ba7b811-9dAd-11d1-80B4-00c04fd430C8", 1),
    PARSE("00000000-0000-0000-0000-000000000000", 1),
    PARSE("ffffffff-ffff-ffff-ffff-ffffffffffff", 1),
    PARSE(UUID1, 1),

    /* wrong length */
    PARSE("", 0),
    PARSE("6ba7b811-9dad-11d1-80b4-00c04fd430c", 0),
    PARSE("6ba7b811-9dad-11d1-80b4-00c04fd430c80", 0),
    PARSE(" 6ba7b811-9dad-11d1-80b4-00c04fd430c8", 0),
    PARSE("6ba7b811-9dad-11d1-80b4-00c04fd430c8 ", 0),
    PARSE("6ba7b811-9dad-11d1-80b4-00c04fd430c8\n", 0),
    PARSE("{6ba7b811-9dad-11d1-80b4-00c04fd430c8}", 0),
    PARSE("urn:uuid:6ba7b811-9dad-11d1-80b4-00c04fd430c8", 0),
    PARSE("6ba7b8119dad11d180b400c04fd430c8", 0),

    /* 36 characters, not the canonical form */
    PARSE("6ba7b8119-dad-11d1-80b4-00c04fd430c8", 0),
    PARSE("6ba7b811-9dad-11d180-b4-00c04fd430c8", 0),
    PARSE("6ba7b811-9dad-11d1-80b400c04fd430c8-", 0),
    PARSE("-6ba7b81-9dad-11d1-80b4-00c04fd430c8", 0),
    PARSE("6ba7b811_9dad_11d1_80b4_00c04fd430c8", 0),
    PARSE("6ba7b811-9dad-11d1-80b4-00c04fd430cg", 0),
    PARSE("g6a7b811-9dad-11d1-80b4-00c04fd430c8", 0),
    PARSE("6ba7b811-9dad-11d1-80b4-00c04fd430:8", 0),
    PARSE("6ba7b811-9dad-11d1-80b4-00c04fd430`8", 0),
    PARSE("6ba7b811-9dad-11d1-80b4-00c04fd430@8", 0),
    PARSE("6ba7b811-9dad-11d1-80b4-00c04fd430G8", 0),
    PARSE("6ba7b811-9dad-11d1-80b4-00c04fd430 8", 0),
    PARSE("6ba7b811-9dad-11d1-80b4-00c04fd430\08", 0),
    PARSE("6ba7b811-9dad-11d1-80b4-00c04fd430\xc8" "8", 0),
    PARSE("------------------------------------", 0),
    PARSE("system:restart-context-0000000000000", 0),
};


static void
test_uuid_parse(void)
{
    size_t                    i;
    u_char                    out[16], *buf;
    const uuid_parse_case_t  *t;

    for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        t = &parse_cases[i];
        UNIT_ROW(t->line);

        buf = unit_dup(t->in, t->len);

        CHECK_INT(ngx_http_wsgate_uuid_parse(buf, t->len, NULL),
                  t->ok ? 0 : -1);
        CHECK_INT(ngx_http_wsgate_uuid_parse(buf, t->len, out),
                  t->ok ? 0 : -1);

        free(buf);
    }

    UNIT_ROW_END();

    /* the bytes, either case */

    memset(out, 0, sizeof(out));
    CHECK_INT(ngx_http_wsgate_uuid_parse((const u_char *) NS_URL, 36, out), 0);
    CHECK_MEM(out, 16, ns_url_bytes, 16);

    memset(out, 0, sizeof(out));
    CHECK_INT(ngx_http_wsgate_uuid_parse(
                  (const u_char *) "6BA7B811-9DAD-11D1-80B4-00C04FD430C8", 36,
                  out), 0);
    CHECK_MEM(out, 16, ns_url_bytes, 16);

    /* only len bytes count: a UUID followed by more */

    CHECK_INT(ngx_http_wsgate_uuid_parse((const u_char *) NS_URL "-ffff", 36,
                                         out), 0);
    CHECK_INT(ngx_http_wsgate_uuid_parse((const u_char *) NS_URL "-ffff", 41,
                                         out), -1);
    CHECK_INT(ngx_http_wsgate_uuid_parse((const u_char *) NS_URL, 35, out),
              -1);
}


static void
test_uuid_format(void)
{
    size_t  i;
    u_char  out[NGX_HTTP_WSGATE_UUID_LEN + 1], bin[16], back[16];

    memset(out, '#', sizeof(out));
    ngx_http_wsgate_uuid_format(ns_url_bytes, out);
    CHECK_MEM(out, 36, NS_URL, 36);
    CHECK_INT(out[36], '#');

    for (i = 0; i < 16; i++) {
        bin[i] = (u_char) (i * 17);
    }

    ngx_http_wsgate_uuid_format(bin, out);
    CHECK_MEM(out, 36, "00112233-4455-6677-8899-aabbccddeeff", 36);

    CHECK_INT(ngx_http_wsgate_uuid_parse(out, 36, back), 0);
    CHECK_MEM(back, 16, bin, 16);

    memset(bin, 0xff, sizeof(bin));
    ngx_http_wsgate_uuid_format(bin, out);
    CHECK_MEM(out, 36, "ffffffff-ffff-ffff-ffff-ffffffffffff", 36);
}


typedef struct {
    int          line;
    const char  *ns;
    const char  *name;
    size_t       len;           /* (size_t) -1: a run of 'a', see below */
    const char  *want;
} uuid_v5_case_t;


/* all from python3: str(uuid.uuid5(uuid.UUID(ns), name)) */

static const uuid_v5_case_t  v5_cases[] = {
    { __LINE__, NS_URL, "system:scheduler", 16,
      "db57ccad-2abd-5fe0-ba3c-84eacd9eafe4" },
    { __LINE__, NS_URL, "system:restart-context", 22,
      "1a6dd07d-3c32-5fad-a541-9b52f879b82d" },
    { __LINE__, NS_URL, "webhook:github", 14,
      "bf48cadf-d1ba-5c8f-afc6-c6c7a2933081" },
    { __LINE__, NS_URL, "channel:slack", 13,
      "dacaa87f-391b-5684-99c7-611d981e2b52" },
    { __LINE__, NS_URL, "test:x", 6,
      "956e7879-9499-5963-968e-cf8c548e8c27" },
    { __LINE__, NS_URL, "", 0,
      "1b4db7eb-4057-5ddf-91e0-36dec72071f5" },
    { __LINE__, NS_URL, "\xc3\xa9", 2,
      "10e1d6de-dc68-53f0-883a-30ec870dd739" },
    { __LINE__, NS_DNS, "python.org", 10,
      "886313e1-3b8a-5372-9b90-0c9aee199e5d" },
    { __LINE__, UUID1, "system:scheduler", 16,
      "92ab95bc-2b4b-5ae8-9e1b-f883e984c019" },

    /* only len bytes of the name */
    { __LINE__, NS_URL, "system:scheduler-and-more", 16,
      "db57ccad-2abd-5fe0-ba3c-84eacd9eafe4" },

    /* around the stack buffer, and long: "a" * len */
    { __LINE__, NS_URL, NULL, 256,
      "59d8036c-1988-5410-8393-6e32011c846d" },
    { __LINE__, NS_URL, NULL, 257,
      "ced9e573-31ae-5ccb-a531-f3b93784da4f" },
    { __LINE__, NS_URL, NULL, 1000,
      "7f46a8f9-f8ba-5a67-983a-ffc2101475df" },
};


static void
test_uuid_v5(void)
{
    size_t                 i;
    u_char                 ns[16], out[NGX_HTTP_WSGATE_UUID_LEN + 1], *name;
    const uuid_v5_case_t  *t;

    for (i = 0; i < sizeof(v5_cases) / sizeof(v5_cases[0]); i++) {
        t = &v5_cases[i];
        UNIT_ROW(t->line);

        CHECK_INT(ngx_http_wsgate_uuid_parse((const u_char *) t->ns, 36, ns),
                  0);

        if (t->name != NULL) {
            name = unit_dup(t->name, t->len);

        } else {
            name = malloc(t->len);
            memset(name, 'a', t->len);
        }

        memset(out, '#', sizeof(out));

        CHECK_INT(ngx_http_wsgate_uuid_v5(ns, name, t->len, out), 0);
        CHECK_MEM(out, 36, t->want, 36);
        CHECK_INT(out[36], '#');

        /* version 5, RFC 4122 variant */
        CHECK_INT(out[14], '5');
        CHECK(out[19] == '8' || out[19] == '9' || out[19] == 'a'
              || out[19] == 'b');

        free(name);
    }

    UNIT_ROW_END();

    /* the result is a UUID to the parser, and stable */

    CHECK_INT(ngx_http_wsgate_uuid_v5(ns_url_bytes,
                                      (const u_char *) "system:scheduler", 16,
                                      out), 0);
    CHECK_INT(ngx_http_wsgate_uuid_parse(out, 36, NULL), 0);
    CHECK_INT(ngx_http_wsgate_uuid_v5(ns_url_bytes, NULL, 0, out), 0);
    CHECK_MEM(out, 36, "1b4db7eb-4057-5ddf-91e0-36dec72071f5", 36);
}


typedef struct {
    int          line;
    const char  *a;
    const char  *b;
    int          want;
} uuid_equal_case_t;


static const uuid_equal_case_t  equal_cases[] = {
    { __LINE__, NS_URL, NS_URL, 1 },
    { __LINE__, NS_URL, "6BA7B811-9DAD-11D1-80B4-00C04FD430C8", 1 },
    { __LINE__, "6Ba7b811-9dad-11D1-80b4-00c04fd430c8",
      "6bA7b811-9dad-11d1-80B4-00c04fd430c8", 1 },
    { __LINE__, NS_URL, NS_DNS, 0 },
    { __LINE__, NS_URL, UUID1, 0 },
    { __LINE__, NS_URL, "6ba7b811-9dad-11d1-80b4-00c04fd430c9", 0 },
    { __LINE__, NS_URL, "", 0 },
    { __LINE__, "", "", 0 },
    { __LINE__, NS_URL, NS_URL " ", 0 },
    { __LINE__, NS_URL, "6ba7b8119dad11d180b400c04fd430c8", 0 },
    { __LINE__, "system:restart-context", "system:restart-context", 0 },
    { __LINE__, "6ba7b811-9dad-11d1-80b4-00c04fd430cg",
      "6ba7b811-9dad-11d1-80b4-00c04fd430cg", 0 },
};


static void
test_uuid_equal(void)
{
    size_t                    i, alen, blen;
    u_char                   *a, *b;
    const uuid_equal_case_t  *t;

    for (i = 0; i < sizeof(equal_cases) / sizeof(equal_cases[0]); i++) {
        t = &equal_cases[i];
        UNIT_ROW(t->line);

        alen = strlen(t->a);
        blen = strlen(t->b);
        a = unit_dup(t->a, alen);
        b = unit_dup(t->b, blen);

        CHECK_INT(ngx_http_wsgate_uuid_equal(a, alen, b, blen), t->want);
        CHECK_INT(ngx_http_wsgate_uuid_equal(b, blen, a, alen), t->want);

        free(a);
        free(b);
    }

    UNIT_ROW_END();

    /* lengths, not terminators */

    CHECK_INT(ngx_http_wsgate_uuid_equal((const u_char *) NS_URL "x", 36,
                                         (const u_char *) NS_URL "y", 36), 1);
    CHECK_INT(ngx_http_wsgate_uuid_equal((const u_char *) NS_URL "x", 37,
                                         (const u_char *) NS_URL "x", 37), 0);
    CHECK_INT(ngx_http_wsgate_uuid_equal((const u_char *) NS_URL, 36,
                                         (const u_char *) NS_URL, 35), 0);
}


void
test_uuid(void)
{
    test_uuid_parse();
    test_uuid_format();
    test_uuid_v5();
    test_uuid_equal();
}
