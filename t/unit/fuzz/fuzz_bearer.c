
/*
 * Copyright (C) wsgate authors
 *
 * libFuzzer harness for the Authorization header: the input is one
 * header value.  ngx_http_wsgate_bearer_parse() must agree with a plain
 * reading of the grammar in ngx_http_wsgate_token.h, written again here
 * independently; an accepted token's digest and base64url form must be
 * what their definitions say.
 */


#include "fuzz.h"
#include "ngx_http_wsgate_token.h"
#include "ngx_http_wsgate_uuid.h"


static int
fuzz_b64token_char(u_char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9')
           || c == '-' || c == '.' || c == '_' || c == '~' || c == '+'
           || c == '/';
}


/*
 * *( SP / HTAB ) "Bearer" 1*SP b64token *( SP / HTAB ), the token
 * 16..512 characters: its offset and length, or -1
 */

static int
fuzz_bearer_reference(const u_char *v, size_t len, size_t *off, size_t *n)
{
    size_t  i, start, end;

    i = 0;

    while (i < len && (v[i] == ' ' || v[i] == '\t')) {
        i++;
    }

    if (len - i < 6 || !fuzz_case_equal(v + i, 6, "bearer")) {
        return -1;
    }

    i += 6;

    if (i == len || v[i] != ' ') {
        return -1;
    }

    while (i < len && v[i] == ' ') {
        i++;
    }

    start = i;

    while (i < len && fuzz_b64token_char(v[i])) {
        i++;
    }

    if (i == start) {
        return -1;
    }

    while (i < len && v[i] == '=') {
        i++;
    }

    end = i;

    while (i < len && (v[i] == ' ' || v[i] == '\t')) {
        i++;
    }

    if (i != len || end - start < 16 || end - start > 512) {
        return -1;
    }

    *off = start;
    *n = end - start;

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int            rc, ref;
    size_t         i, token_len, off, n, b64_len;
    u_char         raw[NGX_HTTP_WSGATE_SHA256_LEN];
    u_char         hex[NGX_HTTP_WSGATE_DIGEST_LEN];
    u_char         hex2[NGX_HTTP_WSGATE_DIGEST_LEN];
    u_char         b64[4 * ((NGX_HTTP_WSGATE_TOKEN_MAX + 2) / 3)];
    const u_char  *token;

    token = NULL;
    token_len = 0;
    off = 0;
    n = 0;

    rc = ngx_http_wsgate_bearer_parse(data, size, &token, &token_len);
    ref = fuzz_bearer_reference(data, size, &off, &n);

    fuzz_assert(rc == 0 || rc == -1);
    fuzz_assert(rc == ref);

    if (rc != 0) {
        return 0;
    }

    fuzz_assert(token == data + off && token_len == n);
    fuzz_assert(token_len >= NGX_HTTP_WSGATE_TOKEN_MIN
                && token_len <= NGX_HTTP_WSGATE_TOKEN_MAX);

    /* the digest: raw and hex agree */

    fuzz_assert(ngx_http_wsgate_sha256(token, token_len, raw) == 0);
    fuzz_assert(ngx_http_wsgate_sha256_hex(token, token_len, hex) == 0);

    ngx_http_wsgate_hex_dump(hex2, raw, sizeof(raw));
    fuzz_assert(memcmp(hex, hex2, sizeof(hex)) == 0);

    /* base64url without padding: 4 characters per 3 bytes, rounded up */

    b64_len = ngx_http_wsgate_base64url_encode(token, token_len, b64);

    fuzz_assert(b64_len == (4 * token_len + 2) / 3);
    fuzz_assert(b64_len <= sizeof(b64));

    for (i = 0; i < b64_len; i++) {
        fuzz_assert((b64[i] >= 'A' && b64[i] <= 'Z')
                    || (b64[i] >= 'a' && b64[i] <= 'z')
                    || (b64[i] >= '0' && b64[i] <= '9')
                    || b64[i] == '-' || b64[i] == '_');
    }

    return 0;
}
