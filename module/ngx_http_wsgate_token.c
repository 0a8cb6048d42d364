
/*
 * Copyright (C) wsgate authors
 */


#include <stdint.h>
#include <string.h>

/*
 * SHA256_Init() and its kin are deprecated in OpenSSL 3 but kept (see
 * ngx_http_wsgate_sha256()); nginx's own ngx_event_openssl.h suppresses
 * the warnings the same way.
 */
#ifndef OPENSSL_SUPPRESS_DEPRECATED
#define OPENSSL_SUPPRESS_DEPRECATED
#endif

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "ngx_http_wsgate_token.h"
#include "ngx_http_wsgate_uuid.h"


int
ngx_http_wsgate_bearer_parse(const u_char *value, size_t len,
    const u_char **token, size_t *token_len)
{
    size_t         n;
    const u_char  *p, *last, *start;

    static const u_char  scheme[] = "bearer";

    /*
     * ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/": a byte each, not
     * a bit, for the loop that runs over every character of every token
     */

    static const u_char  b64token[256] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x00 */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x10 */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1,  /* 0x20 + - . / */
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,  /* 0x30 0-9 */
        0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x40 A-O */
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,  /* 0x50 P-Z _ */
        0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x60 a-o */
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0,  /* 0x70 p-z ~ */
        /* 0x80 - 0xff: 0 */
    };

    p = value;
    last = value + len;

    /* nginx strips leading whitespace already; accept it all the same */

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if ((size_t) (last - p) < sizeof(scheme) - 1) {
        return -1;
    }

    for (n = 0; n < sizeof(scheme) - 1; n++) {
        if ((p[n] | 0x20) != scheme[n]) {
            return -1;
        }
    }

    p += sizeof(scheme) - 1;

    /* 1*SP between the scheme and the credentials (RFC 7235) */

    if (p == last || *p != ' ') {
        return -1;
    }

    while (p < last && *p == ' ') {
        p++;
    }

    /*
     * b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" )
     *            *"="
     */

    start = p;

    while (p < last && b64token[*p]) {
        p++;
    }

    if (p == start) {
        return -1;
    }

    while (p < last && *p == '=') {
        p++;
    }

    n = p - start;

    if (n < NGX_HTTP_WSGATE_TOKEN_MIN || n > NGX_HTTP_WSGATE_TOKEN_MAX) {
        return -1;
    }

    /* optional trailing whitespace, then nothing */

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p != last) {
        return -1;
    }

    *token = start;
    *token_len = n;

    return 0;
}


/*
 * Called for every request.  With OpenSSL 3 the EVP interface costs more
 * than the digest of a token itself: EVP_sha256() makes every
 * EVP_DigestInit_ex() look the implementation up in the provider store,
 * and even with the digest fetched once and the context reused, each
 * init frees and allocates the provider's context (about 650
 * instructions around a one-block SHA-NI compression of about 150
 * cycles).  The low-level SHA256_*() functions, deprecated in OpenSSL 3
 * but still built by every distribution, run the same assembly on a
 * context on the stack; EVP is kept for a library built without them.
 */

#if (OPENSSL_VERSION_NUMBER >= 0x30000000L && defined OPENSSL_NO_DEPRECATED_3_0)

int
ngx_http_wsgate_sha256(const u_char *in, size_t len, u_char *out)
{
    u_char        md[EVP_MAX_MD_SIZE];
    unsigned int  mdlen;

    static EVP_MD_CTX    *ctx;
    static const EVP_MD  *sha256;
    static const u_char   empty[1] = { 0 };

    if (in == NULL) {
        if (len != 0) {
            return -1;
        }

        in = empty;
    }

    if (sha256 == NULL) {
        sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
        if (sha256 == NULL) {
            return -1;
        }
    }

    if (ctx == NULL) {
        ctx = EVP_MD_CTX_new();
        if (ctx == NULL) {
            return -1;
        }
    }

    if (EVP_DigestInit_ex(ctx, sha256, NULL) != 1
        || EVP_DigestUpdate(ctx, in, len) != 1
        || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1
        || mdlen != NGX_HTTP_WSGATE_SHA256_LEN)
    {
        return -1;
    }

    memcpy(out, md, NGX_HTTP_WSGATE_SHA256_LEN);

    return 0;
}

#else

int
ngx_http_wsgate_sha256(const u_char *in, size_t len, u_char *out)
{
    SHA256_CTX  c;

    static const u_char  empty[1] = { 0 };

    if (in == NULL) {
        if (len != 0) {
            return -1;
        }

        in = empty;
    }

    if (SHA256_Init(&c) != 1
        || SHA256_Update(&c, in, len) != 1
        || SHA256_Final(out, &c) != 1)
    {
        return -1;
    }

    return 0;
}

#endif


int
ngx_http_wsgate_sha256_hex(const u_char *in, size_t len, u_char *out)
{
    u_char  md[NGX_HTTP_WSGATE_SHA256_LEN];

    if (ngx_http_wsgate_sha256(in, len, md) != 0) {
        return -1;
    }

    (void) ngx_http_wsgate_hex_dump(out, md, NGX_HTTP_WSGATE_SHA256_LEN);

    return 0;
}


size_t
ngx_http_wsgate_base64url_encode(const u_char *in, size_t len, u_char *out)
{
    u_char  *d;

    static const u_char  basis64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    d = out;

    while (len > 2) {
        *d++ = basis64[(in[0] >> 2) & 0x3f];
        *d++ = basis64[((in[0] & 0x03) << 4) | (in[1] >> 4)];
        *d++ = basis64[((in[1] & 0x0f) << 2) | (in[2] >> 6)];
        *d++ = basis64[in[2] & 0x3f];

        in += 3;
        len -= 3;
    }

    if (len) {
        *d++ = basis64[(in[0] >> 2) & 0x3f];

        if (len == 1) {
            *d++ = basis64[(in[0] & 0x03) << 4];

        } else {
            *d++ = basis64[((in[0] & 0x03) << 4) | (in[1] >> 4)];
            *d++ = basis64[(in[1] & 0x0f) << 2];
        }
    }

    return d - out;
}

