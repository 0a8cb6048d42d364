
/*
 * Copyright (C) wsgate authors
 *
 * Pure request validators: the register payload, its push URL (and the
 * addresses its host name resolves to), the A2A JSON-RPC envelope and
 * the raw request path.  They read plain bytes and return a verdict;
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
#define NGX_HTTP_WSGATE_URL_TEREDO       NGX_HTTP_WSGATE_BLOCKED("teredo")
#define NGX_HTTP_WSGATE_URL_METADATA     NGX_HTTP_WSGATE_BLOCKED("metadata")
#define NGX_HTTP_WSGATE_URL_INTERNAL     "internal host name"

/* the nginx side's, when a name resolved to nothing */
#define NGX_HTTP_WSGATE_URL_UNRESOLVED   "host does not resolve"

/* a host name is at most 253 characters without its trailing dot */
#define NGX_HTTP_WSGATE_HOST_MAX         253

/* ngx_http_wsgate_path_check() */
#define NGX_HTTP_WSGATE_PATH_SLASH       "encoded slash"
#define NGX_HTTP_WSGATE_PATH_BACKSLASH   "encoded backslash"
#define NGX_HTTP_WSGATE_PATH_DOT         "encoded dot segment"
#define NGX_HTTP_WSGATE_PATH_PARAM       "path parameter"
#define NGX_HTTP_WSGATE_PATH_DOTDOT      "dot-dot segment"

/* ngx_http_wsgate_register_check(): verdict fields and reasons */
#define NGX_HTTP_WSGATE_REG_NOT_JSON     "not valid JSON"
#define NGX_HTTP_WSGATE_REG_BODY_OBJECT  "not a JSON object"
#define NGX_HTTP_WSGATE_REG_NUL          "NUL character not allowed"
#define NGX_HTTP_WSGATE_REG_DUPLICATE    "duplicate key"
#define NGX_HTTP_WSGATE_REG_FOLD_DUP     "duplicate key after case folding"
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
#define NGX_HTTP_WSGATE_A2A_NUL_KEY      "NUL character in a key"
#define NGX_HTTP_WSGATE_A2A_NUL_METHOD   "NUL character in method"
#define NGX_HTTP_WSGATE_A2A_NUL_ID       "NUL character in id"
#define NGX_HTTP_WSGATE_A2A_FOLD_DUP     "duplicate key after case folding"


typedef struct {
    const char  *field;     /* "body", "id", "url", "agent_card", ... */
    const char  *reason;    /* a short, stable, lower-case sentence */

    /*
     * A valid payload whose push URL names a host that must be resolved
     * before it can be judged (see ngx_http_wsgate_url_host()): that
     * name, without a trailing dot, not NUL-terminated.  host_len is 0
     * otherwise, and always when the payload is refused.
     */
    size_t       host_len;
    u_char       host[NGX_HTTP_WSGATE_HOST_MAX];
} ngx_http_wsgate_verdict_t;


/*
 * Checks a push URL.  Returns NULL when it is acceptable, else a static
 * reason string.  allow_private admits RFC 1918 and fd00::/8 literals and
 * the name "localhost".
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
 *
 * Names (any case, with or without the trailing dot) are not resolved
 * here.  "metadata" and every name ending in ".internal" or ".local"
 * ("metadata.google.internal", mDNS) are an internal host name, refused
 * always.  "localhost" and every name ending in ".localhost" (RFC 6761:
 * they resolve to loopback) are refused as loopback, as 127.0.0.1 is,
 * unless allow_private.  Any other name passes: ngx_http_wsgate_url_host()
 * tells the caller to resolve it and ngx_http_wsgate_addr_check() judges
 * each address.
 *
 * Literals go through ngx_http_wsgate_addr_check(), below.
 */
const char *ngx_http_wsgate_url_check(const u_char *url, size_t len,
    int allow_private);

/*
 * For a URL that ngx_http_wsgate_url_check() accepted: 1 when its host is
 * a DNS name to resolve (not an IP literal, not "localhost" or a name in
 * it), with *host and *host_len set to that name inside url, without its
 * trailing dot; else 0.  A URL that is not valid gives 0 as well.
 */
int ngx_http_wsgate_url_host(const u_char *url, size_t len,
    const u_char **host, size_t *host_len);

/*
 * Judges one address, of a literal or of a resolved name: family AF_INET
 * (addr is 4 bytes) or AF_INET6 (16 bytes), network byte order.  Returns
 * NULL or the static reason a URL with that literal gets ("invalid host"
 * for another family).
 *
 * The cloud metadata addresses are refused always, allow_private or not,
 * and also inside IPv6 (mapped, NAT64, 6to4, compatible):
 * 169.254.169.254 (AWS, GCP, Azure, OpenStack, ...), 100.100.100.200
 * (Alibaba), 168.63.129.16 (Azure wire server, a public address),
 * fd00:ec2::254 (AWS) and fd20:ce::254 (GCP) give "metadata".
 *
 * Blocked IPv4: 0/8 unspecified, 127/8 loopback, 169.254/16 link-local,
 * 224/4 multicast, 240/4 (with 255.255.255.255), 192.0.0/24 and
 * 198.18/15 reserved, 192.0.2/24, 198.51.100/24, 203.0.113/24
 * documentation, 100.64/10 cgnat, 10/8, 172.16/12, 192.168/16 private
 * (allowed with allow_private).
 * Blocked IPv6: :: unspecified, ::1 loopback, fe80::/10 link-local,
 * fec0::/10 reserved, ff00::/8 multicast, fc00::/8 unique-local (always),
 * fd00::/8 unique-local (allowed with allow_private), 2001:db8::/32
 * documentation, 2001:2::/48, 100::/64 and 64:ff9b:1::/48 reserved,
 * 2001::/32 teredo (a tunnel whose far end is an IPv4 address outside
 * these checks).
 * Checked as the embedded IPv4 address: ::ffff:0:0/96 (mapped),
 * ::ffff:0:0:0/96 (translated), 64:ff9b::/96 (NAT64), 2002::/16 (6to4,
 * bits 16..47).  IPv4-compatible ::/96: the embedded address's reason if
 * it is blocked, else reserved.
 */
const char *ngx_http_wsgate_addr_check(int family, const u_char *addr,
    int allow_private);

/*
 * Checks a raw request URI (r->unparsed_uri: the path and maybe "?" and
 * a query) for a path that a backend may read differently from nginx.
 * Only the path, up to the first "?", is judged.  Returns NULL, or the
 * first of these found, left to right: "%2F" (any hex case) "encoded
 * slash", "%5C" "encoded backslash", ";" "path parameter", a segment of
 * dots only with any of them as "%2E" ("/%2e%2e/", "/.%2E", "/%2e/")
 * "encoded dot segment", a ".." segment ("/a/../b", "/..", "/a/..")
 * "dot-dot segment".  "/a..b/", "/a%2Eb" and "/.well-known/" pass.
 */
const char *ngx_http_wsgate_path_check(const u_char *uri, size_t len);

/*
 * JSON keys are compared as Go's encoding/json matches a key to a field
 * (case-insensitively): decoded as UTF-8 (an invalid byte is U+FFFD, as
 * Go decodes it), then each code point simply case folded by this fixed,
 * locale-independent table:
 *
 *   A-Z -> a-z
 *   U+00C0-U+00DE (not U+00D7) -> +0x20, U+00B5 -> U+03BC (micro, mu)
 *   U+0100-U+017E: each capital of a case pair -> its small letter,
 *   U+0130 (dotted I), U+0131 (dotless i) -> "i", U+0178 -> U+00FF,
 *   U+017F (long s) -> "s"
 *   U+0391-U+03A9 (Greek capitals) -> +0x20, U+03C2 (final sigma) -> U+03C3
 *   U+0410-U+042F -> +0x20, U+0400-U+040F -> +0x50 (Cyrillic capitals)
 *   U+1E9E (capital sharp s) -> U+00DF
 *   U+212A (Kelvin sign) -> "k", U+212B (Angstrom sign) -> U+00E5
 *
 * Every other code point is itself.  The table holds every character
 * that Go folds to an ASCII letter (K, long s, dotted and dotless i), so
 * no key can reach an ASCII field name unnoticed, and the common scripts'
 * letters besides.
 */

/*
 * Checks a RegisterPayload body.  Returns 0 when valid, or -1 and fills
 * v.  Whenever "id" itself is valid, even if a later field is not, its 36
 * characters (as sent) are copied into id; the caller detects that by
 * pre-filling id (e.g. with zeros).  On 0, v->host_len says whether the
 * URL's host name must be resolved and checked still (see above).
 *
 * Order: the body ("not valid JSON", "not a JSON object", "NUL character
 * not allowed"), then "id", "url", "agent_card", "agent_card.name", each
 * field as "duplicate key", "missing", then its type and value, and last
 * the body again: "duplicate key after case folding".  "url" carries the
 * url_check() reason.
 *
 * The body must be strict JSON: only JSON whitespace after the value, no
 * raw control characters, and no \u0000 escape anywhere (cJSON's strings
 * end at a NUL, a backend's do not).  A checked key that appears twice
 * under case folding ("id" and "ID", "\u0131d") is that field's "duplicate
 * key": parsers disagree on which one wins (cJSON the first, most others
 * the last, Go's encoding/json matches case-insensitively).  The checked
 * keys themselves match exactly.  Two other keys of one object, at any
 * depth, equal under case folding are the body's "duplicate key after
 * case folding".
 */
int ngx_http_wsgate_register_check(const u_char *body, size_t len,
    int allow_private, ngx_http_wsgate_verdict_t *v, u_char *id);

/*
 * Checks a JSON-RPC 2.0 request envelope; NULL or a static reason.
 * Order: JSON (strict, as above, but \u0000 is allowed: it is payload
 * data), an object (a batch array is "not a JSON object"), no \u0000 in
 * any key of any object, "jsonrpc", "method", "id"; a missing "id" (a
 * notification) is refused; last, two keys of one object equal under
 * case folding.  "jsonrpc", "method" and "id" must not appear twice under
 * case folding (their own "duplicate ... member"), and their string
 * values must not hold \u0000 ("jsonrpc" then is not "2.0").
 */
const char *ngx_http_wsgate_a2a_check(const u_char *body, size_t len);


#endif /* _NGX_HTTP_WSGATE_CHECK_H_INCLUDED_ */
