
/*
 * Copyright (C) wsgate authors
 *
 * Pure helpers for bearer tokens: no nginx types, no allocation, so that
 * t/unit, fuzzers and the operator CLI link them alone.
 */


#ifndef _NGX_HTTP_WSGATE_TOKEN_H_INCLUDED_
#define _NGX_HTTP_WSGATE_TOKEN_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>


#define NGX_HTTP_WSGATE_TOKEN_MIN      16
#define NGX_HTTP_WSGATE_TOKEN_MAX      512
#define NGX_HTTP_WSGATE_DIGEST_LEN     64     /* sha256, lowercase hex */
#define NGX_HTTP_WSGATE_SHA256_LEN     32     /* sha256, raw */
#define NGX_HTTP_WSGATE_PREFIX_LEN     8      /* the most of a token logged */


/*
 * Parses one Authorization header value.  The scheme "Bearer" is matched
 * case-insensitively and must be followed by one or more spaces; the token
 * must be an RFC 6750 b64token of TOKEN_MIN..TOKEN_MAX characters, with
 * nothing but optional trailing spaces after it.  On success returns 0 and
 * points *token into value; otherwise returns -1.
 *
 * Precisely: *( SP / HTAB ) "Bearer" 1*SP b64token *( SP / HTAB ), where
 * b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
 * and its length, "=" padding included, is 16..512.  A tab between the
 * scheme and the token, a second token, a comma, CR, LF or NUL: -1.
 */
int ngx_http_wsgate_bearer_parse(const u_char *value, size_t len,
    const u_char **token, size_t *token_len);

/* Writes sha256(in), 32 bytes; 0 or -1. */
int ngx_http_wsgate_sha256(const u_char *in, size_t len, u_char *out);

/* Writes sha256(in) as 64 lowercase hex characters (no NUL); 0 or -1. */
int ngx_http_wsgate_sha256_hex(const u_char *in, size_t len, u_char *out);

/* Base64url without padding of len bytes; out holds 4 * ceil(len/3) bytes.
 * Returns the number of characters written. */
size_t ngx_http_wsgate_base64url_encode(const u_char *in, size_t len,
    u_char *out);


#endif /* _NGX_HTTP_WSGATE_TOKEN_H_INCLUDED_ */
