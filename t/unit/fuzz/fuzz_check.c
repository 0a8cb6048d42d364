
/*
 * Copyright (C) wsgate authors
 *
 * libFuzzer harness for the pure helpers: the register payload, the A2A
 * envelope, the push URL and its addresses, the raw request path and the
 * Authorization header.  Not part of the
 * unit build (the glob of t/unit takes no subdirectory); build and run:
 *
 *   clang -g -O1 -std=gnu99 -fsanitize=fuzzer,address,undefined \
 *       -Imodule module/ngx_http_wsgate_{token,uuid,check}.c \
 *       t/unit/fuzz/fuzz_check.c -lcjson -lcrypto -o build/fuzz-check
 *   build/fuzz-check -dict=t/unit/fuzz/fuzz.dict -max_total_time=60 \
 *       build/fuzz-corpus t/unit/fuzz/seeds
 *
 * Besides the sanitizers, it traps when an answer breaks the contract.
 */


#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "ngx_http_wsgate_token.h"
#include "ngx_http_wsgate_uuid.h"
#include "ngx_http_wsgate_check.h"


#define fuzz_assert(expr)                                                     \
    if (!(expr)) {                                                            \
        __builtin_trap();                                                     \
    }


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static const char  *url_reasons[] = {
    NGX_HTTP_WSGATE_URL_INVALID,
    NGX_HTTP_WSGATE_URL_SCHEME,
    NGX_HTTP_WSGATE_URL_NO_HOST,
    NGX_HTTP_WSGATE_URL_USERINFO,
    NGX_HTTP_WSGATE_URL_PORT,
    NGX_HTTP_WSGATE_URL_HOST,
    NGX_HTTP_WSGATE_URL_NUMERIC,
    NGX_HTTP_WSGATE_URL_UNSPECIFIED,
    NGX_HTTP_WSGATE_URL_LOOPBACK,
    NGX_HTTP_WSGATE_URL_LINK_LOCAL,
    NGX_HTTP_WSGATE_URL_MULTICAST,
    NGX_HTTP_WSGATE_URL_PRIVATE,
    NGX_HTTP_WSGATE_URL_UNIQUE_LOCAL,
    NGX_HTTP_WSGATE_URL_DOCUMENTATION,
    NGX_HTTP_WSGATE_URL_CGNAT,
    NGX_HTTP_WSGATE_URL_RESERVED,
    NGX_HTTP_WSGATE_URL_TEREDO,
    NGX_HTTP_WSGATE_URL_METADATA,
    NGX_HTTP_WSGATE_URL_INTERNAL,
};


static const char  *path_reasons[] = {
    NGX_HTTP_WSGATE_PATH_SLASH,
    NGX_HTTP_WSGATE_PATH_BACKSLASH,
    NGX_HTTP_WSGATE_PATH_DOT,
    NGX_HTTP_WSGATE_PATH_PARAM,
    NGX_HTTP_WSGATE_PATH_DOTDOT,
};


static int
fuzz_reason(const char *reason, const char **list, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (strcmp(reason, list[i]) == 0) {
            return 1;
        }
    }

    return 0;
}


#define fuzz_url_reason(r)                                                    \
    fuzz_reason(r, url_reasons, sizeof(url_reasons) / sizeof(url_reasons[0]))
#define fuzz_path_reason(r)                                                   \
    fuzz_reason(r, path_reasons,                                              \
                sizeof(path_reasons) / sizeof(path_reasons[0]))


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int            rc, rc2;
    size_t         i, token_len, host_len;
    u_char         id[NGX_HTTP_WSGATE_UUID_LEN], id2[NGX_HTTP_WSGATE_UUID_LEN];
    u_char         bin[16], text[NGX_HTTP_WSGATE_UUID_LEN];
    u_char         hex[NGX_HTTP_WSGATE_DIGEST_LEN], b64[700];
    const char    *r0, *r1;
    const u_char  *token, *host;

    ngx_http_wsgate_verdict_t  v, v2;

    /* the register payload */

    rc = ngx_http_wsgate_register_check(data, size, 0, &v, id);
    rc2 = ngx_http_wsgate_register_check(data, size, 1, &v2, id2);

    if (rc == 0) {
        fuzz_assert(ngx_http_wsgate_uuid_parse(id, sizeof(id), NULL) == 0);

        /* allowing private addresses never refuses more */
        fuzz_assert(rc2 == 0);
        fuzz_assert(memcmp(id, id2, sizeof(id)) == 0);

    } else {
        fuzz_assert(rc == -1);
        fuzz_assert(v.field != NULL && v.reason != NULL);
        fuzz_assert(v.reason[0] != '\0');
    }

    if (rc2 != 0) {
        fuzz_assert(v2.field != NULL && v2.reason != NULL);
        fuzz_assert(v2.host_len == 0);
    }

    if (rc != 0) {
        fuzz_assert(v.host_len == 0);
    }

    fuzz_assert(v.host_len <= NGX_HTTP_WSGATE_HOST_MAX);

    /* the A2A envelope */

    r0 = ngx_http_wsgate_a2a_check(data, size);
    fuzz_assert(r0 == NULL || r0[0] != '\0');

    /* the push URL */

    r0 = ngx_http_wsgate_url_check(data, size, 0);
    r1 = ngx_http_wsgate_url_check(data, size, 1);

    fuzz_assert(r0 == NULL || fuzz_url_reason(r0));
    fuzz_assert(r1 == NULL || fuzz_url_reason(r1));

    if (r0 == NULL) {
        fuzz_assert(r1 == NULL);

        /* an acceptable URL has no byte a header or a log would mind */
        for (i = 0; i < size; i++) {
            fuzz_assert(data[i] > 0x20 && data[i] < 0x7f && data[i] != '\\');
        }
    }

    if (r1 != NULL) {
        fuzz_assert(r0 != NULL);
    }

    /* a name to resolve: inside the URL, and the URL was accepted */

    if (ngx_http_wsgate_url_host(data, size, &host, &host_len)) {
        fuzz_assert(r0 == NULL);
        fuzz_assert(host > data && host + host_len <= data + size);
        fuzz_assert(host_len > 0 && host_len <= NGX_HTTP_WSGATE_HOST_MAX);
        fuzz_assert(host[host_len - 1] != '.');
    }

    /* one address: never more refused with allow_private */

    if (size >= 16) {
        r0 = ngx_http_wsgate_addr_check(AF_INET6, data, 0);
        r1 = ngx_http_wsgate_addr_check(AF_INET6, data, 1);
        fuzz_assert(r0 == NULL || fuzz_url_reason(r0));
        fuzz_assert(r1 == NULL || r0 != NULL);

        r0 = ngx_http_wsgate_addr_check(AF_INET, data, 0);
        r1 = ngx_http_wsgate_addr_check(AF_INET, data, 1);
        fuzz_assert(r0 == NULL || fuzz_url_reason(r0));
        fuzz_assert(r1 == NULL || r0 != NULL);
    }

    /* the raw request path */

    r0 = ngx_http_wsgate_path_check(data, size);
    fuzz_assert(r0 == NULL || fuzz_path_reason(r0));

    /* the Authorization header */

    token = NULL;
    token_len = 0;

    if (ngx_http_wsgate_bearer_parse(data, size, &token, &token_len) == 0) {
        fuzz_assert(token >= data && token + token_len <= data + size);
        fuzz_assert(token_len >= NGX_HTTP_WSGATE_TOKEN_MIN
                    && token_len <= NGX_HTTP_WSGATE_TOKEN_MAX);

        fuzz_assert(ngx_http_wsgate_sha256_hex(token, token_len, hex) == 0);
        fuzz_assert(ngx_http_wsgate_base64url_encode(token, token_len, b64)
                    <= sizeof(b64));
    }

    /* UUIDs: parse, format and compare agree */

    if (ngx_http_wsgate_uuid_parse(data, size, bin) == 0) {
        ngx_http_wsgate_uuid_format(bin, text);
        fuzz_assert(ngx_http_wsgate_uuid_equal(data, size, text,
                                               sizeof(text)));

    } else {
        fuzz_assert(!ngx_http_wsgate_uuid_equal(data, size, data, size));
    }

    if (size >= 16) {
        fuzz_assert(ngx_http_wsgate_uuid_v5(data, data + 16, size - 16, text)
                    == 0);
        fuzz_assert(ngx_http_wsgate_uuid_parse(text, sizeof(text), NULL) == 0);
        fuzz_assert(text[14] == '5');
    }

    return 0;
}
