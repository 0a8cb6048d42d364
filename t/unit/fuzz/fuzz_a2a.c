
/*
 * Copyright (C) wsgate authors
 *
 * libFuzzer harness for A2A: the input is a JSON-RPC body for
 * ngx_http_wsgate_a2a_check(), and also a caller claim (X-Workspace-ID)
 * and a system caller's name, for the rules ngx_http_wsgate_a2a.c
 * builds from: the system-name prefixes (ngx_http_wsgate_is_system_name())
 * and the rewriting of a system caller to its UUIDv5 (uuid_v5, _parse,
 * _format, _equal).
 */


#include <cjson/cJSON.h>

#include "fuzz.h"
#include "ngx_http_wsgate_check.h"
#include "ngx_http_wsgate_schema.h"
#include "ngx_http_wsgate_uuid.h"


#define FUZZ_NAME_MAX  600


static const char *const  reasons[] = {
    NGX_HTTP_WSGATE_A2A_NOT_JSON,
    NGX_HTTP_WSGATE_A2A_NOT_OBJECT,
    NGX_HTTP_WSGATE_A2A_JSONRPC,
    NGX_HTTP_WSGATE_A2A_METHOD,
    NGX_HTTP_WSGATE_A2A_ID,
    NGX_HTTP_WSGATE_A2A_DUP_JSONRPC,
    NGX_HTTP_WSGATE_A2A_DUP_METHOD,
    NGX_HTTP_WSGATE_A2A_DUP_ID,
    NGX_HTTP_WSGATE_A2A_NUL_KEY,
    NGX_HTTP_WSGATE_A2A_NUL_METHOD,
    NGX_HTTP_WSGATE_A2A_NUL_ID,
    NGX_HTTP_WSGATE_A2A_FOLD_DUP,
};

/* wsgate_system_prefixes' default, and odd configurations */
static const char *const  defaults[] = {
    "system:", "webhook:", "channel:", "test:"
};
static const char *const  odd[] = { NULL, "x", "SYS:" };
static const char *const  empty[] = { "" };

/* RFC 4122 NameSpace_URL, wsgate_system_namespace's default */
static const u_char  ns_url[16] = {
    0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
    0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8
};


static void
fuzz_envelope(const uint8_t *data, size_t size)
{
    int           n;
    cJSON        *json, *item, *it;
    const char   *r;

    r = ngx_http_wsgate_a2a_check(data, size);

    fuzz_assert(r == NULL || fuzz_reason(r, reasons, fuzz_nelts(reasons)));

    if (r != NULL) {
        return;
    }

    /* accepted: a JSON-RPC 2.0 request, each member once in any case */

    json = cJSON_ParseWithLength((const char *) data, size);

    fuzz_assert(json != NULL && cJSON_IsObject(json));

    item = cJSON_GetObjectItemCaseSensitive(json, "jsonrpc");
    fuzz_assert(cJSON_IsString(item) && strcmp(item->valuestring, "2.0") == 0);

    item = cJSON_GetObjectItemCaseSensitive(json, "method");
    fuzz_assert(cJSON_IsString(item));

    item = cJSON_GetObjectItemCaseSensitive(json, "id");
    fuzz_assert(cJSON_IsString(item) || cJSON_IsNumber(item));

    n = 0;

    cJSON_ArrayForEach(it, json) {
        fuzz_assert(it->string != NULL);

        if (fuzz_case_equal((u_char *) it->string, strlen(it->string),
                            "jsonrpc")
            || fuzz_case_equal((u_char *) it->string, strlen(it->string),
                               "method")
            || fuzz_case_equal((u_char *) it->string, strlen(it->string),
                               "id"))
        {
            n++;
        }
    }

    fuzz_assert(n == 3);

    cJSON_Delete(json);
}


/* the rule read independently: a prefix in ASCII case, NULLs skipped */

static int
fuzz_is_system(const u_char *name, size_t len, const char *const *prefixes,
    size_t n)
{
    size_t  i, plen;

    for (i = 0; i < n; i++) {
        if (prefixes[i] == NULL) {
            continue;
        }

        plen = strlen(prefixes[i]);

        if (plen <= len && fuzz_case_equal(name, plen, prefixes[i])) {
            return 1;
        }
    }

    return 0;
}


static void
fuzz_prefixes(const u_char *name, size_t len, const char *const *prefixes,
    size_t n)
{
    int     sys;
    size_t  i;
    u_char  upper[FUZZ_NAME_MAX], lower[FUZZ_NAME_MAX];

    sys = ngx_http_wsgate_is_system_name(name, len, prefixes, n);

    fuzz_assert(sys == 0 || sys == 1);
    fuzz_assert(sys == fuzz_is_system(name, len, prefixes, n));

    /* "SYSTEM:x" is as much a system name as "system:x" */

    for (i = 0; i < len; i++) {
        upper[i] = (name[i] >= 'a' && name[i] <= 'z') ? name[i] - 0x20
                                                      : name[i];
        lower[i] = fuzz_lower(name[i]);
    }

    fuzz_assert(ngx_http_wsgate_is_system_name(upper, len, prefixes, n)
                == sys);
    fuzz_assert(ngx_http_wsgate_is_system_name(lower, len, prefixes, n)
                == sys);
}


/*
 * A system caller's name rewritten to its UUID: a version 5 UUID,
 * the same each time, never itself a system name nor a forgery, and the
 * claim of that UUID in any hex case is the same caller.
 */

static void
fuzz_rewrite(const u_char *name, size_t len)
{
    size_t  i;
    u_char  id[NGX_HTTP_WSGATE_UUID_LEN], again[NGX_HTTP_WSGATE_UUID_LEN];
    u_char  claim[NGX_HTTP_WSGATE_UUID_LEN], bin[16];

    fuzz_assert(ngx_http_wsgate_uuid_v5(ns_url, name, len, id) == 0);
    fuzz_assert(ngx_http_wsgate_uuid_v5(ns_url, name, len, again) == 0);
    fuzz_assert(memcmp(id, again, sizeof(id)) == 0);

    fuzz_assert(ngx_http_wsgate_uuid_parse(id, sizeof(id), bin) == 0);
    fuzz_assert((bin[6] >> 4) == 5);
    fuzz_assert((bin[8] & 0xc0) == 0x80);

    ngx_http_wsgate_uuid_format(bin, again);
    fuzz_assert(memcmp(id, again, sizeof(id)) == 0);

    fuzz_assert(!ngx_http_wsgate_is_system_name(id, sizeof(id), defaults,
                                                fuzz_nelts(defaults)));

    for (i = 0; i < sizeof(id); i++) {
        claim[i] = (id[i] >= 'a' && id[i] <= 'f') ? id[i] - 0x20 : id[i];
    }

    fuzz_assert(ngx_http_wsgate_uuid_equal(claim, sizeof(claim), id,
                                           sizeof(id)));

    /* a claim is that caller only if it is that UUID, in any hex case */

    fuzz_assert(ngx_http_wsgate_uuid_equal(name, len, id, sizeof(id))
                == (len == sizeof(id) && fuzz_case_mem(name, id, len)));
}


/* UUID text: parse, format and equal agree */

static void
fuzz_uuid(const u_char *s, size_t len)
{
    u_char  bin[16], text[NGX_HTTP_WSGATE_UUID_LEN];
    u_char  hex[2 * FUZZ_NAME_MAX], raw[FUZZ_NAME_MAX];

    if (ngx_http_wsgate_uuid_parse(s, len, bin) == 0) {
        ngx_http_wsgate_uuid_format(bin, text);
        fuzz_assert(ngx_http_wsgate_uuid_equal(s, len, text, sizeof(text)));
        fuzz_assert(fuzz_case_mem(s, text, sizeof(text)));

    } else {
        fuzz_assert(!ngx_http_wsgate_uuid_equal(s, len, s, len));
    }

    /* hex: dump then decode is the identity */

    ngx_http_wsgate_hex_dump(hex, s, len);
    fuzz_assert(ngx_http_wsgate_hex_decode(raw, hex, len) == 0);
    fuzz_assert(memcmp(raw, s, len) == 0);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t  len;

    fuzz_envelope(data, size);

    len = size < FUZZ_NAME_MAX ? size : FUZZ_NAME_MAX;

    fuzz_prefixes(data, len, defaults, fuzz_nelts(defaults));
    fuzz_prefixes(data, len, odd, fuzz_nelts(odd));
    fuzz_prefixes(data, len, empty, fuzz_nelts(empty));
    fuzz_prefixes(data, len, defaults, 0);

    fuzz_rewrite(data, len);
    fuzz_uuid(data, len);

    return 0;
}
