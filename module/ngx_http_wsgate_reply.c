
/*
 * Copyright (C) wsgate authors
 */


#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "ngx_http_wsgate_reply.h"
#include "ngx_http_wsgate_uuid.h"


/*
 * An array header announcing more elements than this is refused (the
 * reader fails, as when out of memory, and the connection with it):
 * "*2147483647" would have the pointers to its elements, 16 GiB of them,
 * allocated and zeroed before a single element came.  wsgate's largest
 * arrays are the cache's invalidation messages, a key per element.
 */
#define NGX_HTTP_WSGATE_REPLY_MAX_ELTS  (1024 * 1024)


static ngx_http_wsgate_reply_t *ngx_http_wsgate_reply_create(
    const redisReadTask *task, ngx_http_wsgate_reply_type_e type,
    size_t size);
static void *ngx_http_wsgate_reply_string(const redisReadTask *task,
    char *str, size_t len);
#if (HIREDIS_MAJOR >= 1)
static void *ngx_http_wsgate_reply_array(const redisReadTask *task,
    size_t n);
#else
static void *ngx_http_wsgate_reply_array(const redisReadTask *task, int n);
#endif
static void *ngx_http_wsgate_reply_integer(const redisReadTask *task,
    long long n);
static void *ngx_http_wsgate_reply_nil(const redisReadTask *task);


/* hiredis's reader builds wsgate's own reply values */

static redisReplyObjectFunctions  ngx_http_wsgate_reply_functions = {
    .createString = ngx_http_wsgate_reply_string,
    .createArray = ngx_http_wsgate_reply_array,
    .createInteger = ngx_http_wsgate_reply_integer,
    .createNil = ngx_http_wsgate_reply_nil,
    .freeObject = ngx_http_wsgate_reply_free
};


redisReader *
ngx_http_wsgate_reply_reader(void)
{
    return redisReaderCreateWithFunctions(&ngx_http_wsgate_reply_functions);
}


/*
 * A reply value and what it holds (the string's bytes, NUL-terminated,
 * or the array's element pointers) in one allocation, linked into its
 * parent array as hiredis's own reply objects are.
 */

static ngx_http_wsgate_reply_t *
ngx_http_wsgate_reply_create(const redisReadTask *task,
    ngx_http_wsgate_reply_type_e type, size_t size)
{
    ngx_http_wsgate_reply_t  *reply, *parent;

    reply = malloc(sizeof(ngx_http_wsgate_reply_t) + size);
    if (reply == NULL) {
        return NULL;
    }

    memset(reply, 0, sizeof(ngx_http_wsgate_reply_t));

    reply->type = type;

    if (task->parent) {
        parent = task->parent->obj;
        parent->elts[task->idx] = reply;
    }

    return reply;
}


static void *
ngx_http_wsgate_reply_string(const redisReadTask *task, char *str, size_t len)
{
    ngx_http_wsgate_reply_t  *reply;

    reply = ngx_http_wsgate_reply_create(task,
                                         task->type == REDIS_REPLY_ERROR
                                         ? NGX_HTTP_WSGATE_REPLY_ERROR
                                         : NGX_HTTP_WSGATE_REPLY_STRING,
                                         len + 1);
    if (reply == NULL) {
        return NULL;
    }

    reply->str.data = (u_char *) (reply + 1);
    reply->str.len = len;

    memcpy(reply->str.data, str, len);
    reply->str.data[len] = '\0';

    return reply;
}


static void *
#if (HIREDIS_MAJOR >= 1)
ngx_http_wsgate_reply_array(const redisReadTask *task, size_t n)
#else
ngx_http_wsgate_reply_array(const redisReadTask *task, int n)
#endif
{
    ngx_http_wsgate_reply_t  *reply;

    if ((size_t) n > NGX_HTTP_WSGATE_REPLY_MAX_ELTS) {
        return NULL;
    }

    reply = ngx_http_wsgate_reply_create(task, NGX_HTTP_WSGATE_REPLY_ARRAY,
                                     n * sizeof(ngx_http_wsgate_reply_t *));
    if (reply == NULL) {
        return NULL;
    }

    reply->nelts = n;
    reply->elts = (ngx_http_wsgate_reply_t **) (reply + 1);

    memset(reply->elts, 0, n * sizeof(ngx_http_wsgate_reply_t *));

    return reply;
}


static void *
ngx_http_wsgate_reply_integer(const redisReadTask *task, long long n)
{
    ngx_http_wsgate_reply_t  *reply;

    reply = ngx_http_wsgate_reply_create(task, NGX_HTTP_WSGATE_REPLY_INTEGER,
                                         0);
    if (reply == NULL) {
        return NULL;
    }

    reply->integer = n;

    return reply;
}


static void *
ngx_http_wsgate_reply_nil(const redisReadTask *task)
{
    return ngx_http_wsgate_reply_create(task, NGX_HTTP_WSGATE_REPLY_NIL, 0);
}


void
ngx_http_wsgate_reply_free(void *data)
{
    ngx_http_wsgate_reply_t *reply = data;

    size_t  i;

    if (reply == NULL) {
        return;
    }

    for (i = 0; i < reply->nelts; i++) {
        ngx_http_wsgate_reply_free(reply->elts[i]);
    }

    free(reply);
}


int
ngx_http_wsgate_reply_is(ngx_http_wsgate_reply_t *reply, const char *s,
    size_t len)
{
    return reply->type == NGX_HTTP_WSGATE_REPLY_STRING
           && reply->str.len == len
           && memcmp(reply->str.data, s, len) == 0;
}


int
ngx_http_wsgate_reply_is_loading(ngx_http_wsgate_reply_t *reply)
{
    return reply->type == NGX_HTTP_WSGATE_REPLY_ERROR
           && reply->str.len >= 7
           && memcmp(reply->str.data, "LOADING", 7) == 0;
}


int
ngx_http_wsgate_reply_is_message(ngx_http_wsgate_reply_t *reply)
{
    return reply->type == NGX_HTTP_WSGATE_REPLY_ARRAY
           && reply->nelts == 3
           && ngx_http_wsgate_reply_is(reply->elts[0], "message", 7);
}


int
ngx_http_wsgate_reply_record(ngx_http_wsgate_reply_t *reply, int with_pttl,
    ngx_http_wsgate_token_record_t *rec)
{
    ngx_http_wsgate_reply_t  *ws, *kind, *name;

    if (reply->type == NGX_HTTP_WSGATE_REPLY_ERROR) {
        return NGX_HTTP_WSGATE_RECORD_ERROR;
    }

    if (reply->type != NGX_HTTP_WSGATE_REPLY_ARRAY
        || reply->nelts != (with_pttl ? 4 : 3)
        || (with_pttl
            && reply->elts[3]->type != NGX_HTTP_WSGATE_REPLY_INTEGER))
    {
        return NGX_HTTP_WSGATE_RECORD_UNEXPECTED;
    }

    ws = reply->elts[0];
    kind = reply->elts[1];
    name = reply->elts[2];
    rec->pttl = with_pttl ? reply->elts[3]->integer : -1;

    if (kind->type == NGX_HTTP_WSGATE_REPLY_NIL) {
        return NGX_HTTP_WSGATE_RECORD_UNKNOWN;
    }

    if (ngx_http_wsgate_reply_is(kind, "workspace", sizeof("workspace") - 1)
        && ws->type == NGX_HTTP_WSGATE_REPLY_STRING
        && ngx_http_wsgate_uuid_parse(ws->str.data, ws->str.len, NULL) == 0)
    {
        rec->id = ws->str;
        return NGX_HTTP_WSGATE_RECORD_WORKSPACE;
    }

    if (ngx_http_wsgate_reply_is(kind, "system", sizeof("system") - 1)
        && name->type == NGX_HTTP_WSGATE_REPLY_STRING
        && name->str.len > 0)
    {
        rec->id = name->str;
        return NGX_HTTP_WSGATE_RECORD_SYSTEM;
    }

    return NGX_HTTP_WSGATE_RECORD_MALFORMED;
}


int
ngx_http_wsgate_reply_invalidation(ngx_http_wsgate_reply_t *msg,
    const u_char *channel, size_t channel_len,
    ngx_http_wsgate_reply_t ***keys, size_t *nkeys)
{
    ngx_http_wsgate_reply_t  *payload;

    if (!ngx_http_wsgate_reply_is_message(msg)
        || !ngx_http_wsgate_reply_is(msg->elts[1], (const char *) channel,
                                     channel_len))
    {
        return NGX_HTTP_WSGATE_INVALIDATE_NONE;
    }

    payload = msg->elts[2];

    switch (payload->type) {

    case NGX_HTTP_WSGATE_REPLY_ARRAY:
        *keys = payload->elts;
        *nkeys = payload->nelts;
        return NGX_HTTP_WSGATE_INVALIDATE_KEYS;

    case NGX_HTTP_WSGATE_REPLY_STRING:
        *keys = &msg->elts[2];
        *nkeys = 1;
        return NGX_HTTP_WSGATE_INVALIDATE_KEYS;

    default:
        return NGX_HTTP_WSGATE_INVALIDATE_FLUSH;
    }
}


int
ngx_http_wsgate_reply_digest(ngx_http_wsgate_reply_t *key,
    const u_char *prefix, size_t prefix_len, u_char *digest, size_t len)
{
    if (key->type != NGX_HTTP_WSGATE_REPLY_STRING
        || key->str.len != prefix_len + 2 * len
        || memcmp(key->str.data, prefix, prefix_len) != 0)
    {
        return -1;
    }

    return ngx_http_wsgate_hex_decode(digest, key->str.data + prefix_len,
                                      len);
}
