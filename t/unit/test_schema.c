
/*
 * Copyright (C) wsgate authors
 *
 * The Redis data model (ngx_http_wsgate_schema.h): the keys, the state
 * rule, the system-caller name rule; and the one hex encoder.
 */


#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "ngx_http_wsgate_schema.h"
#include "ngx_http_wsgate_uuid.h"


#define DIGEST                                                                \
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define WS_LOWER  "6ba7b811-9dad-11d1-80b4-00c04fd430c8"
#define WS_UPPER  "6BA7B811-9DAD-11D1-80B4-00C04FD430C8"
#define WS_MIXED  "6Ba7b811-9dAd-11D1-80b4-00c04Fd430C8"


static const char *const  defaults[] = {
    "system:", "webhook:", "channel:", "test:"
};


static void
test_is_system_name(void)
{
    size_t   i;
    u_char  *buf;

    static const char *const  odd[] = { NULL, "x:" };
    static const char *const  none[] = { NULL, NULL };
    static const char *const  empty[] = { "" };
    static const char *const  upper[] = { "Team:" };

    static const struct {
        int          line;
        const char  *name;
        int          want;
    } cases[] = {
        { __LINE__, "system:restart-context", 1 },
        { __LINE__, "system:scheduler", 1 },
        { __LINE__, "system:", 1 },
        { __LINE__, "webhook:github", 1 },
        { __LINE__, "channel:slack", 1 },
        { __LINE__, "test:x", 1 },

        /* any ASCII case, as the gateway's forged-caller check */
        { __LINE__, "SYSTEM:x", 1 },
        { __LINE__, "System:", 1 },
        { __LINE__, "System:Restart", 1 },
        { __LINE__, "SYSTEM:scheduler", 1 },
        { __LINE__, "sYsTeM:scheduler", 1 },
        { __LINE__, "WebHook:GitHub", 1 },
        { __LINE__, "CHANNEL:", 1 },
        { __LINE__, "Test:x", 1 },

        { __LINE__, "system", 0 },
        { __LINE__, "SYSTEM", 0 },
        { __LINE__, "systemx", 0 },
        { __LINE__, "SYSTEMX:", 0 },
        { __LINE__, "system;x", 0 },
        /* 0x1a is ':' without 0x20: no bit-twiddled case folding */
        { __LINE__, "system\x1ax", 0 },
        { __LINE__, "SYSTEM\x1a", 0 },
        { __LINE__, " system:scheduler", 0 },
        { __LINE__, "xsystem:", 0 },
        { __LINE__, "sys", 0 },
        { __LINE__, "s", 0 },
        { __LINE__, "test", 0 },
        { __LINE__, WS_LOWER, 0 },
        { __LINE__, WS_UPPER, 0 },
        { __LINE__, "", 0 },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        UNIT_ROW(cases[i].line);

        buf = unit_dup(cases[i].name, strlen(cases[i].name));
        CHECK_INT(ngx_http_wsgate_is_system_name(buf, strlen(cases[i].name),
                                                 defaults, 4),
                  cases[i].want);
        free(buf);
    }

    UNIT_ROW_END();

    /* only len bytes: "SYSTEM:x" cut to "SYSTEM" */

    CHECK_INT(ngx_http_wsgate_is_system_name((const u_char *) "SYSTEM:x", 6,
                                             defaults, 4), 0);
    CHECK_INT(ngx_http_wsgate_is_system_name((const u_char *) "SYSTEM:x", 7,
                                             defaults, 4), 1);
    CHECK_INT(ngx_http_wsgate_is_system_name((const u_char *) "test:", 4,
                                             defaults, 4), 0);

    /* a short name is never read past its length */

    buf = unit_dup("te", 2);
    CHECK_INT(ngx_http_wsgate_is_system_name(buf, 2, defaults, 4), 0);
    free(buf);

    CHECK_INT(ngx_http_wsgate_is_system_name(NULL, 0, defaults, 4), 0);

    /* a prefix in upper case matches a name in lower case, too */

    CHECK_INT(ngx_http_wsgate_is_system_name((const u_char *) "team:x", 6,
                                             upper, 1), 1);
    CHECK_INT(ngx_http_wsgate_is_system_name((const u_char *) "TEAM:x", 6,
                                             upper, 1), 1);
    CHECK_INT(ngx_http_wsgate_is_system_name((const u_char *) "teams:x", 7,
                                             upper, 1), 0);

    /* no prefixes, NULL entries, an empty prefix */

    CHECK_INT(ngx_http_wsgate_is_system_name((const u_char *) "system:x", 8,
                                             defaults, 0), 0);
    CHECK_INT(ngx_http_wsgate_is_system_name((const u_char *) "system:x", 8,
                                             none, 2), 0);
    CHECK_INT(ngx_http_wsgate_is_system_name((const u_char *) "x:y", 3,
                                             odd, 2), 1);
    CHECK_INT(ngx_http_wsgate_is_system_name((const u_char *) "X:y", 3,
                                             odd, 2), 1);
    CHECK_INT(ngx_http_wsgate_is_system_name((const u_char *) "y:y", 3,
                                             odd, 2), 0);
    CHECK_INT(ngx_http_wsgate_is_system_name((const u_char *) "", 0,
                                             empty, 1), 1);
    CHECK_INT(ngx_http_wsgate_is_system_name((const u_char *) "anything", 8,
                                             empty, 1), 1);
    CHECK_INT(ngx_http_wsgate_is_system_name(NULL, 0, empty, 1), 1);
}


typedef struct {
    int                     line;
    ngx_http_wsgate_key_e   kind;
    const char             *prefix;
    const char             *id;
    const char             *key;
} key_case_t;


static const key_case_t  key_cases[] = {

    { __LINE__, NGX_HTTP_WSGATE_KEY_TOKEN, "wsgate:", DIGEST,
      "wsgate:token:" DIGEST },
    { __LINE__, NGX_HTTP_WSGATE_KEY_WS_TOKENS, "wsgate:", WS_LOWER,
      "wsgate:ws:{" WS_LOWER "}:tokens" },
    { __LINE__, NGX_HTTP_WSGATE_KEY_SYS_TOKENS, "wsgate:", "system:scheduler",
      "wsgate:sys:{system:scheduler}:tokens" },
    { __LINE__, NGX_HTTP_WSGATE_KEY_REGFAIL, "wsgate:", WS_LOWER,
      "wsgate:ws:{" WS_LOWER "}:regfail" },
    { __LINE__, NGX_HTTP_WSGATE_KEY_RESTART, "wsgate:", WS_LOWER,
      "wsgate:ws:{" WS_LOWER "}:restart" },
    { __LINE__, NGX_HTTP_WSGATE_KEY_WS_LOCK, "wsgate:", WS_UPPER,
      "wsgate:ws:{" WS_LOWER "}:lock" },
    { __LINE__, NGX_HTTP_WSGATE_KEY_SYS_LOCK, "wsgate:", "System:Restart",
      "wsgate:sys:{System:Restart}:lock" },

    /* a workspace UUID in lowercase, as the platform writes it */

    { __LINE__, NGX_HTTP_WSGATE_KEY_WS_TOKENS, "wsgate:", WS_UPPER,
      "wsgate:ws:{" WS_LOWER "}:tokens" },
    { __LINE__, NGX_HTTP_WSGATE_KEY_REGFAIL, "wsgate:", WS_UPPER,
      "wsgate:ws:{" WS_LOWER "}:regfail" },
    { __LINE__, NGX_HTTP_WSGATE_KEY_RESTART, "wsgate:", WS_MIXED,
      "wsgate:ws:{" WS_LOWER "}:restart" },

    /* only A-Z: '@' and '[' sit next to them */

    { __LINE__, NGX_HTTP_WSGATE_KEY_WS_TOKENS, "wsgate:", "@AZ[az`{",
      "wsgate:ws:{@az[az`{}:tokens" },

    /* digests and names as given */

    { __LINE__, NGX_HTTP_WSGATE_KEY_TOKEN, "wsgate:", "ABCdef0123",
      "wsgate:token:ABCdef0123" },
    { __LINE__, NGX_HTTP_WSGATE_KEY_SYS_TOKENS, "wsgate:", "System:Restart",
      "wsgate:sys:{System:Restart}:tokens" },

    /* the prefix as given, even with a workspace */

    { __LINE__, NGX_HTTP_WSGATE_KEY_WS_TOKENS, "MyApp:", WS_UPPER,
      "MyApp:ws:{" WS_LOWER "}:tokens" },
    { __LINE__, NGX_HTTP_WSGATE_KEY_TOKEN, "t1/", DIGEST,
      "t1/token:" DIGEST },
    { __LINE__, NGX_HTTP_WSGATE_KEY_RESTART, "a", WS_LOWER,
      "aws:{" WS_LOWER "}:restart" },

    /* no prefix */

    { __LINE__, NGX_HTTP_WSGATE_KEY_TOKEN, "", DIGEST, "token:" DIGEST },
    { __LINE__, NGX_HTTP_WSGATE_KEY_WS_TOKENS, "", WS_UPPER,
      "ws:{" WS_LOWER "}:tokens" },
    { __LINE__, NGX_HTTP_WSGATE_KEY_SYS_TOKENS, "", "test:x",
      "sys:{test:x}:tokens" },
    { __LINE__, NGX_HTTP_WSGATE_KEY_REGFAIL, "", WS_LOWER,
      "ws:{" WS_LOWER "}:regfail" },
    { __LINE__, NGX_HTTP_WSGATE_KEY_RESTART, "", WS_LOWER,
      "ws:{" WS_LOWER "}:restart" },

    /* no id */

    { __LINE__, NGX_HTTP_WSGATE_KEY_TOKEN, "wsgate:", "", "wsgate:token:" },
    { __LINE__, NGX_HTTP_WSGATE_KEY_REGFAIL, "", "", "ws:{}:regfail" },
};


static void
test_key(void)
{
    size_t             i, plen, ilen, klen;
    u_char             buf[256], *prefix, *id, *end, *exact;
    const key_case_t  *t;

    for (i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
        t = &key_cases[i];
        UNIT_ROW(t->line);

        plen = strlen(t->prefix);
        ilen = strlen(t->id);
        klen = strlen(t->key);

        prefix = unit_dup(t->prefix, plen);
        id = unit_dup(t->id, ilen);

        CHECK_INT(ngx_http_wsgate_key_len(t->kind, plen, ilen), klen);

        memset(buf, '#', sizeof(buf));
        end = ngx_http_wsgate_key(buf, t->kind, prefix, plen, id, ilen);

        CHECK_INT(end - buf, klen);
        CHECK_MEM(buf, (size_t) (end - buf), t->key, klen);
        CHECK_INT(buf[klen], '#');

        /* the id is read, never written */
        CHECK_MEM(id, ilen, t->id, ilen);

        /* into exactly key_len() bytes: ASan sees an overrun */

        if (ngx_http_wsgate_key_len(t->kind, plen, ilen) == klen) {
            exact = unit_dup(t->key, klen);
            memset(exact, '#', klen);

            end = ngx_http_wsgate_key(exact, t->kind, prefix, plen, id, ilen);

            CHECK_INT(end - exact, klen);
            CHECK_MEM(exact, klen, t->key, klen);

            free(exact);
        }

        free(prefix);
        free(id);
    }

    UNIT_ROW_END();

    /* no prefix at all: NULL with a zero length */

    memset(buf, '#', sizeof(buf));
    end = ngx_http_wsgate_key(buf, NGX_HTTP_WSGATE_KEY_WS_TOKENS, NULL, 0,
                              (const u_char *) WS_UPPER, 36);
    CHECK_MEM(buf, (size_t) (end - buf), "ws:{" WS_LOWER "}:tokens",
              sizeof("ws:{" WS_LOWER "}:tokens") - 1);

    /* only id_len bytes of the id */

    memset(buf, '#', sizeof(buf));
    end = ngx_http_wsgate_key(buf, NGX_HTTP_WSGATE_KEY_TOKEN,
                              (const u_char *) "p:", 2,
                              (const u_char *) DIGEST, 8);
    CHECK_MEM(buf, (size_t) (end - buf), "p:token:ba7816bf",
              sizeof("p:token:ba7816bf") - 1);
    CHECK_INT(buf[end - buf], '#');

    /* the length adds up for every kind, whatever the sizes */

    CHECK_INT(ngx_http_wsgate_key_len(NGX_HTTP_WSGATE_KEY_TOKEN, 0, 0),
              sizeof("token:") - 1);
    CHECK_INT(ngx_http_wsgate_key_len(NGX_HTTP_WSGATE_KEY_WS_TOKENS, 0, 0),
              sizeof("ws:{}:tokens") - 1);
    CHECK_INT(ngx_http_wsgate_key_len(NGX_HTTP_WSGATE_KEY_SYS_TOKENS, 0, 0),
              sizeof("sys:{}:tokens") - 1);
    CHECK_INT(ngx_http_wsgate_key_len(NGX_HTTP_WSGATE_KEY_REGFAIL, 0, 0),
              sizeof("ws:{}:regfail") - 1);
    CHECK_INT(ngx_http_wsgate_key_len(NGX_HTTP_WSGATE_KEY_RESTART, 0, 0),
              sizeof("ws:{}:restart") - 1);
    CHECK_INT(ngx_http_wsgate_key_len(NGX_HTTP_WSGATE_KEY_SYS_TOKENS, 128,
                                      256),
              128 + 256 + sizeof("sys:{}:tokens") - 1);
}


static void
test_state(void)
{
    size_t  i;

    static const struct {
        int        line;
        int        failed;
        uint64_t   at_ms;
        uint64_t   restart_ms;
        int        want;
    } cases[] = {

        /* no failure record: online, whatever the times */
        { __LINE__, 0, 0, 0, NGX_HTTP_WSGATE_STATE_ONLINE },
        { __LINE__, 0, 1717000000123ULL, 0, NGX_HTTP_WSGATE_STATE_ONLINE },
        { __LINE__, 0, 1717000000123ULL, 1717000000000ULL,
          NGX_HTTP_WSGATE_STATE_ONLINE },
        { __LINE__, 0, 0, 1717000000000ULL, NGX_HTTP_WSGATE_STATE_ONLINE },

        /* a failure and no open window: degraded */
        { __LINE__, 1, 1717000000123ULL, 0, NGX_HTTP_WSGATE_STATE_DEGRADED },
        { __LINE__, 1, 0, 0, NGX_HTTP_WSGATE_STATE_DEGRADED },
        { __LINE__, 1, UINT64_MAX, 0, NGX_HTTP_WSGATE_STATE_DEGRADED },

        /* a failure at or after the window's start: restarting */
        { __LINE__, 1, 1717000000000ULL, 1717000000000ULL,
          NGX_HTTP_WSGATE_STATE_RESTARTING },
        { __LINE__, 1, 1717000000001ULL, 1717000000000ULL,
          NGX_HTTP_WSGATE_STATE_RESTARTING },
        { __LINE__, 1, 1717000000123ULL, 1717000000000ULL,
          NGX_HTTP_WSGATE_STATE_RESTARTING },
        { __LINE__, 1, 1, 1, NGX_HTTP_WSGATE_STATE_RESTARTING },
        { __LINE__, 1, UINT64_MAX, UINT64_MAX,
          NGX_HTTP_WSGATE_STATE_RESTARTING },
        { __LINE__, 1, UINT64_MAX, 1, NGX_HTTP_WSGATE_STATE_RESTARTING },

        /* a failure before the window's start: degraded */
        { __LINE__, 1, 1716999999999ULL, 1717000000000ULL,
          NGX_HTTP_WSGATE_STATE_DEGRADED },
        { __LINE__, 1, 0, 1, NGX_HTTP_WSGATE_STATE_DEGRADED },
        { __LINE__, 1, 0, 1717000000000ULL, NGX_HTTP_WSGATE_STATE_DEGRADED },
        { __LINE__, 1, UINT64_MAX - 1, UINT64_MAX,
          NGX_HTTP_WSGATE_STATE_DEGRADED },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        UNIT_ROW(cases[i].line);

        CHECK_INT(ngx_http_wsgate_state(cases[i].failed, cases[i].at_ms,
                                        cases[i].restart_ms),
                  cases[i].want);
    }

    UNIT_ROW_END();
}


static void
test_state_name(void)
{
    CHECK_STR(ngx_http_wsgate_state_name(NGX_HTTP_WSGATE_STATE_NONE), "");
    CHECK_STR(ngx_http_wsgate_state_name(NGX_HTTP_WSGATE_STATE_ONLINE),
              "online");
    CHECK_STR(ngx_http_wsgate_state_name(NGX_HTTP_WSGATE_STATE_RESTARTING),
              "restarting");
    CHECK_STR(ngx_http_wsgate_state_name(NGX_HTTP_WSGATE_STATE_DEGRADED),
              "degraded");

    /* out of range: "", never a read outside the table */

    CHECK_STR(ngx_http_wsgate_state_name(-1), "");
    CHECK_STR(ngx_http_wsgate_state_name(NGX_HTTP_WSGATE_STATE_DEGRADED + 1),
              "");
    CHECK_STR(ngx_http_wsgate_state_name(INT_MAX), "");
    CHECK_STR(ngx_http_wsgate_state_name(INT_MIN), "");

    /* the rule and the names together */

    CHECK_STR(ngx_http_wsgate_state_name(ngx_http_wsgate_state(0, 0, 0)),
              "online");
    CHECK_STR(ngx_http_wsgate_state_name(ngx_http_wsgate_state(1, 5, 5)),
              "restarting");
    CHECK_STR(ngx_http_wsgate_state_name(ngx_http_wsgate_state(1, 4, 5)),
              "degraded");
}


static void
test_hex_dump(void)
{
    size_t   i;
    u_char   out[2 * 256 + 1], want[2 * 256 + 1], all[256], *src, *end;

    static const struct {
        int          line;
        const char  *in;
        size_t       len;
        const char  *hex;
    } cases[] = {
        { __LINE__, "", 0, "" },
        { __LINE__, "\x00", 1, "00" },
        { __LINE__, "\x0f", 1, "0f" },
        { __LINE__, "\xf0", 1, "f0" },
        { __LINE__, "\xff", 1, "ff" },
        { __LINE__, "\x00\x01\x0f\x10\x7f\x80\xab\xff", 8,
          "00010f107f80abff" },
        { __LINE__, "abc", 3, "616263" },
        /* only len bytes */
        { __LINE__, "abcdef", 2, "6162" },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        UNIT_ROW(cases[i].line);

        src = unit_dup(cases[i].in, cases[i].len);

        memset(out, '#', sizeof(out));
        end = ngx_http_wsgate_hex_dump(out, src, cases[i].len);

        CHECK_INT(end - out, 2 * cases[i].len);
        CHECK_MEM(out, (size_t) (end - out), cases[i].hex,
                  strlen(cases[i].hex));
        CHECK_INT(out[2 * cases[i].len], '#');

        free(src);
    }

    UNIT_ROW_END();

    /* every byte value, lowercase, against printf */

    for (i = 0; i < 256; i++) {
        all[i] = (u_char) i;
        snprintf((char *) &want[2 * i], 3, "%02x", (unsigned) i);
    }

    memset(out, '#', sizeof(out));
    end = ngx_http_wsgate_hex_dump(out, all, 256);

    CHECK_INT(end - out, 512);
    CHECK_MEM(out, 512, want, 512);
    CHECK_INT(out[512], '#');
}


/* the decoder: the dump's inverse, either case, nothing but hex */

static void
test_hex_decode(void)
{
    size_t   i;
    u_char   out[257], all[256], hex[2 * 256], upper[2 * 256];

    static const struct {
        int          line;
        const char  *hex;
        size_t       len;
        int          rc;
        const char  *out;
    } cases[] = {
        { __LINE__, "", 0, 0, "" },
        { __LINE__, "00", 1, 0, "\x00" },
        { __LINE__, "0f", 1, 0, "\x0f" },
        { __LINE__, "F0", 1, 0, "\xf0" },
        { __LINE__, "fF", 1, 0, "\xff" },
        { __LINE__, "616263", 3, 0, "abc" },
        /* only 2 * len digits are read */
        { __LINE__, "6162zz", 2, 0, "ab" },
        { __LINE__, "g0", 1, -1, NULL },
        { __LINE__, "0g", 1, -1, NULL },
        { __LINE__, "0 ", 1, -1, NULL },
        { __LINE__, "-1", 1, -1, NULL },
        { __LINE__, "6162:3", 3, -1, NULL },
        { __LINE__, "@0", 1, -1, NULL },
        { __LINE__, "`0", 1, -1, NULL },
        { __LINE__, "G0", 1, -1, NULL },
        { __LINE__, "/0", 1, -1, NULL },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        UNIT_ROW(cases[i].line);

        memset(out, '#', sizeof(out));

        CHECK_INT(ngx_http_wsgate_hex_decode(out,
                                             (const u_char *) cases[i].hex,
                                             cases[i].len),
                  cases[i].rc);

        if (cases[i].rc == 0) {
            CHECK_MEM(out, cases[i].len, cases[i].out, cases[i].len);
            CHECK_INT(out[cases[i].len], '#');
        }
    }

    UNIT_ROW_END();

    /* every byte value round-trips, in lowercase and in uppercase */

    for (i = 0; i < 256; i++) {
        all[i] = (u_char) i;
    }

    (void) ngx_http_wsgate_hex_dump(hex, all, 256);

    for (i = 0; i < sizeof(hex); i++) {
        upper[i] = (hex[i] >= 'a' && hex[i] <= 'f') ? hex[i] - 0x20 : hex[i];
    }

    memset(out, '#', sizeof(out));
    CHECK_INT(ngx_http_wsgate_hex_decode(out, hex, 256), 0);
    CHECK_MEM(out, 256, all, 256);
    CHECK_INT(out[256], '#');

    memset(out, '#', sizeof(out));
    CHECK_INT(ngx_http_wsgate_hex_decode(out, upper, 256), 0);
    CHECK_MEM(out, 256, all, 256);
}


void
test_schema(void)
{
    test_is_system_name();
    test_key();
    test_state();
    test_state_name();
    test_hex_dump();
    test_hex_decode();
}
