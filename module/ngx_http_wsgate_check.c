
/*
 * Copyright (C) wsgate authors
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cjson/cJSON.h>

#include "ngx_http_wsgate_check.h"


#define NGX_HTTP_WSGATE_LABEL_MAX  63

/* what a valid host name is, for the rules that follow */
#define NGX_HTTP_WSGATE_NAME_DNS        0
#define NGX_HTTP_WSGATE_NAME_NUMERIC    1
#define NGX_HTTP_WSGATE_NAME_LOCALHOST  2
#define NGX_HTTP_WSGATE_NAME_INTERNAL   3

/* ngx_http_wsgate_json_scan() */
#define NGX_HTTP_WSGATE_JSON_NUL        1   /* a string holds \u0000 */
#define NGX_HTTP_WSGATE_JSON_NUL_KEY    2   /* a key holds \u0000 */

/* keys of one object sorted on the stack; more are sorted on the heap */
#define NGX_HTTP_WSGATE_JSON_KEYS       16


typedef struct {
    uint32_t      addr;
    uint32_t      mask;
    const char   *reason;
    int           private;      /* admitted with allow_private */
} ngx_http_wsgate_range4_t;


typedef struct {
    u_char        prefix[16];
    size_t        bits;
    int           embed;        /* offset of an embedded IPv4 address, or -1 */
    const char   *reason;       /* NULL: the embedded address decides */
    int           private;      /* admitted with allow_private */
} ngx_http_wsgate_range6_t;


static int ngx_http_wsgate_url_char(u_char c);
static const char *ngx_http_wsgate_url_split(const u_char *url, size_t len,
    const u_char **host, size_t *host_len, int *ipv6);
static const char *ngx_http_wsgate_name_parse(const u_char *host,
    size_t len, int *kind);
static int ngx_http_wsgate_name_zone(const u_char *name, size_t len,
    const char *zone);
static int ngx_http_wsgate_inet4_parse(const u_char *p, size_t len,
    uint32_t *addr);
static const char *ngx_http_wsgate_inet4_check(uint32_t addr,
    int allow_private);
static const char *ngx_http_wsgate_inet6_check(const u_char *a,
    int allow_private);
static int ngx_http_wsgate_json_ws(u_char c);
static int ngx_http_wsgate_json_scan(const u_char *p, size_t len);
static int ngx_http_wsgate_json_nul_member(const u_char *p, size_t len,
    const cJSON *obj, const cJSON *member);
static cJSON *ngx_http_wsgate_json_parse(const u_char *body, size_t len,
    int *nul);
static uint32_t ngx_http_wsgate_utf8_next(const u_char **pp);
static uint32_t ngx_http_wsgate_case_fold(uint32_t c);
static int ngx_http_wsgate_json_key_cmp(const char *a, const char *b);
static int ngx_http_wsgate_json_key_qcmp(const void *a, const void *b);
static cJSON *ngx_http_wsgate_json_member(const cJSON *obj, const char *name,
    int *dup);
static int ngx_http_wsgate_json_fold_dup(const cJSON *json);
static int ngx_http_wsgate_json_keys_dup(const cJSON *obj, size_t n);
static int ngx_http_wsgate_register_verdict(const cJSON *json,
    int allow_private, ngx_http_wsgate_verdict_t *v, u_char *id);


#define ngx_http_wsgate_in4(a, b, c, d)                                       \
    (((uint32_t) (a) << 24) | ((uint32_t) (b) << 16) | ((uint32_t) (c) << 8)  \
     | (uint32_t) (d))

#define ngx_http_wsgate_mask4(bits)                                           \
    ((uint32_t) (0xffffffffu << (32 - (bits))))


/*
 * The first matching range decides: the cloud metadata addresses come
 * first, so that neither their wider range nor allow_private admits them.
 */

static const ngx_http_wsgate_range4_t  ngx_http_wsgate_ranges4[] = {

    /* AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean, ... */
    { ngx_http_wsgate_in4(169, 254, 169, 254), ngx_http_wsgate_mask4(32),
      NGX_HTTP_WSGATE_URL_METADATA, 0 },

    /* Alibaba Cloud, inside CGNAT */
    { ngx_http_wsgate_in4(100, 100, 100, 200), ngx_http_wsgate_mask4(32),
      NGX_HTTP_WSGATE_URL_METADATA, 0 },

    /* the Azure wire server, a public address otherwise */
    { ngx_http_wsgate_in4(168, 63, 129, 16), ngx_http_wsgate_mask4(32),
      NGX_HTTP_WSGATE_URL_METADATA, 0 },

    { ngx_http_wsgate_in4(0, 0, 0, 0), ngx_http_wsgate_mask4(8),
      NGX_HTTP_WSGATE_URL_UNSPECIFIED, 0 },

    { ngx_http_wsgate_in4(10, 0, 0, 0), ngx_http_wsgate_mask4(8),
      NGX_HTTP_WSGATE_URL_PRIVATE, 1 },

    { ngx_http_wsgate_in4(100, 64, 0, 0), ngx_http_wsgate_mask4(10),
      NGX_HTTP_WSGATE_URL_CGNAT, 0 },

    { ngx_http_wsgate_in4(127, 0, 0, 0), ngx_http_wsgate_mask4(8),
      NGX_HTTP_WSGATE_URL_LOOPBACK, 0 },

    { ngx_http_wsgate_in4(169, 254, 0, 0), ngx_http_wsgate_mask4(16),
      NGX_HTTP_WSGATE_URL_LINK_LOCAL, 0 },

    { ngx_http_wsgate_in4(172, 16, 0, 0), ngx_http_wsgate_mask4(12),
      NGX_HTTP_WSGATE_URL_PRIVATE, 1 },

    /* IETF protocol assignments */
    { ngx_http_wsgate_in4(192, 0, 0, 0), ngx_http_wsgate_mask4(24),
      NGX_HTTP_WSGATE_URL_RESERVED, 0 },

    { ngx_http_wsgate_in4(192, 0, 2, 0), ngx_http_wsgate_mask4(24),
      NGX_HTTP_WSGATE_URL_DOCUMENTATION, 0 },

    { ngx_http_wsgate_in4(192, 168, 0, 0), ngx_http_wsgate_mask4(16),
      NGX_HTTP_WSGATE_URL_PRIVATE, 1 },

    /* benchmarking, RFC 2544 */
    { ngx_http_wsgate_in4(198, 18, 0, 0), ngx_http_wsgate_mask4(15),
      NGX_HTTP_WSGATE_URL_RESERVED, 0 },

    { ngx_http_wsgate_in4(198, 51, 100, 0), ngx_http_wsgate_mask4(24),
      NGX_HTTP_WSGATE_URL_DOCUMENTATION, 0 },

    { ngx_http_wsgate_in4(203, 0, 113, 0), ngx_http_wsgate_mask4(24),
      NGX_HTTP_WSGATE_URL_DOCUMENTATION, 0 },

    { ngx_http_wsgate_in4(224, 0, 0, 0), ngx_http_wsgate_mask4(4),
      NGX_HTTP_WSGATE_URL_MULTICAST, 0 },

    /* future use, and 255.255.255.255 */
    { ngx_http_wsgate_in4(240, 0, 0, 0), ngx_http_wsgate_mask4(4),
      NGX_HTTP_WSGATE_URL_RESERVED, 0 }
};


/* the first matching prefix decides: specific entries come first */

static const ngx_http_wsgate_range6_t  ngx_http_wsgate_ranges6[] = {

    /* metadata: AWS fd00:ec2::254 and GCP fd20:ce::254, inside fd00::/8 */
    { { 0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54 },
      128, -1, NGX_HTTP_WSGATE_URL_METADATA, 0 },

    { { 0xfd, 0x20, 0, 0xce, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54 },
      128, -1, NGX_HTTP_WSGATE_URL_METADATA, 0 },

    { { 0 }, 128, -1, NGX_HTTP_WSGATE_URL_UNSPECIFIED, 0 },

    { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128, -1,
      NGX_HTTP_WSGATE_URL_LOOPBACK, 0 },

    /* IPv4-mapped ::ffff:0:0/96 */
    { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 96, 12, NULL, 0 },

    /* IPv4-translated ::ffff:0:0:0/96 (SIIT) */
    { { 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0 }, 96, 12, NULL, 0 },

    /* IPv4-compatible ::/96, deprecated: blocked whatever it embeds */
    { { 0 }, 96, 12, NGX_HTTP_WSGATE_URL_RESERVED, 0 },

    /* NAT64 well-known prefix 64:ff9b::/96 */
    { { 0, 0x64, 0xff, 0x9b }, 96, 12, NULL, 0 },

    /* local-use NAT64 64:ff9b:1::/48: the IPv4 position varies */
    { { 0, 0x64, 0xff, 0x9b, 0, 1 }, 48, -1, NGX_HTTP_WSGATE_URL_RESERVED, 0 },

    /* discard-only 100::/64 */
    { { 0x01, 0 }, 64, -1, NGX_HTTP_WSGATE_URL_RESERVED, 0 },

    /*
     * Teredo 2001::/32: a tunnel to the IPv4 address in the last 32 bits
     * (inverted), which could be anything: blocked as a whole
     */
    { { 0x20, 0x01, 0, 0 }, 32, -1, NGX_HTTP_WSGATE_URL_TEREDO, 0 },

    /* benchmarking 2001:2::/48 */
    { { 0x20, 0x01, 0, 0x02 }, 48, -1, NGX_HTTP_WSGATE_URL_RESERVED, 0 },

    { { 0x20, 0x01, 0x0d, 0xb8 }, 32, -1,
      NGX_HTTP_WSGATE_URL_DOCUMENTATION, 0 },

    /* 6to4 2002::/16 carries an IPv4 address in bits 16..47 */
    { { 0x20, 0x02 }, 16, 2, NULL, 0 },

    /* fc00::/8 is unassigned; fd00::/8 is the locally assigned half */
    { { 0xfc }, 8, -1, NGX_HTTP_WSGATE_URL_UNIQUE_LOCAL, 0 },

    { { 0xfd }, 8, -1, NGX_HTTP_WSGATE_URL_UNIQUE_LOCAL, 1 },

    { { 0xfe, 0x80 }, 10, -1, NGX_HTTP_WSGATE_URL_LINK_LOCAL, 0 },

    /* site-local fec0::/10, deprecated */
    { { 0xfe, 0xc0 }, 10, -1, NGX_HTTP_WSGATE_URL_RESERVED, 0 },

    { { 0xff }, 8, -1, NGX_HTTP_WSGATE_URL_MULTICAST, 0 }
};


#define ngx_http_wsgate_nelts(a)  (sizeof(a) / sizeof((a)[0]))


/* RFC 3986: unreserved, gen-delims and sub-delims ("%" is seen apart) */

static int
ngx_http_wsgate_url_char(u_char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9'))
    {
        return 1;
    }

    switch (c) {
    case '-': case '.': case '_': case '~':
    case ':': case '/': case '?': case '#': case '[': case ']': case '@':
    case '!': case '$': case '&': case '\'': case '(': case ')':
    case '*': case '+': case ',': case ';': case '=':
        return 1;

    default:
        return 0;
    }
}


const char *
ngx_http_wsgate_url_check(const u_char *url, size_t len, int allow_private)
{
    int            ipv6, kind;
    char           text[INET6_ADDRSTRLEN];
    size_t         n;
    u_char         a[16];
    uint32_t       addr;
    const char    *reason;
    const u_char  *host;

    reason = ngx_http_wsgate_url_split(url, len, &host, &n, &ipv6);

    if (reason != NULL) {
        return reason;
    }

    if (ipv6) {
        /* no zone id: "%25" never passes inet_pton() */

        if (n >= sizeof(text)) {
            return NGX_HTTP_WSGATE_URL_HOST;
        }

        memcpy(text, host, n);
        text[n] = '\0';

        if (inet_pton(AF_INET6, text, a) != 1) {
            return NGX_HTTP_WSGATE_URL_HOST;
        }

        return ngx_http_wsgate_addr_check(AF_INET6, a, allow_private);
    }

    reason = ngx_http_wsgate_name_parse(host, n, &kind);

    if (reason != NULL) {
        return reason;
    }

    switch (kind) {

    case NGX_HTTP_WSGATE_NAME_NUMERIC:

        /* only the canonical dotted quad, without a trailing dot */

        if (host[n - 1] == '.'
            || ngx_http_wsgate_inet4_parse(host, n, &addr) != 0)
        {
            return NGX_HTTP_WSGATE_URL_NUMERIC;
        }

        a[0] = (u_char) (addr >> 24);
        a[1] = (u_char) (addr >> 16);
        a[2] = (u_char) (addr >> 8);
        a[3] = (u_char) addr;

        return ngx_http_wsgate_addr_check(AF_INET, a, allow_private);

    case NGX_HTTP_WSGATE_NAME_LOCALHOST:

        /* local development only: by name it is 127.0.0.1 */
        return allow_private ? NULL : NGX_HTTP_WSGATE_URL_LOOPBACK;

    case NGX_HTTP_WSGATE_NAME_INTERNAL:
        return NGX_HTTP_WSGATE_URL_INTERNAL;

    default: /* NGX_HTTP_WSGATE_NAME_DNS */
        return NULL;
    }
}


int
ngx_http_wsgate_url_host(const u_char *url, size_t len, const u_char **host,
    size_t *host_len)
{
    int            ipv6, kind;
    size_t         n;
    const u_char  *p;

    if (ngx_http_wsgate_url_split(url, len, &p, &n, &ipv6) != NULL
        || ipv6
        || ngx_http_wsgate_name_parse(p, n, &kind) != NULL
        || kind != NGX_HTTP_WSGATE_NAME_DNS)
    {
        return 0;
    }

    if (p[n - 1] == '.') {
        n--;
    }

    *host = p;
    *host_len = n;

    return 1;
}


/*
 * The URL up to its host: characters, scheme, authority, userinfo and
 * port.  Returns NULL and the host (without the brackets of an IPv6
 * literal, not empty), or a reason.
 */

static const char *
ngx_http_wsgate_url_split(const u_char *url, size_t len, const u_char **host,
    size_t *host_len, int *ipv6)
{
    size_t         i, n;
    u_char         c;
    uint32_t       port;
    const u_char  *p, *q, *last, *auth, *auth_end, *h, *h_end;

    if (url == NULL || len == 0) {
        return NGX_HTTP_WSGATE_URL_INVALID;
    }

    for (i = 0; i < len; i++) {
        c = url[i];

        if (c == '%') {
            if (i + 2 >= len
                || ngx_http_wsgate_hex_value(url[i + 1]) < 0
                || ngx_http_wsgate_hex_value(url[i + 2]) < 0)
            {
                return NGX_HTTP_WSGATE_URL_INVALID;
            }

            i += 2;
            continue;
        }

        if (!ngx_http_wsgate_url_char(c)) {
            return NGX_HTTP_WSGATE_URL_INVALID;
        }
    }

    p = url;
    last = url + len;

    /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */

    c = *p | 0x20;

    if (c < 'a' || c > 'z') {
        return NGX_HTTP_WSGATE_URL_INVALID;
    }

    for (p++; p < last; p++) {
        c = *p | 0x20;

        if ((c >= 'a' && c <= 'z') || (*p >= '0' && *p <= '9')
            || *p == '+' || *p == '-' || *p == '.')
        {
            continue;
        }

        break;
    }

    if (p == last || *p != ':') {
        return NGX_HTTP_WSGATE_URL_INVALID;
    }

    n = p - url;

    if (n < 4 || n > 5
        || (url[0] | 0x20) != 'h' || (url[1] | 0x20) != 't'
        || (url[2] | 0x20) != 't' || (url[3] | 0x20) != 'p'
        || (n == 5 && (url[4] | 0x20) != 's'))
    {
        return NGX_HTTP_WSGATE_URL_SCHEME;
    }

    p++;

    if (last - p < 2 || p[0] != '/' || p[1] != '/') {
        return NGX_HTTP_WSGATE_URL_NO_HOST;
    }

    /* authority: up to the path, the query or the fragment */

    auth = p + 2;

    for (p = auth; p < last; p++) {
        if (*p == '/' || *p == '?' || *p == '#') {
            break;
        }
    }

    auth_end = p;

    for (q = auth_end; q < last; q++) {
        if (*q == '[' || *q == ']') {
            return NGX_HTTP_WSGATE_URL_INVALID;
        }
    }

    if (memchr(auth, '@', auth_end - auth) != NULL) {
        return NGX_HTTP_WSGATE_URL_USERINFO;
    }

    if (auth < auth_end && *auth == '[') {
        h = auth + 1;
        h_end = memchr(h, ']', auth_end - h);

        if (h_end == NULL || h_end == h) {
            return NGX_HTTP_WSGATE_URL_HOST;
        }

        p = h_end + 1;

        if (p < auth_end && *p != ':') {
            return NGX_HTTP_WSGATE_URL_HOST;
        }

        *ipv6 = 1;

    } else {
        h = auth;
        h_end = memchr(auth, ':', auth_end - auth);

        if (h_end == NULL) {
            h_end = auth_end;
        }

        if (h_end == h) {
            return NGX_HTTP_WSGATE_URL_NO_HOST;
        }

        p = h_end;
        *ipv6 = 0;
    }

    /* port = 1*5DIGIT, 1..65535 */

    if (p < auth_end) {
        p++;

        if (p == auth_end || auth_end - p > 5) {
            return NGX_HTTP_WSGATE_URL_PORT;
        }

        for (port = 0; p < auth_end; p++) {
            if (*p < '0' || *p > '9') {
                return NGX_HTTP_WSGATE_URL_PORT;
            }

            port = port * 10 + (*p - '0');
        }

        if (port < 1 || port > 65535) {
            return NGX_HTTP_WSGATE_URL_PORT;
        }
    }

    *host = h;
    *host_len = h_end - h;

    return NULL;
}


/*
 * A host that is not an IPv6 literal: its characters and labels, then
 * what kind of name it is.  Returns NULL and the kind, or a reason.
 */

static const char *
ngx_http_wsgate_name_parse(const u_char *host, size_t len, int *kind)
{
    int            numeric;
    size_t         i, n, label;
    u_char         c;
    const u_char  *s;

    n = len;

    if (host[n - 1] == '.') {
        n--;
    }

    if (n == 0 || n > NGX_HTTP_WSGATE_HOST_MAX) {
        return NGX_HTTP_WSGATE_URL_HOST;
    }

    label = 0;
    s = host;

    for (i = 0; i < n; i++) {
        c = host[i];

        if (c == '.') {
            if (label == 0) {
                return NGX_HTTP_WSGATE_URL_HOST;
            }

            label = 0;
            s = &host[i + 1];
            continue;
        }

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'))
        {
            return NGX_HTTP_WSGATE_URL_HOST;
        }

        if (++label > NGX_HTTP_WSGATE_LABEL_MAX) {
            return NGX_HTTP_WSGATE_URL_HOST;
        }
    }

    if (label == 0) {
        return NGX_HTTP_WSGATE_URL_HOST;
    }

    /*
     * A numeric last label makes the host an IPv4 address for browsers
     * (the WHATWG URL "ends in a number" rule) and inet_aton(), in any of
     * the old forms: "127.1", "2130706433", "0x7f.1", "0177.0.0.1".
     * Only the canonical dotted quad is checked; the rest is refused.
     */

    numeric = 1;

    if (label >= 2 && s[0] == '0' && (s[1] | 0x20) == 'x') {
        for (i = 2; i < label; i++) {
            if (ngx_http_wsgate_hex_value(s[i]) < 0) {
                numeric = 0;
                break;
            }
        }

    } else {
        for (i = 0; i < label; i++) {
            if (s[i] < '0' || s[i] > '9') {
                numeric = 0;
                break;
            }
        }
    }

    if (numeric) {
        *kind = NGX_HTTP_WSGATE_NAME_NUMERIC;
        return NULL;
    }

    /* RFC 6761: "localhost." and the names below it are the loopback */

    if (ngx_http_wsgate_name_zone(host, n, "localhost") != 0) {
        *kind = NGX_HTTP_WSGATE_NAME_LOCALHOST;
        return NULL;
    }

    /*
     * The metadata service by name (GCP resolves "metadata" through its
     * search domain), cloud-internal zones and mDNS: never a push URL,
     * and what they resolve to is not for the public DNS to say.
     */

    if (ngx_http_wsgate_name_zone(host, n, "metadata") == 1
        || ngx_http_wsgate_name_zone(host, n, "internal") == 2
        || ngx_http_wsgate_name_zone(host, n, "local") == 2)
    {
        *kind = NGX_HTTP_WSGATE_NAME_INTERNAL;
        return NULL;
    }

    *kind = NGX_HTTP_WSGATE_NAME_DNS;

    return NULL;
}


/* 1 when name is zone (any case), 2 when it is a name below zone, else 0 */

static int
ngx_http_wsgate_name_zone(const u_char *name, size_t len, const char *zone)
{
    size_t         i, n;
    const u_char  *p;

    n = strlen(zone);

    if (len < n) {
        return 0;
    }

    p = name + len - n;

    for (i = 0; i < n; i++) {
        if ((p[i] | 0x20) != (u_char) zone[i]) {
            return 0;
        }
    }

    if (len == n) {
        return 1;
    }

    return (p[-1] == '.') ? 2 : 0;
}


/* exactly 4 decimal parts 0..255 without leading zeros */

static int
ngx_http_wsgate_inet4_parse(const u_char *p, size_t len, uint32_t *addr)
{
    u_char         c;
    uint32_t       a, octet;
    const u_char  *last;
    unsigned int   parts, digits;

    a = 0;
    octet = 0;
    parts = 0;
    digits = 0;

    for (last = p + len; p < last; p++) {
        c = *p;

        if (c >= '0' && c <= '9') {
            if (digits == 1 && octet == 0) {
                return -1;
            }

            octet = octet * 10 + (c - '0');
            digits++;

            if (octet > 255) {
                return -1;
            }

            continue;
        }

        if (c == '.' && digits && parts < 3) {
            a = (a << 8) | octet;
            octet = 0;
            digits = 0;
            parts++;
            continue;
        }

        return -1;
    }

    if (digits == 0 || parts != 3) {
        return -1;
    }

    *addr = (a << 8) | octet;

    return 0;
}


static const char *
ngx_http_wsgate_inet4_check(uint32_t addr, int allow_private)
{
    size_t                           i;
    const ngx_http_wsgate_range4_t  *r;

    for (i = 0; i < ngx_http_wsgate_nelts(ngx_http_wsgate_ranges4); i++) {
        r = &ngx_http_wsgate_ranges4[i];

        if ((addr & r->mask) != r->addr) {
            continue;
        }

        if (r->private && allow_private) {
            return NULL;
        }

        return r->reason;
    }

    return NULL;
}


const char *
ngx_http_wsgate_addr_check(int family, const u_char *addr, int allow_private)
{
    uint32_t  a4;

    switch (family) {

    case AF_INET:
        a4 = ngx_http_wsgate_in4(addr[0], addr[1], addr[2], addr[3]);
        return ngx_http_wsgate_inet4_check(a4, allow_private);

    case AF_INET6:
        return ngx_http_wsgate_inet6_check(addr, allow_private);

    default:
        return NGX_HTTP_WSGATE_URL_HOST;
    }
}


static const char *
ngx_http_wsgate_inet6_check(const u_char *a, int allow_private)
{
    size_t                           i, full, rest;
    uint32_t                         addr;
    const char                      *reason;
    const ngx_http_wsgate_range6_t  *r;

    for (i = 0; i < ngx_http_wsgate_nelts(ngx_http_wsgate_ranges6); i++) {
        r = &ngx_http_wsgate_ranges6[i];

        full = r->bits / 8;
        rest = r->bits % 8;

        if (memcmp(a, r->prefix, full) != 0) {
            continue;
        }

        if (rest
            && ((a[full] ^ r->prefix[full]) & (u_char) (0xff << (8 - rest))))
        {
            continue;
        }

        if (r->embed >= 0) {
            addr = ngx_http_wsgate_in4(a[r->embed], a[r->embed + 1],
                                       a[r->embed + 2], a[r->embed + 3]);

            reason = ngx_http_wsgate_inet4_check(addr, allow_private);

            if (reason != NULL || r->reason == NULL) {
                return reason;
            }
        }

        if (r->private && allow_private) {
            return NULL;
        }

        return r->reason;
    }

    return NULL;
}


/*
 * One pass over the path's segments.  %2F and %5C are what a backend may
 * decode into a separator nginx never saw, ";" starts parameters that
 * some servers strip (Tomcat: "/a;x/../b"), and a dot segment that nginx
 * did not merge (encoded) or that it merged before the bind was checked
 * ("..") may name another path to the backend than to wsgate.
 */

const char *
ngx_http_wsgate_path_check(const u_char *uri, size_t len)
{
    int            hi, lo;
    size_t         dots;
    u_char         c;
    unsigned int   encoded, other;
    const u_char  *p, *last;

    if (uri == NULL || len == 0) {
        return NULL;
    }

    last = memchr(uri, '?', len);

    if (last == NULL) {
        last = uri + len;
    }

    dots = 0;
    encoded = 0;
    other = 0;

    for (p = uri; /* void */; p++) {

        if (p == last || *p == '/') {

            /* the end of a segment */

            if (dots && !other) {
                if (encoded) {
                    return NGX_HTTP_WSGATE_PATH_DOT;
                }

                if (dots == 2) {
                    return NGX_HTTP_WSGATE_PATH_DOTDOT;
                }
            }

            if (p == last) {
                return NULL;
            }

            dots = 0;
            encoded = 0;
            other = 0;
            continue;
        }

        c = *p;

        if (c == ';') {
            return NGX_HTTP_WSGATE_PATH_PARAM;
        }

        if (c == '.') {
            dots++;
            continue;
        }

        if (c == '%' && last - p > 2) {
            hi = ngx_http_wsgate_hex_value(p[1]);
            lo = ngx_http_wsgate_hex_value(p[2]);

            if (hi >= 0 && lo >= 0) {
                p += 2;

                switch (hi * 16 + lo) {

                case '/':
                    return NGX_HTTP_WSGATE_PATH_SLASH;

                case '\\':
                    return NGX_HTTP_WSGATE_PATH_BACKSLASH;

                case '.':
                    dots++;
                    encoded = 1;
                    continue;

                default:
                    other = 1;
                    continue;
                }
            }
        }

        other = 1;
    }
}


static int
ngx_http_wsgate_json_ws(u_char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}


/*
 * cJSON is lenient where a backend's parser is not: it takes any byte
 * below 0x20 for whitespace, copies raw control characters into strings,
 * and ends a string at an escaped NUL.  Returns -1 for a raw control
 * character (not JSON), else NGX_HTTP_WSGATE_JSON_NUL when a string holds
 * \u0000, with NGX_HTTP_WSGATE_JSON_NUL_KEY when one of those is a key
 * (a string followed by ":").
 */

static int
ngx_http_wsgate_json_scan(const u_char *p, size_t len)
{
    int            rc, nul, str;
    u_char         c;
    const u_char  *q, *last;

    rc = 0;
    nul = 0;
    str = 0;

    for (last = p + len; p < last; p++) {
        c = *p;

        if (!str) {
            if (c == '"') {
                str = 1;
                nul = 0;

            } else if (c < 0x20 && !ngx_http_wsgate_json_ws(c)) {
                return -1;
            }

            continue;
        }

        if (c < 0x20) {
            return -1;
        }

        if (c == '"') {
            str = 0;

            if (!nul) {
                continue;
            }

            rc |= NGX_HTTP_WSGATE_JSON_NUL;

            for (q = p + 1; q < last && ngx_http_wsgate_json_ws(*q); q++) {
                /* void */
            }

            if (q < last && *q == ':') {
                rc |= NGX_HTTP_WSGATE_JSON_NUL_KEY;
            }

            continue;
        }

        if (c != '\\') {
            continue;
        }

        if (++p == last) {
            return -1;
        }

        if (*p == 'u' && last - p > 4
            && p[1] == '0' && p[2] == '0' && p[3] == '0' && p[4] == '0')
        {
            nul = 1;
        }

        /* the hex digits of \uXXXX are plain characters for this scan */
    }

    return rc;
}


/*
 * Whether member (a child of obj, the top-level object that cJSON parsed
 * from p) has a string value holding \u0000: cJSON's copy of it ends at
 * the NUL.  Its members are counted in the text as cJSON lists them: the
 * n-th key at depth 1 is the n-th child.
 */

static int
ngx_http_wsgate_json_nul_member(const u_char *p, size_t len,
    const cJSON *obj, const cJSON *member)
{
    int            nul, str;
    size_t         depth, index, n;
    u_char         c;
    const cJSON   *item;
    const u_char  *q, *last;

    index = 1;

    for (item = obj->child; item != member; item = item->next) {
        index++;
    }

    n = 0;
    nul = 0;
    str = 0;
    depth = 0;

    for (last = p + len; p < last; p++) {
        c = *p;

        if (!str) {
            if (c == '{' || c == '[') {
                depth++;

            } else if (c == '}' || c == ']') {
                depth--;

            } else if (c == '"') {
                str = 1;
                nul = 0;
            }

            continue;
        }

        if (c == '"') {
            str = 0;

            if (depth != 1) {
                continue;
            }

            for (q = p + 1; q < last && ngx_http_wsgate_json_ws(*q); q++) {
                /* void */
            }

            if (q < last && *q == ':') {
                /* a key: the next member starts */

                if (++n > index) {
                    return 0;
                }

                continue;
            }

            if (n == index) {
                return nul;
            }

            continue;
        }

        if (c != '\\') {
            continue;
        }

        if (++p == last) {
            return 0;
        }

        if (*p == 'u' && last - p > 4
            && p[1] == '0' && p[2] == '0' && p[3] == '0' && p[4] == '0')
        {
            nul = 1;
        }
    }

    return 0;
}


static cJSON *
ngx_http_wsgate_json_parse(const u_char *body, size_t len, int *nul)
{
    int            rc;
    cJSON         *json;
    const char    *end;
    const u_char  *p, *last;

    if (body == NULL || len == 0) {
        return NULL;
    }

    rc = ngx_http_wsgate_json_scan(body, len);

    if (rc < 0) {
        return NULL;
    }

    end = NULL;

    json = cJSON_ParseWithLengthOpts((const char *) body, len, &end, 0);

    if (json == NULL) {
        return NULL;
    }

    /* nothing but JSON whitespace after the value */

    last = body + len;

    for (p = (const u_char *) end; p < last; p++) {
        if (!ngx_http_wsgate_json_ws(*p)) {
            cJSON_Delete(json);
            return NULL;
        }
    }

    *nul = rc;

    return json;
}


/*
 * The next code point of a NUL-terminated string, as Go decodes UTF-8:
 * a byte that does not start a valid, shortest, non-surrogate sequence
 * is U+FFFD on its own (so "\xff" and "\xfe" are the same key to Go).
 * cJSON checks escapes only, not raw UTF-8.  Never reads past the NUL:
 * it is no continuation byte.
 */

static uint32_t
ngx_http_wsgate_utf8_next(const u_char **pp)
{
    size_t         i, n;
    u_char         c;
    uint32_t       u, min;
    const u_char  *p;

    p = *pp;
    c = p[0];

    if (c < 0x80) {
        *pp = p + 1;
        return c;
    }

    if (c >= 0xc2 && c <= 0xdf) {
        n = 1;
        u = c & 0x1f;
        min = 0x80;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 2;
        u = c & 0x0f;
        min = 0x800;

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 3;
        u = c & 0x07;
        min = 0x10000;

    } else {
        goto invalid;
    }

    for (i = 1; i <= n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            goto invalid;
        }

        u = (u << 6) | (p[i] & 0x3f);
    }

    if (u < min || u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff)) {
        goto invalid;
    }

    *pp = p + 1 + n;

    return u;

invalid:

    *pp = p + 1;

    return 0xfffd;
}


/* the simple case folding table documented in ngx_http_wsgate_check.h */

static uint32_t
ngx_http_wsgate_case_fold(uint32_t c)
{
    if (c < 0x80) {
        return (c >= 'A' && c <= 'Z') ? c + 0x20 : c;
    }

    if (c < 0x100) {
        if (c == 0xb5) {
            return 0x3bc;
        }

        return (c >= 0xc0 && c <= 0xde && c != 0xd7) ? c + 0x20 : c;
    }

    if (c < 0x180) {

        switch (c) {

        /* Go folds both to "I", as it folds "i" */
        case 0x130:
        case 0x131:
            return 'i';

        case 0x178:
            return 0xff;

        case 0x17f:
            return 's';

        /* no case pair */
        case 0x138:
        case 0x149:
            return c;
        }

        /* capitals are odd here, even elsewhere in Latin Extended-A */

        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) {
            return (c & 1) ? c + 1 : c;
        }

        return c | 1;
    }

    if (c >= 0x391 && c <= 0x3a9) {
        return (c == 0x3a2) ? c : c + 0x20;
    }

    if (c >= 0x400 && c <= 0x40f) {
        return c + 0x50;
    }

    if (c >= 0x410 && c <= 0x42f) {
        return c + 0x20;
    }

    switch (c) {

    case 0x3c2:
        return 0x3c3;

    case 0x1e9e:
        return 0xdf;

    case 0x212a:
        return 'k';

    case 0x212b:
        return 0xe5;

    default:
        return c;
    }
}


/* compares two keys after case folding, as strcmp() does */

static int
ngx_http_wsgate_json_key_cmp(const char *a, const char *b)
{
    uint32_t       ca, cb;
    const u_char  *p, *q;

    p = (const u_char *) a;
    q = (const u_char *) b;

    while (*p != '\0' && *q != '\0') {
        ca = ngx_http_wsgate_case_fold(ngx_http_wsgate_utf8_next(&p));
        cb = ngx_http_wsgate_case_fold(ngx_http_wsgate_utf8_next(&q));

        if (ca != cb) {
            return (ca < cb) ? -1 : 1;
        }
    }

    return (*p != '\0') - (*q != '\0');
}


static int
ngx_http_wsgate_json_key_qcmp(const void *a, const void *b)
{
    return ngx_http_wsgate_json_key_cmp(*(const char * const *) a,
                                        *(const char * const *) b);
}


/*
 * The member named exactly name, or NULL; *dup is set when name appears
 * more than once under case folding ("id", "ID", "\u0131d").
 */

static cJSON *
ngx_http_wsgate_json_member(const cJSON *obj, const char *name, int *dup)
{
    size_t  n;
    cJSON  *item, *found;

    n = 0;
    found = NULL;

    for (item = obj->child; item != NULL; item = item->next) {
        if (item->string == NULL
            || ngx_http_wsgate_json_key_cmp(item->string, name) != 0)
        {
            continue;
        }

        n++;

        if (found == NULL && strcmp(item->string, name) == 0) {
            found = item;
        }
    }

    *dup = (n > 1);

    return found;
}


/*
 * 1 when an object anywhere in json has two keys equal under case
 * folding (Go would give both to one field, cJSON keeps both), -1 when
 * out of memory, else 0.  The depth is cJSON's nesting limit at most.
 */

static int
ngx_http_wsgate_json_fold_dup(const cJSON *json)
{
    int           rc;
    size_t        n;
    const cJSON  *item;

    n = 0;

    for (item = json->child; item != NULL; item = item->next) {
        n++;

        if (cJSON_IsObject(item) || cJSON_IsArray(item)) {
            rc = ngx_http_wsgate_json_fold_dup(item);

            if (rc != 0) {
                return rc;
            }
        }
    }

    if (!cJSON_IsObject(json) || n < 2) {
        return 0;
    }

    return ngx_http_wsgate_json_keys_dup(json, n);
}


/* the keys of obj (n of them) sorted: equal ones are neighbours */

static int
ngx_http_wsgate_json_keys_dup(const cJSON *obj, size_t n)
{
    int           rc;
    size_t        i;
    const char  **keys, *stack[NGX_HTTP_WSGATE_JSON_KEYS];
    const cJSON  *item;

    if (n <= NGX_HTTP_WSGATE_JSON_KEYS) {
        keys = stack;

    } else {
        keys = malloc(n * sizeof(const char *));

        if (keys == NULL) {
            return -1;
        }
    }

    i = 0;

    for (item = obj->child; item != NULL; item = item->next) {
        keys[i++] = (item->string != NULL) ? item->string : "";
    }

    qsort(keys, n, sizeof(const char *), ngx_http_wsgate_json_key_qcmp);

    rc = 0;

    for (i = 1; i < n; i++) {
        if (ngx_http_wsgate_json_key_cmp(keys[i - 1], keys[i]) == 0) {
            rc = 1;
            break;
        }
    }

    if (keys != stack) {
        free(keys);
    }

    return rc;
}


int
ngx_http_wsgate_register_check(const u_char *body, size_t len,
    int allow_private, ngx_http_wsgate_verdict_t *v, u_char *id)
{
    int     rc, nul;
    cJSON  *json;

    nul = 0;
    v->host_len = 0;

    json = ngx_http_wsgate_json_parse(body, len, &nul);

    if (json == NULL) {
        v->field = "body";
        v->reason = NGX_HTTP_WSGATE_REG_NOT_JSON;
        return -1;
    }

    if (!cJSON_IsObject(json)) {
        v->field = "body";
        v->reason = NGX_HTTP_WSGATE_REG_BODY_OBJECT;
        rc = -1;

    } else if (nul) {
        /* in keys too: "id\u0000x" would be "id" to cJSON */
        v->field = "body";
        v->reason = NGX_HTTP_WSGATE_REG_NUL;
        rc = -1;

    } else {
        rc = ngx_http_wsgate_register_verdict(json, allow_private, v, id);
    }

    if (rc == 0) {
        /* the checked keys are single already: this finds the others */

        switch (ngx_http_wsgate_json_fold_dup(json)) {

        case 0:
            break;

        case 1:
            v->field = "body";
            v->reason = NGX_HTTP_WSGATE_REG_FOLD_DUP;
            rc = -1;
            break;

        default:
            v->field = "body";
            v->reason = NGX_HTTP_WSGATE_REG_NOT_JSON;
            rc = -1;
        }
    }

    if (rc != 0) {
        v->host_len = 0;

    } else {
        v->field = NULL;
        v->reason = NULL;
    }

    cJSON_Delete(json);

    return rc;
}


static int
ngx_http_wsgate_register_verdict(const cJSON *json, int allow_private,
    ngx_http_wsgate_verdict_t *v, u_char *id)
{
    int            dup;
    cJSON         *uuid, *item, *card, *name;
    size_t         len, host_len;
    const char    *reason;
    const u_char  *url, *host;

    /* "id" */

    v->field = "id";

    uuid = ngx_http_wsgate_json_member(json, "id", &dup);

    if (dup) {
        v->reason = NGX_HTTP_WSGATE_REG_DUPLICATE;
        return -1;
    }

    if (uuid == NULL) {
        v->reason = NGX_HTTP_WSGATE_REG_MISSING;
        return -1;
    }

    if (!cJSON_IsString(uuid) || uuid->valuestring == NULL) {
        v->reason = NGX_HTTP_WSGATE_REG_NOT_STRING;
        return -1;
    }

    if (ngx_http_wsgate_uuid_parse((u_char *) uuid->valuestring,
                                   strlen(uuid->valuestring), NULL)
        != 0)
    {
        v->reason = NGX_HTTP_WSGATE_REG_NOT_UUID;
        return -1;
    }

    /* a valid "id" is reported even when a later field fails */

    if (id != NULL) {
        memcpy(id, uuid->valuestring, NGX_HTTP_WSGATE_UUID_LEN);
    }

    /* "url" */

    v->field = "url";

    item = ngx_http_wsgate_json_member(json, "url", &dup);

    if (dup) {
        v->reason = NGX_HTTP_WSGATE_REG_DUPLICATE;
        return -1;
    }

    if (item == NULL) {
        v->reason = NGX_HTTP_WSGATE_REG_MISSING;
        return -1;
    }

    if (!cJSON_IsString(item) || item->valuestring == NULL) {
        v->reason = NGX_HTTP_WSGATE_REG_NOT_STRING;
        return -1;
    }

    url = (const u_char *) item->valuestring;
    len = strlen(item->valuestring);

    reason = ngx_http_wsgate_url_check(url, len, allow_private);

    if (reason != NULL) {
        v->reason = reason;
        return -1;
    }

    /* the name is gone with cJSON's tree: the caller gets a copy */

    if (ngx_http_wsgate_url_host(url, len, &host, &host_len)) {
        memcpy(v->host, host, host_len);
        v->host_len = host_len;
    }

    /* "agent_card" */

    v->field = "agent_card";

    card = ngx_http_wsgate_json_member(json, "agent_card", &dup);

    if (dup) {
        v->reason = NGX_HTTP_WSGATE_REG_DUPLICATE;
        return -1;
    }

    if (card == NULL) {
        v->reason = NGX_HTTP_WSGATE_REG_MISSING;
        return -1;
    }

    if (!cJSON_IsObject(card)) {
        v->reason = NGX_HTTP_WSGATE_REG_NOT_OBJECT;
        return -1;
    }

    v->field = "agent_card.name";

    name = ngx_http_wsgate_json_member(card, "name", &dup);

    if (dup) {
        v->reason = NGX_HTTP_WSGATE_REG_DUPLICATE;
        return -1;
    }

    if (name == NULL) {
        v->reason = NGX_HTTP_WSGATE_REG_MISSING;
        return -1;
    }

    if (!cJSON_IsString(name) || name->valuestring == NULL) {
        v->reason = NGX_HTTP_WSGATE_REG_NOT_STRING;
        return -1;
    }

    if (name->valuestring[0] == '\0') {
        v->reason = NGX_HTTP_WSGATE_REG_EMPTY;
        return -1;
    }

    return 0;
}


const char *
ngx_http_wsgate_a2a_check(const u_char *body, size_t len)
{
    int          dup, nul;
    cJSON       *json, *item;
    const char  *reason;

    nul = 0;

    json = ngx_http_wsgate_json_parse(body, len, &nul);

    if (json == NULL) {
        return NGX_HTTP_WSGATE_A2A_NOT_JSON;
    }

    /*
     * \u0000 is payload data here, but not in a key ("id\u0000x" would be
     * "id" to cJSON) nor in the checked values, that cJSON would cut.
     */

    if (!cJSON_IsObject(json)) {
        reason = NGX_HTTP_WSGATE_A2A_NOT_OBJECT;
        goto done;
    }

    if (nul & NGX_HTTP_WSGATE_JSON_NUL_KEY) {
        reason = NGX_HTTP_WSGATE_A2A_NUL_KEY;
        goto done;
    }

    item = ngx_http_wsgate_json_member(json, "jsonrpc", &dup);

    if (dup) {
        reason = NGX_HTTP_WSGATE_A2A_DUP_JSONRPC;
        goto done;
    }

    if (!cJSON_IsString(item) || item->valuestring == NULL
        || strcmp(item->valuestring, "2.0") != 0
        || (nul && ngx_http_wsgate_json_nul_member(body, len, json, item)))
    {
        reason = NGX_HTTP_WSGATE_A2A_JSONRPC;
        goto done;
    }

    item = ngx_http_wsgate_json_member(json, "method", &dup);

    if (dup) {
        reason = NGX_HTTP_WSGATE_A2A_DUP_METHOD;
        goto done;
    }

    if (!cJSON_IsString(item) || item->valuestring == NULL) {
        reason = NGX_HTTP_WSGATE_A2A_METHOD;
        goto done;
    }

    if (nul && ngx_http_wsgate_json_nul_member(body, len, json, item)) {
        reason = NGX_HTTP_WSGATE_A2A_NUL_METHOD;
        goto done;
    }

    item = ngx_http_wsgate_json_member(json, "id", &dup);

    if (dup) {
        reason = NGX_HTTP_WSGATE_A2A_DUP_ID;
        goto done;
    }

    if (!cJSON_IsString(item) && !cJSON_IsNumber(item)) {
        reason = NGX_HTTP_WSGATE_A2A_ID;
        goto done;
    }

    if (nul && cJSON_IsString(item)
        && ngx_http_wsgate_json_nul_member(body, len, json, item))
    {
        reason = NGX_HTTP_WSGATE_A2A_NUL_ID;
        goto done;
    }

    switch (ngx_http_wsgate_json_fold_dup(json)) {

    case 0:
        reason = NULL;
        break;

    case 1:
        reason = NGX_HTTP_WSGATE_A2A_FOLD_DUP;
        break;

    default:
        reason = NGX_HTTP_WSGATE_A2A_NOT_JSON;
    }

done:

    cJSON_Delete(json);

    return reason;
}
