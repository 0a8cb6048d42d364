
/*
 * Copyright (C) wsgate authors
 */


#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cjson/cJSON.h>

#include "ngx_http_wsgate_check.h"


#define NGX_HTTP_WSGATE_HOST_MAX   253
#define NGX_HTTP_WSGATE_LABEL_MAX  63


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
static const char *ngx_http_wsgate_url_check_name(const u_char *host,
    size_t len, int allow_private);
static int ngx_http_wsgate_inet4_parse(const u_char *p, size_t len,
    uint32_t *addr);
static const char *ngx_http_wsgate_inet4_check(uint32_t addr,
    int allow_private);
static const char *ngx_http_wsgate_inet6_check(const u_char *host,
    size_t len, int allow_private);
static int ngx_http_wsgate_json_scan(const u_char *p, size_t len);
static cJSON *ngx_http_wsgate_json_parse(const u_char *body, size_t len,
    int *nul);
static int ngx_http_wsgate_json_key_eq(const char *key, const char *name);
static cJSON *ngx_http_wsgate_json_member(const cJSON *obj, const char *name,
    int *dup);
static int ngx_http_wsgate_register_verdict(const cJSON *json,
    int allow_private, ngx_http_wsgate_verdict_t *v, u_char *id);


#define ngx_http_wsgate_in4(a, b, c, d)                                       \
    (((uint32_t) (a) << 24) | ((uint32_t) (b) << 16) | ((uint32_t) (c) << 8)  \
     | (uint32_t) (d))

#define ngx_http_wsgate_mask4(bits)                                           \
    ((uint32_t) (0xffffffffu << (32 - (bits))))


static const ngx_http_wsgate_range4_t  ngx_http_wsgate_ranges4[] = {

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
    int            ipv6;
    size_t         i, n;
    u_char         c;
    uint32_t       port;
    const u_char  *p, *q, *last, *auth, *auth_end, *host, *host_end;

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
        host = auth + 1;
        host_end = memchr(host, ']', auth_end - host);

        if (host_end == NULL || host_end == host) {
            return NGX_HTTP_WSGATE_URL_HOST;
        }

        p = host_end + 1;

        if (p < auth_end && *p != ':') {
            return NGX_HTTP_WSGATE_URL_HOST;
        }

        ipv6 = 1;

    } else {
        host = auth;
        host_end = memchr(auth, ':', auth_end - auth);

        if (host_end == NULL) {
            host_end = auth_end;
        }

        if (host_end == host) {
            return NGX_HTTP_WSGATE_URL_NO_HOST;
        }

        p = host_end;
        ipv6 = 0;
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

    if (ipv6) {
        return ngx_http_wsgate_inet6_check(host, host_end - host,
                                           allow_private);
    }

    return ngx_http_wsgate_url_check_name(host, host_end - host,
                                          allow_private);
}


static const char *
ngx_http_wsgate_url_check_name(const u_char *host, size_t len,
    int allow_private)
{
    int            numeric;
    size_t         i, n, label;
    u_char         c;
    uint32_t       addr;
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

    if (!numeric) {
        /* a name: not resolved here, so "localhost" passes by name */
        return NULL;
    }

    if (n != len || ngx_http_wsgate_inet4_parse(host, n, &addr) != 0) {
        return NGX_HTTP_WSGATE_URL_NUMERIC;
    }

    return ngx_http_wsgate_inet4_check(addr, allow_private);
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


static const char *
ngx_http_wsgate_inet6_check(const u_char *host, size_t len,
    int allow_private)
{
    char                             text[INET6_ADDRSTRLEN];
    size_t                           i, full, rest;
    u_char                           a[16];
    uint32_t                         addr;
    const char                      *reason;
    const ngx_http_wsgate_range6_t  *r;

    /* no zone id: "%25" never passes inet_pton() */

    if (len >= sizeof(text)) {
        return NGX_HTTP_WSGATE_URL_HOST;
    }

    memcpy(text, host, len);
    text[len] = '\0';

    if (inet_pton(AF_INET6, text, a) != 1) {
        return NGX_HTTP_WSGATE_URL_HOST;
    }

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
 * cJSON is lenient where a backend's parser is not: it takes any byte
 * below 0x20 for whitespace, copies raw control characters into strings,
 * and ends a string at an escaped NUL.  Returns -1 for a raw control
 * character (not JSON), 1 when a string holds \u0000, else 0.
 */

static int
ngx_http_wsgate_json_scan(const u_char *p, size_t len)
{
    int            nul, str;
    u_char         c;
    const u_char  *last;

    nul = 0;
    str = 0;

    for (last = p + len; p < last; p++) {
        c = *p;

        if (!str) {
            if (c == '"') {
                str = 1;

            } else if (c < 0x20 && c != ' ' && c != '\t' && c != '\n'
                       && c != '\r')
            {
                return -1;
            }

            continue;
        }

        if (c < 0x20) {
            return -1;
        }

        if (c == '"') {
            str = 0;
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

    return nul;
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
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            cJSON_Delete(json);
            return NULL;
        }
    }

    *nul = rc;

    return json;
}


static int
ngx_http_wsgate_json_key_eq(const char *key, const char *name)
{
    u_char  a, b;

    for ( ;; ) {
        a = (u_char) *key++;
        b = (u_char) *name++;

        if (a >= 'A' && a <= 'Z') {
            a |= 0x20;
        }

        if (a != b) {
            return 0;
        }

        if (a == '\0') {
            return 1;
        }
    }
}


/*
 * The member named exactly name (name is lower case), or NULL; *dup is
 * set when name appears more than once in any ASCII case.
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
            || !ngx_http_wsgate_json_key_eq(item->string, name))
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


int
ngx_http_wsgate_register_check(const u_char *body, size_t len,
    int allow_private, ngx_http_wsgate_verdict_t *v, u_char *id)
{
    int     rc, nul;
    cJSON  *json;

    nul = 0;

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
        v->field = "body";
        v->reason = NGX_HTTP_WSGATE_REG_NUL;
        rc = -1;

    } else {
        rc = ngx_http_wsgate_register_verdict(json, allow_private, v, id);
    }

    cJSON_Delete(json);

    return rc;
}


static int
ngx_http_wsgate_register_verdict(const cJSON *json, int allow_private,
    ngx_http_wsgate_verdict_t *v, u_char *id)
{
    int          dup;
    cJSON       *uuid, *item, *card, *name;
    const char  *reason;

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

    reason = ngx_http_wsgate_url_check((u_char *) item->valuestring,
                                       strlen(item->valuestring),
                                       allow_private);
    if (reason != NULL) {
        v->reason = reason;
        return -1;
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

    v->field = NULL;
    v->reason = NULL;

    return 0;
}


const char *
ngx_http_wsgate_a2a_check(const u_char *body, size_t len)
{
    int          dup, nul;
    cJSON       *json, *item;
    const char  *reason;

    json = ngx_http_wsgate_json_parse(body, len, &nul);

    if (json == NULL) {
        return NGX_HTTP_WSGATE_A2A_NOT_JSON;
    }

    /* \u0000 is payload data here: the envelope checks are types only */

    if (!cJSON_IsObject(json)) {
        reason = NGX_HTTP_WSGATE_A2A_NOT_OBJECT;
        goto done;
    }

    item = ngx_http_wsgate_json_member(json, "jsonrpc", &dup);

    if (dup) {
        reason = NGX_HTTP_WSGATE_A2A_DUP_JSONRPC;
        goto done;
    }

    if (!cJSON_IsString(item) || item->valuestring == NULL
        || strcmp(item->valuestring, "2.0") != 0)
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

    item = ngx_http_wsgate_json_member(json, "id", &dup);

    if (dup) {
        reason = NGX_HTTP_WSGATE_A2A_DUP_ID;
        goto done;
    }

    if (!cJSON_IsString(item) && !cJSON_IsNumber(item)) {
        reason = NGX_HTTP_WSGATE_A2A_ID;
        goto done;
    }

    reason = NULL;

done:

    cJSON_Delete(json);

    return reason;
}
