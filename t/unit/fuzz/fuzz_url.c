
/*
 * Copyright (C) wsgate authors
 *
 * libFuzzer harness for the push URL and the addresses it may stand for:
 * the input is a URL for ngx_http_wsgate_url_check() and
 * ngx_http_wsgate_url_host(), the bytes of a resolver's sockaddr_in or
 * sockaddr_in6 answer, judged as ngx_http_wsgate_register_resolved()
 * judges each A and AAAA answer, and a raw request URI for
 * ngx_http_wsgate_path_check().
 */


#include <stdio.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "ngx_http_wsgate_check.h"
#include "ngx_http_wsgate_uuid.h"


static const char *const  url_reasons[] = {
    FUZZ_URL_REASONS
};

static const char *const  addr_reasons[] = {
    FUZZ_ADDR_REASONS
};

static const char *const  path_reasons[] = {
    NGX_HTTP_WSGATE_PATH_SLASH,
    NGX_HTTP_WSGATE_PATH_BACKSLASH,
    NGX_HTTP_WSGATE_PATH_DOT,
    NGX_HTTP_WSGATE_PATH_PARAM,
    NGX_HTTP_WSGATE_PATH_DOTDOT,
};

/* the only reasons allow_private may lift */
static const char *const  private_reasons[] = {
    NGX_HTTP_WSGATE_URL_PRIVATE,
    NGX_HTTP_WSGATE_URL_UNIQUE_LOCAL,
    NGX_HTTP_WSGATE_URL_LOOPBACK,
};


static void fuzz_url(const u_char *data, size_t size);
static void fuzz_addr(const u_char *data, size_t size);
static void fuzz_addr_one(int family, const u_char *addr);
static void fuzz_path(const u_char *data, size_t size);
static void fuzz_private(const char *r0, const char *r1,
    const char *const *list, size_t n);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_url(data, size);
    fuzz_addr(data, size);
    fuzz_path(data, size);

    return 0;
}


static void
fuzz_url(const u_char *data, size_t size)
{
    size_t         i, host_len;
    const char    *r0, *r1;
    const u_char  *host;

    r0 = ngx_http_wsgate_url_check(data, size, 0);
    r1 = ngx_http_wsgate_url_check(data, size, 1);

    fuzz_private(r0, r1, url_reasons, fuzz_nelts(url_reasons));

    /* the metadata service is refused always */

    if (r0 != NULL && strcmp(r0, NGX_HTTP_WSGATE_URL_METADATA) == 0) {
        fuzz_assert(r1 == r0);
    }

    if (r1 == NULL) {

        /* an acceptable URL: http(s)://, no byte a header would mind */

        fuzz_assert(size >= 8);
        fuzz_assert(fuzz_case_equal(data, 7, "http://")
                    || fuzz_case_equal(data, 8, "https://"));

        for (i = 0; i < size; i++) {
            fuzz_assert(data[i] > 0x20 && data[i] < 0x7f && data[i] != '\\');
        }
    }

    /* a name to resolve: inside the URL, and the URL was accepted */

    if (ngx_http_wsgate_url_host(data, size, &host, &host_len)) {
        fuzz_assert(r0 == NULL);
        fuzz_assert(host > data && host + host_len <= data + size);
        fuzz_assert(host_len > 0 && host_len <= NGX_HTTP_WSGATE_HOST_MAX);
        fuzz_assert(host[host_len - 1] != '.');
        fuzz_assert(host[0] != '[');

        for (i = 0; i < host_len; i++) {
            fuzz_assert(host[i] != '@' && host[i] != ':' && host[i] != '/');
        }
    }
}


/*
 * A resolver's answer: a sockaddr of the family the input's first byte
 * says (AF_INET, AF_INET6 or another, skipped as nginx skips it), the
 * rest of the input as its bytes.
 */

static void
fuzz_addr(const u_char *data, size_t size)
{
    u_char                    *addr;
    struct sockaddr           *sa;
    struct sockaddr_storage    ss;

    static const int  families[] = { AF_INET, AF_INET6, AF_UNIX };

    if (size < 1) {
        return;
    }

    memset(&ss, 0, sizeof(ss));
    memcpy(&ss, data + 1,
           size - 1 < sizeof(ss) ? size - 1 : sizeof(ss));

    sa = (struct sockaddr *) &ss;
    sa->sa_family = families[data[0] % fuzz_nelts(families)];

    switch (sa->sa_family) {

    case AF_INET6:
        addr = ((struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;
        break;

    case AF_INET:
        addr = (u_char *) &((struct sockaddr_in *) sa)->sin_addr.s_addr;
        break;

    default:

        /* another family is "invalid host" */

        fuzz_assert(strcmp(ngx_http_wsgate_addr_check(sa->sa_family,
                                                      (u_char *) &ss, 0),
                           NGX_HTTP_WSGATE_URL_HOST)
                    == 0);
        return;
    }

    fuzz_addr_one(sa->sa_family, addr);
}


static void
fuzz_addr_one(int family, const u_char *addr)
{
    char         text[INET6_ADDRSTRLEN], url[INET6_ADDRSTRLEN + 16];
    size_t       len;
    const char  *r0, *r1, *u0, *u1;

    r0 = ngx_http_wsgate_addr_check(family, addr, 0);
    r1 = ngx_http_wsgate_addr_check(family, addr, 1);

    fuzz_private(r0, r1, addr_reasons, fuzz_nelts(addr_reasons));

    /* the same address as a URL literal gets the same answer */

    fuzz_assert(inet_ntop(family, addr, text, sizeof(text)) != NULL);

    len = (size_t) snprintf(url, sizeof(url),
                            family == AF_INET6 ? "http://[%s]/" : "http://%s/",
                            text);

    u0 = ngx_http_wsgate_url_check((u_char *) url, len, 0);
    u1 = ngx_http_wsgate_url_check((u_char *) url, len, 1);

    fuzz_assert(u0 == r0);
    fuzz_assert(u1 == r1);
}


/*
 * The path rules of ngx_http_wsgate_check.h read independently: a path
 * (up to "?") is refused when a segment holds ";", "%2F" or "%5C", is
 * dots only with one of them encoded, or is "..".
 */

static int
fuzz_path_refused(const u_char *uri, size_t len)
{
    int            dots, encoded, other, hi, lo;
    const u_char  *p, *last;

    last = memchr(uri, '?', len);

    if (last == NULL) {
        last = uri + len;
    }

    dots = 0;
    encoded = 0;
    other = 0;

    for (p = uri; p <= last; p++) {

        if (p == last || *p == '/') {
            if (dots && !other && (encoded || dots == 2)) {
                return 1;
            }

            dots = 0;
            encoded = 0;
            other = 0;
            continue;
        }

        if (*p == ';') {
            return 1;
        }

        if (*p == '%' && p + 2 < last) {
            hi = ngx_http_wsgate_hex_value(p[1]);
            lo = ngx_http_wsgate_hex_value(p[2]);

            if (hi >= 0 && lo >= 0) {
                p += 2;

                if (hi * 16 + lo == '/' || hi * 16 + lo == '\\') {
                    return 1;
                }

                if (hi * 16 + lo == '.') {
                    dots++;
                    encoded = 1;

                } else {
                    other = 1;
                }

                continue;
            }
        }

        if (*p == '.') {
            dots++;

        } else {
            other = 1;
        }
    }

    return 0;
}


static void
fuzz_path(const u_char *data, size_t size)
{
    const char  *r;

    r = ngx_http_wsgate_path_check(data, size);

    fuzz_assert(r == NULL || fuzz_reason(r, path_reasons,
                                         fuzz_nelts(path_reasons)));

    if (size > 0) {
        fuzz_assert((r != NULL) == fuzz_path_refused(data, size));
    }
}


/*
 * An answer without (r0) and with (r1) allow_private: each a reason of
 * list, or none; allowing private addresses never refuses more, nor
 * otherwise, and lifts only a private reason
 */

static void
fuzz_private(const char *r0, const char *r1, const char *const *list,
    size_t n)
{
    fuzz_assert(r0 == NULL || fuzz_reason(r0, list, n));
    fuzz_assert(r1 == NULL || fuzz_reason(r1, list, n));

    if (r0 == NULL) {
        fuzz_assert(r1 == NULL);
    }

    if (r0 != r1) {
        fuzz_assert(fuzz_reason(r0, private_reasons,
                                fuzz_nelts(private_reasons)));
    }
}
