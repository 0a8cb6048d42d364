
/*
 * Copyright (C) wsgate authors
 *
 * Pure UUID helpers (RFC 4122 text form, UUIDv5 via OpenSSL SHA-1).
 */


#ifndef _NGX_HTTP_WSGATE_UUID_H_INCLUDED_
#define _NGX_HTTP_WSGATE_UUID_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>


#define NGX_HTTP_WSGATE_UUID_LEN  36


/*
 * Parses the canonical 8-4-4-4-12 hex form (either case, nothing around
 * it) into 16 bytes.  Returns 0 or -1; out may be NULL to only validate.
 */
int ngx_http_wsgate_uuid_parse(const u_char *s, size_t len, u_char *out);

/* Formats 16 bytes as 36 lowercase characters (no NUL). */
void ngx_http_wsgate_uuid_format(const u_char *uuid, u_char *out);

/*
 * UUIDv5 of name in namespace ns (16 bytes), written as 36 lowercase
 * characters (no NUL), the same as Python's uuid.uuid5().  0 or -1.
 */
int ngx_http_wsgate_uuid_v5(const u_char *ns, const u_char *name,
    size_t len, u_char *out);

/* the value of one hex digit (either case), or -1 */
int ngx_http_wsgate_hex_value(u_char c);

/* 2 * len hex digits (either case) as len bytes; 0, or -1 if not hex */
int ngx_http_wsgate_hex_decode(u_char *dst, const u_char *src, size_t len);

/* len bytes as 2 * len lowercase hex digits (no NUL); returns the end */
u_char *ngx_http_wsgate_hex_dump(u_char *dst, const u_char *src, size_t len);

/*
 * 1 if a and b are the same UUID text ignoring hex case, else 0.  Both
 * must parse as UUIDs: two equal strings that are not UUIDs give 0.
 */
int ngx_http_wsgate_uuid_equal(const u_char *a, size_t alen,
    const u_char *b, size_t blen);


#endif /* _NGX_HTTP_WSGATE_UUID_H_INCLUDED_ */
