
/*
 * Copyright (C) wsgate authors
 */


#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "ngx_http_wsgate_token.h"


/* 43 characters: base64url of 32 bytes, as the platform issues them */
#define T43  "q3l8Zk0RkF9wE2m4xYbV7nCtP1sJhGdLrAeUoWiQzX0"
#define T16  "abcdefghijklmnop"
#define T15  "abcdefghijklmno"

#define SHA256_EMPTY                                                          \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA256_ABC                                                            \
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA256_A1000                                                          \
    "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"
#define SHA256_0_31                                                           \
    "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd"


typedef struct {
    int          line;
    const char  *in;
    size_t       len;
    const char  *token;         /* NULL: refused */
} bearer_case_t;


#define BEARER(in, token)  { __LINE__, in, sizeof(in) - 1, token }


static const bearer_case_t  bearer_cases[] = {

    /* the scheme, any case */
    BEARER("Bearer " T43, T43),
    BEARER("bearer " T43, T43),
    BEARER("BEARER " T43, T43),
    BEARER("bEaReR " T43, T43),

    /* one space or more, spaces only */
    BEARER("Bearer   " T43, T43),
    BEARER("Bearer\t" T43, NULL),
    BEARER("Bearer \t" T43, NULL),
    BEARER("Bearer" T43, NULL),
    BEARER("Bearer\r\n " T43, NULL),
    BEARER("Bearer\xa0" T43, NULL),

    /* leading and trailing whitespace */
    BEARER(" Bearer " T43, T43),
    BEARER(" \t Bearer " T43, T43),
    BEARER("Bearer " T43 " ", T43),
    BEARER("Bearer " T43 "\t", T43),
    BEARER("Bearer " T43 " \t  ", T43),
    BEARER("Bearer " T43 "\r", NULL),
    BEARER("Bearer " T43 "\n", NULL),

    /* nothing else */
    BEARER("", NULL),
    BEARER(" ", NULL),
    BEARER("Bearer", NULL),
    BEARER("Bearer ", NULL),
    BEARER("Bearer    ", NULL),
    BEARER("Bear", NULL),
    BEARER("Beare " T43, NULL),
    BEARER("Bearerx " T43, NULL),
    BEARER("Bearer: " T43, NULL),
    BEARER("Basic " T43, NULL),
    BEARER("Basic dXNlcjpwYXNzd29yZA==", NULL),
    BEARER("Token " T43, NULL),
    BEARER(T43, NULL),
    BEARER("Bearer " T43 " " T43, NULL),
    BEARER("Bearer " T43 ",", NULL),
    BEARER("Bearer " T43 ", Bearer " T43, NULL),
    BEARER("Bearer \"" T43 "\"", NULL),
    BEARER("Bearer token=" T43, NULL),

    /* length 16..512 (513 and 512 are built in code) */
    BEARER("Bearer " T15, NULL),
    BEARER("Bearer " T16, T16),
    BEARER("Bearer " T15 "=", T15 "="),
    BEARER("Bearer " "abcdefghijklmn==", "abcdefghijklmn=="),

    /* the b64token alphabet */
    BEARER("Bearer " "ABCXYZabcxyz0189-._~+/", "ABCXYZabcxyz0189-._~+/"),
    BEARER("Bearer " T43 "=", T43 "="),
    BEARER("Bearer " T43 "==", T43 "=="),
    BEARER("Bearer " T43 "=====", T43 "====="),
    BEARER("Bearer " "================", NULL),
    BEARER("Bearer " "=" T43, NULL),
    BEARER("Bearer " "abcdefgh=ijklmnopq", NULL),
    BEARER("Bearer " T43 "=a", NULL),
    BEARER("Bearer " T43 "!", NULL),
    BEARER("Bearer " T43 "%", NULL),
    BEARER("Bearer " T43 ":", NULL),
    BEARER("Bearer " T43 "@", NULL),
    BEARER("Bearer " T43 "\\", NULL),
    BEARER("Bearer " T43 "*", NULL),
    BEARER("Bearer " T43 ";", NULL),
    BEARER("Bearer " "q3l8Zk0RkF9wE2m4\xc3\xa9xYbV7nCtP1sJhG", NULL),
    BEARER("Bearer " "q3l8Zk0RkF9wE2m4\0xYbV7nCtP1sJhG", NULL),
    BEARER("Bearer " T43 "\0", NULL),
    BEARER("\0Bearer " T43, NULL),
};


static void
test_bearer_table(void)
{
    int                   rc;
    size_t                i, token_len;
    u_char               *buf;
    const u_char         *token;
    const bearer_case_t  *t;

    for (i = 0; i < sizeof(bearer_cases) / sizeof(bearer_cases[0]); i++) {
        t = &bearer_cases[i];
        UNIT_ROW(t->line);

        buf = unit_dup(t->in, t->len);
        token = NULL;
        token_len = 0;

        rc = ngx_http_wsgate_bearer_parse(buf, t->len, &token, &token_len);

        if (t->token == NULL) {
            CHECK_INT(rc, -1);

        } else {
            CHECK_INT(rc, 0);
            CHECK(token >= buf && token + token_len <= buf + t->len);

            if (rc == 0) {
                CHECK_MEM(token, token_len, t->token, strlen(t->token));
            }
        }

        free(buf);
    }

    UNIT_ROW_END();
}


static void
test_bearer_lengths(void)
{
    int            rc;
    size_t         n, len, token_len;
    u_char        *buf;
    const u_char  *token;

    /* "Bearer " + n characters, n around both limits */

    for (n = 0; n <= NGX_HTTP_WSGATE_TOKEN_MAX + 2; n++) {
        len = 7 + n;
        buf = malloc(len);
        memcpy(buf, "Bearer ", 7);
        memset(buf + 7, 'A', n);

        unit_case("token of %zu characters", n);
        token = NULL;
        token_len = 0;

        rc = ngx_http_wsgate_bearer_parse(buf, len, &token, &token_len);

        if (n >= NGX_HTTP_WSGATE_TOKEN_MIN && n <= NGX_HTTP_WSGATE_TOKEN_MAX) {
            CHECK_INT(rc, 0);
            CHECK_INT(token_len, n);
            CHECK(token == buf + 7);

        } else {
            CHECK_INT(rc, -1);
        }

        free(buf);
    }

    UNIT_ROW_END();

    CHECK_INT(NGX_HTTP_WSGATE_TOKEN_MIN, 16);
    CHECK_INT(NGX_HTTP_WSGATE_TOKEN_MAX, 512);

    /* padding counts towards the limit */

    buf = malloc(7 + 513);
    memcpy(buf, "Bearer ", 7);
    memset(buf + 7, 'A', 510);
    memcpy(buf + 7 + 510, "==", 2);

    CHECK_INT(ngx_http_wsgate_bearer_parse(buf, 7 + 512, &token, &token_len),
              0);
    CHECK_INT(token_len, 512);

    buf[7 + 512] = '=';
    CHECK_INT(ngx_http_wsgate_bearer_parse(buf, 7 + 513, &token, &token_len),
              -1);

    free(buf);
}


/*
 * Every byte value inside a token: accepted exactly when RFC 6750's
 * b64token alphabet has it ("=" only as trailing padding, so not here).
 */

static void
test_bearer_bytes(void)
{
    int            rc, want;
    size_t         c, token_len;
    u_char         buf[7 + 16 + 1 + 16];
    const u_char  *token;

    static const char  alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        "-._~+/";

    memcpy(buf, "Bearer ", 7);
    memset(buf + 7, 'a', sizeof(buf) - 7);

    for (c = 0; c < 256; c++) {
        buf[7 + 16] = (u_char) c;
        want = (c != 0 && strchr(alphabet, (int) c) != NULL) ? 0 : -1;

        unit_case("byte 0x%02x inside the token", (unsigned) c);

        rc = ngx_http_wsgate_bearer_parse(buf, sizeof(buf), &token,
                                          &token_len);
        CHECK_INT(rc, want);

        if (want == 0) {
            CHECK_INT(token_len, 16 + 1 + 16);
        }
    }

    UNIT_ROW_END();
}


static void
test_bearer_unterminated(void)
{
    size_t         token_len;
    const u_char  *token;

    static const char  in[] = "Bearer " T43 "!!!!" T43;

    /* the bytes after len must not count, whatever they are */

    CHECK_INT(ngx_http_wsgate_bearer_parse((const u_char *) in, 7 + 43,
                                           &token, &token_len), 0);
    CHECK_INT(token_len, 43);
    CHECK(token == (const u_char *) in + 7);

    CHECK_INT(ngx_http_wsgate_bearer_parse((const u_char *) in, 7 + 44,
                                           &token, &token_len), -1);

    /* cut inside the token: 15 characters are too few */

    CHECK_INT(ngx_http_wsgate_bearer_parse((const u_char *) in, 7 + 15,
                                           &token, &token_len), -1);
    CHECK_INT(ngx_http_wsgate_bearer_parse((const u_char *) in, 7 + 16,
                                           &token, &token_len), 0);
    CHECK_INT(token_len, 16);

    /* cut inside the scheme */

    CHECK_INT(ngx_http_wsgate_bearer_parse((const u_char *) in, 5,
                                           &token, &token_len), -1);
    CHECK_INT(ngx_http_wsgate_bearer_parse((const u_char *) in, 0,
                                           &token, &token_len), -1);
}


static void
test_sha256_hex(void)
{
    size_t   i;
    u_char   out[NGX_HTTP_WSGATE_DIGEST_LEN + 1];
    u_char   big[1000], bin[32];

    static const struct {
        int          line;
        const char  *in;
        size_t       len;
        const char  *hex;
    } cases[] = {
        { __LINE__, "", 0, SHA256_EMPTY },
        { __LINE__, "abc", 3, SHA256_ABC },
        /* only len bytes are hashed */
        { __LINE__, "abcdef", 3, SHA256_ABC },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        UNIT_ROW(cases[i].line);

        memset(out, '#', sizeof(out));
        CHECK_INT(ngx_http_wsgate_sha256_hex((const u_char *) cases[i].in,
                                             cases[i].len, out), 0);
        CHECK_MEM(out, NGX_HTTP_WSGATE_DIGEST_LEN, cases[i].hex, 64);
        CHECK_INT(out[NGX_HTTP_WSGATE_DIGEST_LEN], '#');
    }

    UNIT_ROW_END();

    memset(big, 'a', sizeof(big));
    CHECK_INT(ngx_http_wsgate_sha256_hex(big, sizeof(big), out), 0);
    CHECK_MEM(out, 64, SHA256_A1000, 64);

    for (i = 0; i < sizeof(bin); i++) {
        bin[i] = (u_char) i;
    }

    CHECK_INT(ngx_http_wsgate_sha256_hex(bin, sizeof(bin), out), 0);
    CHECK_MEM(out, 64, SHA256_0_31, 64);

    /* NULL is the empty input; NULL with a length is an error */
    CHECK_INT(ngx_http_wsgate_sha256_hex(NULL, 0, out), 0);
    CHECK_MEM(out, 64, SHA256_EMPTY, 64);
    CHECK_INT(ngx_http_wsgate_sha256_hex(NULL, 1, out), -1);

    /* the digest of a token as the CLI stores it */
    CHECK_INT(ngx_http_wsgate_sha256_hex((const u_char *) T43, 43, out), 0);

    for (i = 0; i < 64; i++) {
        if (!((out[i] >= '0' && out[i] <= '9')
              || (out[i] >= 'a' && out[i] <= 'f')))
        {
            break;
        }
    }

    CHECK_INT(i, 64);
}


static void
test_base64url(void)
{
    size_t   i, n;
    u_char   out[64], bin[32];

    static const struct {
        int          line;
        const char  *in;
        size_t       len;
        const char  *out;
    } cases[] = {
        { __LINE__, "", 0, "" },
        { __LINE__, "f", 1, "Zg" },
        { __LINE__, "fo", 2, "Zm8" },
        { __LINE__, "foo", 3, "Zm9v" },
        { __LINE__, "foob", 4, "Zm9vYg" },
        { __LINE__, "fooba", 5, "Zm9vYmE" },
        { __LINE__, "foobar", 6, "Zm9vYmFy" },
        /* the url-safe alphabet: "-" and "_", never "+" and "/" */
        { __LINE__, "\xfb\xff\xbf", 3, "-_-_" },
        { __LINE__, "\xfb\xff", 2, "-_8" },
        { __LINE__, "\0\0\0", 3, "AAAA" },
        /* only len bytes */
        { __LINE__, "foobar", 4, "Zm9vYg" },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        UNIT_ROW(cases[i].line);

        memset(out, '#', sizeof(out));
        n = ngx_http_wsgate_base64url_encode((const u_char *) cases[i].in,
                                             cases[i].len, out);
        CHECK_MEM(out, n, cases[i].out, strlen(cases[i].out));
        CHECK_INT(out[n], '#');
    }

    UNIT_ROW_END();

    for (i = 0; i < sizeof(bin); i++) {
        bin[i] = (u_char) i;
    }

    n = ngx_http_wsgate_base64url_encode(bin, sizeof(bin), out);
    CHECK_INT(n, 43);
    CHECK_MEM(out, n, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", 43);

    /* a 32-byte token is a valid bearer token */
    {
        size_t         token_len;
        u_char         header[7 + 43];
        const u_char  *token;

        memcpy(header, "Bearer ", 7);
        memcpy(header + 7, out, 43);

        CHECK_INT(ngx_http_wsgate_bearer_parse(header, sizeof(header),
                                               &token, &token_len), 0);
        CHECK_INT(token_len, 43);
    }
}


void
test_token(void)
{
    test_bearer_table();
    test_bearer_lengths();
    test_bearer_bytes();
    test_bearer_unterminated();
    test_sha256_hex();
    test_base64url();
}
