
/*
 * Copyright (C) wsgate authors
 *
 * Pure request-body validators: the register payload, its push URL, and
 * the A2A JSON-RPC envelope.  They read plain bytes and return a verdict;
 * they never allocate anything the caller must free.
 */


#ifndef _NGX_HTTP_WSGATE_CHECK_H_INCLUDED_
#define _NGX_HTTP_WSGATE_CHECK_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>
#include "ngx_http_wsgate_uuid.h"


/*
 * Reasons are static strings and part of the HTTP contract (they appear in
 * 400 bodies and in regfail records): change them only deliberately.
 */

/* ngx_http_wsgate_url_check(), in the order the URL is examined */
#define NGX_HTTP_WSGATE_URL_INVALID      "not a valid URL"
#define NGX_HTTP_WSGATE_URL_SCHEME       "scheme must be http or https"
#define NGX_HTTP_WSGATE_URL_NO_HOST      "missing host"
#define NGX_HTTP_WSGATE_URL_USERINFO     "userinfo not allowed"
#define NGX_HTTP_WSGATE_URL_PORT         "invalid port"
#define NGX_HTTP_WSGATE_URL_HOST         "invalid host"
#define NGX_HTTP_WSGATE_URL_NUMERIC      "non-canonical IP address"

#define NGX_HTTP_WSGATE_BLOCKED(range)                                      \
    "address in a blocked range (" range ")"

#define NGX_HTTP_WSGATE_URL_UNSPECIFIED  NGX_HTTP_WSGATE_BLOCKED("unspecified")
#define NGX_HTTP_WSGATE_URL_LOOPBACK     NGX_HTTP_WSGATE_BLOCKED("loopback")
#define NGX_HTTP_WSGATE_URL_LINK_LOCAL   NGX_HTTP_WSGATE_BLOCKED("link-local")
#define NGX_HTTP_WSGATE_URL_MULTICAST    NGX_HTTP_WSGATE_BLOCKED("multicast")
#define NGX_HTTP_WSGATE_URL_PRIVATE      NGX_HTTP_WSGATE_BLOCKED("private")
#define NGX_HTTP_WSGATE_URL_UNIQUE_LOCAL                                    \
    NGX_HTTP_WSGATE_BLOCKED("unique-local")
#define NGX_HTTP_WSGATE_URL_DOCUMENTATION                                   \
    NGX_HTTP_WSGATE_BLOCKED("documentation")
#define NGX_HTTP_WSGATE_URL_CGNAT        NGX_HTTP_WSGATE_BLOCKED("cgnat")
#define NGX_HTTP_WSGATE_URL_RESERVED     NGX_HTTP_WSGATE_BLOCKED("reserved")

/* ngx_http_wsgate_register_check(): verdict fields and reasons */
#define NGX_HTTP_WSGATE_REG_NOT_JSON     "not valid JSON"
#define NGX_HTTP_WSGATE_REG_BODY_OBJECT  "not a JSON object"
#define NGX_HTTP_WSGATE_REG_NUL          "NUL character not allowed"
#define NGX_HTTP_WSGATE_REG_DUPLICATE    "duplicate key"
#define NGX_HTTP_WSGATE_REG_MISSING      "missing"
#define NGX_HTTP_WSGATE_REG_NOT_STRING   "not a string"
#define NGX_HTTP_WSGATE_REG_NOT_UUID     "not a UUID"
#define NGX_HTTP_WSGATE_REG_NOT_OBJECT   "not an object"
#define NGX_HTTP_WSGATE_REG_EMPTY        "empty"

/* ngx_http_wsgate_a2a_check() */
#define NGX_HTTP_WSGATE_A2A_NOT_JSON     "not valid JSON"
#define NGX_HTTP_WSGATE_A2A_NOT_OBJECT   "not a JSON object"
#define NGX_HTTP_WSGATE_A2A_JSONRPC      "jsonrpc must be \"2.0\""
#define NGX_HTTP_WSGATE_A2A_METHOD       "method must be a string"
#define NGX_HTTP_WSGATE_A2A_ID           "id must be a string or a number"
#define NGX_HTTP_WSGATE_A2A_DUP_JSONRPC  "duplicate jsonrpc member"
#define NGX_HTTP_WSGATE_A2A_DUP_METHOD   "duplicate method member"
#define NGX_HTTP_WSGATE_A2A_DUP_ID       "duplicate id member"


typedef struct {
    const char  *field;     /* "body", "id", "url", "agent_card", ... */
    const char  *reason;    /* a short, stable, lower-case sentence */
} ngx_http_wsgate_verdict_t;


/*
 * Checks a push URL.  Returns NULL when it is acceptable, else a static
 * reason string.  allow_private admits RFC 1918 and fd00::/8 literals.
 *
 * The URL must be RFC 3986 characters only (no spaces, controls, "\\" or
 * non-ASCII bytes; "%" followed by two hex digits; "[" and "]" only around
 * an IPv6 host), an "http" or "https" scheme (any case), "//", a host, no
 * userinfo, and an optional decimal port 1..65535 (at most 5 digits).
 * A host is either a bracketed IPv6 literal (inet_pton, no zone id), a
 * canonical dotted quad (4 decimal parts 0..255, no leading zeros), or a
 * name of letters, digits, "-", "_" and "." (no empty label, labels up to
 * 63, names up to 253 characters, one trailing dot allowed).  A name whose
 * last label is numeric ("127.1", "2130706433", "0x7f.1", "0177.0.0.1",
 * "1.2.3.4.") is what browsers and resolvers read as an IPv4 address: it
 * is refused as a non-canonical IP address, whatever it would resolve to.
 * Names are not resolved: "localhost" is allowed by name.
 *
 * Blocked IPv4: 0/8 unspecified, 127/8 loopback, 169.254/16 link-local,
 * 224/4 multicast, 240/4 (with 255.255.255.255), 192.0.0/24 and
 * 198.18/15 reserved, 192.0.2/24, 198.51.100/24, 203.0.113/24
 * documentation, 100.64/10 cgnat, 10/8, 172.16/12, 192.168/16 private
 * (allowed with allow_private).
 * Blocked IPv6: :: unspecified, ::1 loopback, fe80::/10 link-local,
 * fec0::/10 reserved, ff00::/8 multicast, fc00::/8 unique-local (always),
 * fd00::/8 unique-local (allowed with allow_private), 2001:db8::/32
 * documentation, 2001:2::/48, 100::/64 and 64:ff9b:1::/48 reserved.
 * Checked as the embedded IPv4 address: ::ffff:0:0/96 (mapped),
 * ::ffff:0:0:0/96 (translated), 64:ff9b::/96 (NAT64), 2002::/16 (6to4,
 * bits 16..47).  IPv4-compatible ::/96: the embedded address's reason if
 * it is blocked, else reserved.
 */
const char *ngx_http_wsgate_url_check(const u_char *url, size_t len,
    int allow_private);

/*
 * Checks a RegisterPayload body.  Returns 0 when valid, or -1 and fills
 * v.  Whenever "id" itself is valid, even if a later field is not, its 36
 * characters (as sent) are copied into id; the caller detects that by
 * pre-filling id (e.g. with zeros).
 *
 * Order: the body ("not valid JSON", "not a JSON object", "NUL character
 * not allowed"), then "id", "url", "agent_card", "agent_card.name", each
 * field as "duplicate key", "missing", then its type and value.  "url"
 * carries the url_check() reason.
 *
 * The body must be strict JSON: only JSON whitespace after the value, no
 * raw control characters, and no \u0000 escape anywhere (cJSON's strings
 * end at a NUL, a backend's do not).  A checked key that appears twice in
 * any ASCII case ("id" and "ID") is a duplicate: parsers disagree on which
 * one wins (cJSON the first, most others the last, Go's encoding/json
 * matches case-insensitively).  Keys match exactly otherwise.
 */
int ngx_http_wsgate_register_check(const u_char *body, size_t len,
    int allow_private, ngx_http_wsgate_verdict_t *v, u_char *id);

/*
 * Checks a JSON-RPC 2.0 request envelope; NULL or a static reason.
 * Order: JSON (strict, as above, but \u0000 is allowed: it is payload
 * data), an object (a batch array is "not a JSON object"), "jsonrpc",
 * "method", "id"; a missing "id" (a notification) is refused.  "jsonrpc",
 * "method" and "id" must not appear twice in any ASCII case.
 */
const char *ngx_http_wsgate_a2a_check(const u_char *body, size_t len);


#endif /* _NGX_HTTP_WSGATE_CHECK_H_INCLUDED_ */
