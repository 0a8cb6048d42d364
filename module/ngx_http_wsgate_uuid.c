
/*
 * Copyright (C) wsgate authors
 */


#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ngx_http_wsgate_uuid.h"


/*
 * Names up to this length are hashed from a stack buffer; longer ones
 * (never seen in practice: system caller names are short) from the heap.
 */
#define NGX_HTTP_WSGATE_UUID_V5_STACK  256




/*
 * A hex digit's value, or -1: a table, read directly by the loops below
 * (every Redis reply's workspace id goes through ngx_http_wsgate_uuid_parse;
 * calling ngx_http_wsgate_hex_value() for each digit, through the PLT of a
 * shared module, was 1 % of an uncached request)
 */

static const signed char  ngx_http_wsgate_hex[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
     0,  1,  2,  3,  4,  5,  6,  7,  8,  9, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
};


int
ngx_http_wsgate_hex_value(u_char c)
{
    return ngx_http_wsgate_hex[c];
}


int
ngx_http_wsgate_hex_decode(u_char *dst, const u_char *src, size_t len)
{
    int  hi, lo;

    while (len--) {
        hi = ngx_http_wsgate_hex[*src++];
        lo = ngx_http_wsgate_hex[*src++];

        if (hi < 0 || lo < 0) {
            return -1;
        }

        *dst++ = (u_char) ((hi << 4) | lo);
    }

    return 0;
}


u_char *
ngx_http_wsgate_hex_dump(u_char *dst, const u_char *src, size_t len)
{
    /* a byte's two digits at once: every uncached lookup dumps a digest */

    static const u_char  hex[] =
        "000102030405060708090a0b0c0d0e0f"
        "101112131415161718191a1b1c1d1e1f"
        "202122232425262728292a2b2c2d2e2f"
        "303132333435363738393a3b3c3d3e3f"
        "404142434445464748494a4b4c4d4e4f"
        "505152535455565758595a5b5c5d5e5f"
        "606162636465666768696a6b6c6d6e6f"
        "707172737475767778797a7b7c7d7e7f"
        "808182838485868788898a8b8c8d8e8f"
        "909192939495969798999a9b9c9d9e9f"
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
        "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
        "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
        "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
        "e0e1e2e3e4e5e6e7e8e9eaebecedeeef"
        "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

    while (len--) {
        memcpy(dst, &hex[*src++ * 2], 2);
        dst += 2;
    }

    return dst;
}


int
ngx_http_wsgate_uuid_parse(const u_char *s, size_t len, u_char *out)
{
    int         hi, lo, bad;
    u_char      buf[16];
    size_t      n;

    /* where each byte's two digits start, between the dashes */

    static const u_char  pos[16] = {
        0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34
    };

    if (len != NGX_HTTP_WSGATE_UUID_LEN
        || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
    {
        return -1;
    }

    /* no branch per digit: a bad one makes bad negative */

    bad = 0;

    for (n = 0; n < 16; n++) {
        hi = ngx_http_wsgate_hex[s[pos[n]]];
        lo = ngx_http_wsgate_hex[s[pos[n] + 1]];

        bad |= hi | lo;
        buf[n] = (u_char) (((hi & 0x0f) << 4) | (lo & 0x0f));
    }

    if (bad < 0) {
        return -1;
    }

    if (out != NULL) {
        memcpy(out, buf, 16);
    }

    return 0;
}


void
ngx_http_wsgate_uuid_format(const u_char *uuid, u_char *out)
{
    size_t  i;

    for (i = 0; i < 16; i++) {

        if (i == 4 || i == 6 || i == 8 || i == 10) {
            *out++ = '-';
        }

        out = ngx_http_wsgate_hex_dump(out, &uuid[i], 1);
    }
}


int
ngx_http_wsgate_uuid_v5(const u_char *ns, const u_char *name, size_t len,
    u_char *out)
{
    int            rc;
    u_char        *buf;
    u_char         md[EVP_MAX_MD_SIZE];
    u_char         stack[16 + NGX_HTTP_WSGATE_UUID_V5_STACK];
    unsigned int   mdlen;

    /* RFC 4122 4.3: SHA-1 over the namespace bytes, then the name */

    if (len > NGX_HTTP_WSGATE_UUID_V5_STACK) {
        if (len > (size_t) -1 - 16) {
            return -1;
        }

        buf = malloc(16 + len);
        if (buf == NULL) {
            return -1;
        }

    } else {
        buf = stack;
    }

    memcpy(buf, ns, 16);

    if (len) {
        memcpy(buf + 16, name, len);
    }

    rc = EVP_Digest(buf, 16 + len, md, &mdlen, EVP_sha1(), NULL);

    if (buf != stack) {
        free(buf);
    }

    if (rc != 1 || mdlen < 16) {
        return -1;
    }

    md[6] = (md[6] & 0x0f) | 0x50;      /* version 5 */
    md[8] = (md[8] & 0x3f) | 0x80;      /* variant RFC 4122 */

    ngx_http_wsgate_uuid_format(md, out);

    return 0;
}


int
ngx_http_wsgate_uuid_equal(const u_char *a, size_t alen, const u_char *b,
    size_t blen)
{
    u_char  ua[16], ub[16];

    if (ngx_http_wsgate_uuid_parse(a, alen, ua) != 0
        || ngx_http_wsgate_uuid_parse(b, blen, ub) != 0)
    {
        return 0;
    }

    return memcmp(ua, ub, 16) == 0;
}
