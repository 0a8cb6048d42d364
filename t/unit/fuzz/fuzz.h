
/*
 * Copyright (C) wsgate authors
 *
 * What the libFuzzer harnesses share.  Each t/unit/fuzz/fuzz_<name>.c is
 * built alone with the pure sources (make fuzz); besides the sanitizers,
 * a harness traps when an answer breaks the documented contract.
 */


#ifndef _FUZZ_H_INCLUDED_
#define _FUZZ_H_INCLUDED_


#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>


#define fuzz_assert(expr)                                                     \
    if (!(expr)) {                                                            \
        __builtin_trap();                                                     \
    }

#define fuzz_nelts(a)  (sizeof(a) / sizeof((a)[0]))


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/*
 * The URL check's reasons (ngx_http_wsgate_check.h), for the lists a
 * harness holds answers to: what an address can get (no syntax reason),
 * and what a URL can (its syntax, its address, its name)
 */

#define FUZZ_ADDR_REASONS                                                     \
    NGX_HTTP_WSGATE_URL_UNSPECIFIED,                                          \
    NGX_HTTP_WSGATE_URL_LOOPBACK,                                             \
    NGX_HTTP_WSGATE_URL_LINK_LOCAL,                                           \
    NGX_HTTP_WSGATE_URL_MULTICAST,                                            \
    NGX_HTTP_WSGATE_URL_PRIVATE,                                              \
    NGX_HTTP_WSGATE_URL_UNIQUE_LOCAL,                                         \
    NGX_HTTP_WSGATE_URL_DOCUMENTATION,                                        \
    NGX_HTTP_WSGATE_URL_CGNAT,                                                \
    NGX_HTTP_WSGATE_URL_RESERVED,                                             \
    NGX_HTTP_WSGATE_URL_TEREDO,                                               \
    NGX_HTTP_WSGATE_URL_METADATA

#define FUZZ_URL_REASONS                                                      \
    NGX_HTTP_WSGATE_URL_INVALID,                                              \
    NGX_HTTP_WSGATE_URL_SCHEME,                                               \
    NGX_HTTP_WSGATE_URL_NO_HOST,                                              \
    NGX_HTTP_WSGATE_URL_USERINFO,                                             \
    NGX_HTTP_WSGATE_URL_PORT,                                                 \
    NGX_HTTP_WSGATE_URL_HOST,                                                 \
    NGX_HTTP_WSGATE_URL_NUMERIC,                                              \
    FUZZ_ADDR_REASONS,                                                        \
    NGX_HTTP_WSGATE_URL_INTERNAL


/* 1 if reason is one of the n strings of list (by content), else 0 */

static inline int
fuzz_reason(const char *reason, const char *const *list, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (strcmp(reason, list[i]) == 0) {
            return 1;
        }
    }

    return 0;
}


static inline u_char
fuzz_lower(u_char c)
{
    return (c >= 'A' && c <= 'Z') ? (u_char) (c | 0x20) : c;
}


/* ASCII case-insensitive equality of n bytes */

static inline int
fuzz_case_mem(const u_char *a, const u_char *b, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (fuzz_lower(a[i]) != fuzz_lower(b[i])) {
            return 0;
        }
    }

    return 1;
}


/* ASCII case-insensitive equality of a (alen bytes) and s */

static inline int
fuzz_case_equal(const u_char *a, size_t alen, const char *s)
{
    return alen == strlen(s) && fuzz_case_mem(a, (const u_char *) s, alen);
}


#endif /* _FUZZ_H_INCLUDED_ */
