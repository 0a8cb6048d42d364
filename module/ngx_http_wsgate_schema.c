
/*
 * Copyright (C) wsgate authors
 *
 *     <prefix>token:<sha256hex>      hash  ws|name, kind, created_ms
 *     <prefix>ws:{<ws>}:tokens       set   the workspace's token digests
 *     <prefix>sys:{<name>}:tokens    set   a system caller's token digests
 *     <prefix>ws:{<ws>}:regfail      hash  at_ms, status, reason, source
 *     <prefix>ws:{<ws>}:restart      string, the restart time in ms
 *     <prefix>ws:{<ws>}:lock         string, wsgate-token's lock on a
 *     <prefix>sys:{<name>}:lock      token set on a Redis Cluster
 *
 * "{...}" is the Redis Cluster hash tag: the keys of one workspace live
 * in one slot, so a script may touch several of them.
 */


#include <string.h>
#include <strings.h>

#include "ngx_http_wsgate_schema.h"


typedef struct {
    const char  *head;      /* after the prefix, before the id */
    const char  *tail;      /* after the id */
    int          lower;     /* the id is a workspace UUID */
} ngx_http_wsgate_key_shape_t;


static const ngx_http_wsgate_key_shape_t  ngx_http_wsgate_keys[] = {
    { "token:", "", 0 },                /* NGX_HTTP_WSGATE_KEY_TOKEN */
    { "ws:{", "}:tokens", 1 },          /* NGX_HTTP_WSGATE_KEY_WS_TOKENS */
    { "sys:{", "}:tokens", 0 },         /* NGX_HTTP_WSGATE_KEY_SYS_TOKENS */
    { "ws:{", "}:regfail", 1 },         /* NGX_HTTP_WSGATE_KEY_REGFAIL */
    { "ws:{", "}:restart", 1 },         /* NGX_HTTP_WSGATE_KEY_RESTART */
    { "ws:{", "}:lock", 1 },            /* NGX_HTTP_WSGATE_KEY_WS_LOCK */
    { "sys:{", "}:lock", 0 }            /* NGX_HTTP_WSGATE_KEY_SYS_LOCK */
};


static const char  *ngx_http_wsgate_states[] = {
    "", "online", "restarting", "degraded"
};


size_t
ngx_http_wsgate_key_len(ngx_http_wsgate_key_e kind, size_t prefix_len,
    size_t id_len)
{
    const ngx_http_wsgate_key_shape_t  *k;

    k = &ngx_http_wsgate_keys[kind];

    return prefix_len + strlen(k->head) + id_len + strlen(k->tail);
}


u_char *
ngx_http_wsgate_key(u_char *dst, ngx_http_wsgate_key_e kind,
    const u_char *prefix, size_t prefix_len, const u_char *id, size_t id_len)
{
    size_t                              i, len;
    const ngx_http_wsgate_key_shape_t  *k;

    k = &ngx_http_wsgate_keys[kind];

    if (prefix_len) {
        memcpy(dst, prefix, prefix_len);
        dst += prefix_len;
    }

    len = strlen(k->head);
    memcpy(dst, k->head, len);
    dst += len;

    if (k->lower) {
        for (i = 0; i < id_len; i++) {
            *dst++ = (id[i] >= 'A' && id[i] <= 'Z')
                     ? id[i] - 'A' + 'a' : id[i];
        }

    } else {
        memcpy(dst, id, id_len);
        dst += id_len;
    }

    len = strlen(k->tail);
    memcpy(dst, k->tail, len);

    return dst + len;
}


int
ngx_http_wsgate_state(int failed, uint64_t at_ms, uint64_t restart_ms)
{
    if (!failed) {
        return NGX_HTTP_WSGATE_STATE_ONLINE;
    }

    if (restart_ms && at_ms >= restart_ms) {
        return NGX_HTTP_WSGATE_STATE_RESTARTING;
    }

    return NGX_HTTP_WSGATE_STATE_DEGRADED;
}


const char *
ngx_http_wsgate_state_name(int state)
{
    if (state < NGX_HTTP_WSGATE_STATE_NONE
        || state > NGX_HTTP_WSGATE_STATE_DEGRADED)
    {
        return "";
    }

    return ngx_http_wsgate_states[state];
}


int
ngx_http_wsgate_is_system_name(const u_char *name, size_t len,
    const char *const *prefixes, size_t n)
{
    size_t  i, plen;

    for (i = 0; i < n; i++) {
        if (prefixes[i] == NULL) {
            continue;
        }

        plen = strlen(prefixes[i]);

        if (plen <= len
            && (plen == 0
                || strncasecmp((const char *) name, prefixes[i], plen) == 0))
        {
            return 1;
        }
    }

    return 0;
}
