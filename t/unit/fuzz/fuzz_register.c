
/*
 * Copyright (C) wsgate authors
 *
 * libFuzzer harness for the register payload: the input is a
 * POST /registry/register body for ngx_http_wsgate_register_check().
 * A refusal names a documented field and reason; an accepted payload is
 * read again with cJSON and must really have what the rules ask for.
 */


#include <cjson/cJSON.h>

#include "fuzz.h"
#include "ngx_http_wsgate_check.h"
#include "ngx_http_wsgate_uuid.h"


static const char *const  reasons[] = {
    NGX_HTTP_WSGATE_REG_NOT_JSON,
    NGX_HTTP_WSGATE_REG_BODY_OBJECT,
    NGX_HTTP_WSGATE_REG_NUL,
    NGX_HTTP_WSGATE_REG_DUPLICATE,
    NGX_HTTP_WSGATE_REG_FOLD_DUP,
    NGX_HTTP_WSGATE_REG_MISSING,
    NGX_HTTP_WSGATE_REG_NOT_STRING,
    NGX_HTTP_WSGATE_REG_NOT_UUID,
    NGX_HTTP_WSGATE_REG_NOT_OBJECT,
    NGX_HTTP_WSGATE_REG_EMPTY,

    /* "url" carries the URL check's */
    FUZZ_URL_REASONS
};

static const char *const  fields[] = {
    "body", "id", "url", "agent_card", "agent_card.name"
};


/* how many keys of object equal name in ASCII case */

static int
fuzz_count_keys(const cJSON *object, const char *name)
{
    int           n;
    const cJSON  *item;

    n = 0;

    cJSON_ArrayForEach(item, object) {
        if (item->string != NULL
            && fuzz_case_equal((u_char *) item->string, strlen(item->string),
                               name))
        {
            n++;
        }
    }

    return n;
}


/* an accepted payload, read again */

static void
fuzz_accepted(const uint8_t *data, size_t size, int allow_private,
    ngx_http_wsgate_verdict_t *v, const u_char *id)
{
    size_t         host_len;
    cJSON         *json, *item, *card, *name;
    const u_char  *url, *host;

    json = cJSON_ParseWithLength((const char *) data, size);

    fuzz_assert(json != NULL);
    fuzz_assert(cJSON_IsObject(json));

    /* each checked key once, in any case */

    fuzz_assert(fuzz_count_keys(json, "id") == 1);
    fuzz_assert(fuzz_count_keys(json, "url") == 1);
    fuzz_assert(fuzz_count_keys(json, "agent_card") == 1);

    item = cJSON_GetObjectItemCaseSensitive(json, "id");
    fuzz_assert(cJSON_IsString(item));
    fuzz_assert(ngx_http_wsgate_uuid_parse((u_char *) item->valuestring,
                                           strlen(item->valuestring), NULL)
                == 0);
    fuzz_assert(memcmp(item->valuestring, id, NGX_HTTP_WSGATE_UUID_LEN)
                == 0);

    item = cJSON_GetObjectItemCaseSensitive(json, "url");
    fuzz_assert(cJSON_IsString(item));

    url = (u_char *) item->valuestring;

    fuzz_assert(ngx_http_wsgate_url_check(url, strlen(item->valuestring),
                                          allow_private)
                == NULL);

    /* the name to resolve is the URL's */

    if (ngx_http_wsgate_url_host(url, strlen(item->valuestring), &host,
                                 &host_len))
    {
        fuzz_assert(v->host_len == host_len);
        fuzz_assert(memcmp(v->host, host, host_len) == 0);

    } else {
        fuzz_assert(v->host_len == 0);
    }

    card = cJSON_GetObjectItemCaseSensitive(json, "agent_card");
    fuzz_assert(cJSON_IsObject(card));
    fuzz_assert(fuzz_count_keys(card, "name") == 1);

    name = cJSON_GetObjectItemCaseSensitive(card, "name");
    fuzz_assert(cJSON_IsString(name));
    fuzz_assert(name->valuestring[0] != '\0');

    cJSON_Delete(json);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                        rc, rc2;
    u_char                     id[NGX_HTTP_WSGATE_UUID_LEN];
    u_char                     id2[NGX_HTTP_WSGATE_UUID_LEN];
    ngx_http_wsgate_verdict_t  v, v2;

    memset(id, 0, sizeof(id));
    memset(id2, 0, sizeof(id2));

    rc = ngx_http_wsgate_register_check(data, size, 0, &v, id);
    rc2 = ngx_http_wsgate_register_check(data, size, 1, &v2, id2);

    fuzz_assert(rc == 0 || rc == -1);
    fuzz_assert(rc2 == 0 || rc2 == -1);

    /* a valid "id" is reported whatever comes after it */

    fuzz_assert(memcmp(id, id2, sizeof(id)) == 0);

    if (id[0] != '\0') {
        fuzz_assert(ngx_http_wsgate_uuid_parse(id, sizeof(id), NULL) == 0);
    }

    if (rc == 0) {
        fuzz_assert(id[0] != '\0');

        /* allowing private addresses never refuses more */

        fuzz_assert(rc2 == 0);
        fuzz_assert(v.host_len == v2.host_len);
        fuzz_assert(memcmp(v.host, v2.host, v.host_len) == 0);

        fuzz_accepted(data, size, 0, &v, id);

    } else {
        fuzz_assert(v.field != NULL && v.reason != NULL);
        fuzz_assert(fuzz_reason(v.field, fields, fuzz_nelts(fields)));
        fuzz_assert(fuzz_reason(v.reason, reasons, fuzz_nelts(reasons)));
        fuzz_assert(v.host_len == 0);
    }

    if (rc2 == 0) {
        fuzz_accepted(data, size, 1, &v2, id2);

    } else {
        fuzz_assert(rc != 0);
        fuzz_assert(v2.field != NULL && v2.reason != NULL);
        fuzz_assert(fuzz_reason(v2.field, fields, fuzz_nelts(fields)));
        fuzz_assert(fuzz_reason(v2.reason, reasons, fuzz_nelts(reasons)));
        fuzz_assert(v2.host_len == 0);
    }

    fuzz_assert(v.host_len <= NGX_HTTP_WSGATE_HOST_MAX);
    fuzz_assert(v2.host_len <= NGX_HTTP_WSGATE_HOST_MAX);

    return 0;
}
