
/*
 * Copyright (C) wsgate authors
 *
 * The access decision: parse "Authorization: Bearer <token>", look up
 * sha256(token) in Redis without blocking, then admit the request, or
 * answer 401 or 503 with the JSON bodies of the product contract.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_wsgate_module.h"


static ngx_int_t ngx_http_wsgate_auth_checks(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);
static ngx_int_t ngx_http_wsgate_auth_start(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);
static void ngx_http_wsgate_auth_reply(void *data, redisReply *reply,
    ngx_http_wsgate_redis_status_e status);
static ngx_uint_t ngx_http_wsgate_auth_record(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, redisReply *reply);
static ngx_int_t ngx_http_wsgate_auth_copy(ngx_http_request_t *r,
    ngx_str_t *dst, redisReply *reply);
static ngx_int_t ngx_http_wsgate_auth_bind(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);
static void ngx_http_wsgate_auth_cleanup(void *data);
static ngx_int_t ngx_http_wsgate_process_authorization(ngx_http_request_t *r,
    ngx_table_elt_t *h, ngx_uint_t offset);


static ngx_str_t  ngx_http_wsgate_missing_body =
    ngx_string("{\"error\":\"missing workspace auth token\"}");
static ngx_str_t  ngx_http_wsgate_invalid_body =
    ngx_string("{\"error\":\"invalid workspace auth token\"}");
static ngx_str_t  ngx_http_wsgate_unavailable_body =
    ngx_string("{\"error\":\"auth backend unavailable\"}");

static ngx_str_t  ngx_http_wsgate_authorization = ngx_string("Authorization");
static ngx_str_t  ngx_http_wsgate_www_authenticate =
    ngx_string("WWW-Authenticate");
static ngx_str_t  ngx_http_wsgate_missing_challenge = ngx_string("Bearer");
static ngx_str_t  ngx_http_wsgate_invalid_challenge =
    ngx_string("Bearer error=\"invalid_token\"");


ngx_int_t
ngx_http_wsgate_auth_handler(ngx_http_request_t *r)
{
    ngx_http_wsgate_ctx_t       *ctx;
    ngx_http_wsgate_loc_conf_t  *wlcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_wsgate_module);

    if (!wlcf->auth) {

        /* nginx's own answer, which the Authorization hook defers */

        if (r->headers_in.authorization
            && ngx_http_wsgate_count_header(r, &ngx_http_wsgate_authorization,
                                            NULL)
               > 1)
        {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "client sent duplicate header line: "
                          "\"Authorization\"");
            return NGX_HTTP_BAD_REQUEST;
        }

        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_wsgate_module);

    if (ctx == NULL) {
        ctx = ngx_http_wsgate_get_ctx(r);
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_wsgate_auth_start(r, ctx);
    }

    if (ctx->waiting) {
        return NGX_AGAIN;
    }

    if (ctx->auth_result != NGX_HTTP_WSGATE_AUTH_OK) {
        return ngx_http_wsgate_auth_deny(r, ctx);
    }

    return ngx_http_wsgate_auth_checks(r, ctx);
}


/* what the location fronts, once the token is accepted */

static ngx_int_t
ngx_http_wsgate_auth_checks(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx)
{
    ngx_http_wsgate_loc_conf_t  *wlcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_wsgate_module);

    if (wlcf->a2a) {
        return ngx_http_wsgate_a2a_access(r, ctx);
    }

    if (wlcf->reg) {
        return ngx_http_wsgate_register_access(r, ctx);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_wsgate_auth_start(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx)
{
    size_t                          len;
    u_char                         *key, *p;
    ngx_str_t                       argv[5];
    const u_char                   *token;
    ngx_table_elt_t                *h;
    ngx_http_cleanup_t             *cln;
    ngx_http_wsgate_redis_op_t     *op;
    ngx_http_wsgate_main_conf_t    *wmcf;
    ngx_http_wsgate_redis_status_e  status;

    h = r->headers_in.authorization;

    if (h == NULL
        || ngx_http_wsgate_count_header(r, &ngx_http_wsgate_authorization,
                                        NULL)
           != 1
        || ngx_http_wsgate_bearer_parse(h->value.data, h->value.len,
                                        &token, &len)
           != 0)
    {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "wsgate auth: no usable bearer token");

        ctx->auth_result = NGX_HTTP_WSGATE_AUTH_MISSING;
        return ngx_http_wsgate_auth_deny(r, ctx);
    }

    ctx->prefix_len = NGX_HTTP_WSGATE_PREFIX_LEN;
    ngx_memcpy(ctx->prefix, token, NGX_HTTP_WSGATE_PREFIX_LEN);

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_wsgate_module);

    key = ngx_pnalloc(r->pool, wmcf->key_prefix.len + sizeof("token:") - 1
                               + NGX_HTTP_WSGATE_DIGEST_LEN);
    if (key == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(key, wmcf->key_prefix.data, wmcf->key_prefix.len);
    p = ngx_cpymem(p, "token:", sizeof("token:") - 1);

    if (ngx_http_wsgate_sha256_hex(token, len, p) != 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "wsgate auth: EVP_Digest() failed");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p += NGX_HTTP_WSGATE_DIGEST_LEN;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsgate auth: token \"%*s...\" lookup",
                   (size_t) NGX_HTTP_WSGATE_PREFIX_LEN, ctx->prefix);

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_wsgate_auth_cleanup;
    cln->data = ctx;

    ngx_str_set(&argv[0], "HMGET");
    argv[1].data = key;
    argv[1].len = p - key;
    ngx_str_set(&argv[2], "ws");
    ngx_str_set(&argv[3], "kind");
    ngx_str_set(&argv[4], "name");

    op = ngx_http_wsgate_redis_send(wmcf->client, 5, argv,
                                    ngx_http_wsgate_auth_reply, ctx, &status);

    if (op == NULL) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "wsgate auth: redis unavailable (%d)", status);

        ctx->auth_result = NGX_HTTP_WSGATE_AUTH_UNAVAILABLE;
        return ngx_http_wsgate_auth_deny(r, ctx);
    }

    ctx->waiting = 1;

    return ngx_http_wsgate_wait(r, ctx, op);
}


static void
ngx_http_wsgate_auth_reply(void *data, redisReply *reply,
    ngx_http_wsgate_redis_status_e status)
{
    ngx_http_wsgate_ctx_t *ctx = data;

    ngx_http_request_t  *r;

    r = ctx->request;

    ctx->op = NULL;
    ctx->waiting = 0;

    if (reply == NULL) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "wsgate auth: no reply from redis (%d)", status);
        ctx->auth_result = NGX_HTTP_WSGATE_AUTH_UNAVAILABLE;

    } else {
        ctx->auth_result = ngx_http_wsgate_auth_record(r, ctx, reply);
    }

    if (ctx->auth_result == NGX_HTTP_WSGATE_AUTH_OK
        && ngx_http_wsgate_auth_bind(r, ctx) != NGX_OK)
    {
        ctx->auth_result = NGX_HTTP_WSGATE_AUTH_MISMATCH;
    }

    ngx_http_wsgate_resume(r);
}


/* reads the HMGET ws kind name reply into ctx */

static ngx_uint_t
ngx_http_wsgate_auth_record(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx,
    redisReply *reply)
{
    redisReply  *ws, *kind, *name;

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "wsgate auth: redis answered the token lookup "
                      "with \"%*s\"", reply->len, reply->str);
        return NGX_HTTP_WSGATE_AUTH_UNAVAILABLE;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "wsgate auth: unexpected redis reply type %d",
                      reply->type);
        return NGX_HTTP_WSGATE_AUTH_UNAVAILABLE;
    }

    ws = reply->element[0];
    kind = reply->element[1];
    name = reply->element[2];

    if (kind->type == REDIS_REPLY_NIL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsgate auth: unknown token \"%*s...\"",
                      (size_t) NGX_HTTP_WSGATE_PREFIX_LEN, ctx->prefix);
        return NGX_HTTP_WSGATE_AUTH_INVALID;
    }

    if (kind->type == REDIS_REPLY_STRING
        && kind->len == sizeof("workspace") - 1
        && ngx_strncmp(kind->str, "workspace", kind->len) == 0
        && ws->type == REDIS_REPLY_STRING
        && ngx_http_wsgate_uuid_parse((u_char *) ws->str, ws->len, NULL)
           == 0)
    {
        ctx->kind = NGX_HTTP_WSGATE_KIND_WORKSPACE;

        if (ngx_http_wsgate_auth_copy(r, &ctx->workspace, ws) != NGX_OK) {
            return NGX_HTTP_WSGATE_AUTH_UNAVAILABLE;
        }

        return NGX_HTTP_WSGATE_AUTH_OK;
    }

    if (kind->type == REDIS_REPLY_STRING
        && kind->len == sizeof("system") - 1
        && ngx_strncmp(kind->str, "system", kind->len) == 0
        && name->type == REDIS_REPLY_STRING
        && name->len > 0)
    {
        ctx->kind = NGX_HTTP_WSGATE_KIND_SYSTEM;

        if (ngx_http_wsgate_auth_copy(r, &ctx->name, name) != NGX_OK) {
            return NGX_HTTP_WSGATE_AUTH_UNAVAILABLE;
        }

        return NGX_HTTP_WSGATE_AUTH_OK;
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "wsgate auth: malformed token record for \"%*s...\"",
                  (size_t) NGX_HTTP_WSGATE_PREFIX_LEN, ctx->prefix);

    return NGX_HTTP_WSGATE_AUTH_INVALID;
}


static ngx_int_t
ngx_http_wsgate_auth_copy(ngx_http_request_t *r, ngx_str_t *dst,
    redisReply *reply)
{
    dst->data = ngx_pnalloc(r->pool, reply->len);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->data, reply->str, reply->len);
    dst->len = reply->len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_wsgate_auth_bind(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx)
{
    ngx_str_t                    value;
    ngx_http_wsgate_loc_conf_t  *wlcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_wsgate_module);

    if (wlcf->bind == NULL) {
        return NGX_OK;
    }

    if (ngx_http_complex_value(r, wlcf->bind, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ctx->kind == NGX_HTTP_WSGATE_KIND_WORKSPACE
        && ngx_http_wsgate_uuid_equal(ctx->workspace.data, ctx->workspace.len,
                                      value.data, value.len))
    {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "wsgate auth: token \"%*s...\" is not bound to \"%V\"",
                  (size_t) NGX_HTTP_WSGATE_PREFIX_LEN, ctx->prefix, &value);

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_wsgate_auth_deny(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx)
{
    ngx_str_t        *body;
    ngx_uint_t        status;
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;

    switch (ctx->auth_result) {

    case NGX_HTTP_WSGATE_AUTH_MISSING:
        status = NGX_HTTP_UNAUTHORIZED;
        body = &ngx_http_wsgate_missing_body;
        h->key = ngx_http_wsgate_www_authenticate;
        h->value = ngx_http_wsgate_missing_challenge;
        r->headers_out.www_authenticate = h;
        break;

    case NGX_HTTP_WSGATE_AUTH_UNAVAILABLE:
        status = NGX_HTTP_SERVICE_UNAVAILABLE;
        body = &ngx_http_wsgate_unavailable_body;
        ngx_str_set(&h->key, "Retry-After");
        ngx_str_set(&h->value, "1");
        break;

    default: /* NGX_HTTP_WSGATE_AUTH_INVALID, NGX_HTTP_WSGATE_AUTH_MISMATCH */
        status = NGX_HTTP_UNAUTHORIZED;
        body = &ngx_http_wsgate_invalid_body;
        h->key = ngx_http_wsgate_www_authenticate;
        h->value = ngx_http_wsgate_invalid_challenge;
        r->headers_out.www_authenticate = h;
        break;
    }

    return ngx_http_wsgate_answer(r, status, body);
}


static void
ngx_http_wsgate_auth_cleanup(void *data)
{
    ngx_http_wsgate_ctx_t  *ctx = data;

    if (ctx->op) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ctx->request->connection->log, 0,
                       "wsgate auth: request gone, lookup dropped");

        ngx_http_wsgate_redis_cancel(ctx->op);
        ctx->op = NULL;
    }
}


/*
 * nginx answers a repeated Authorization header with 400 while it reads
 * the headers, before any location is known.  The contract wants 401
 * "missing" for it in wsgate_auth locations, so this cycle's header hash
 * gets an Authorization handler that keeps the first line and lets the
 * access phase judge; other locations still answer 400 (see the handler).
 * Only this configuration's hash changes, never nginx's static table.
 */

ngx_int_t
ngx_http_wsgate_auth_init(ngx_conf_t *cf)
{
    u_char                     *name;
    size_t                      len;
    ngx_uint_t                  key, i;
    ngx_hash_elt_t             *elt;
    ngx_http_header_t          *hh;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    name = (u_char *) "authorization";
    len = sizeof("authorization") - 1;
    key = ngx_hash_key(name, len);

    if (cmcf->headers_in_hash.buckets == NULL) {
        return NGX_OK;
    }

    elt = cmcf->headers_in_hash.buckets[key % cmcf->headers_in_hash.size];

    if (elt == NULL) {
        return NGX_OK;
    }

    while (elt->value) {

        if (elt->len == len) {
            for (i = 0; i < len; i++) {
                if (name[i] != elt->name[i]) {
                    break;
                }
            }

            if (i == len) {
                hh = ngx_palloc(cf->pool, sizeof(ngx_http_header_t));
                if (hh == NULL) {
                    return NGX_ERROR;
                }

                *hh = *(ngx_http_header_t *) elt->value;
                hh->handler = ngx_http_wsgate_process_authorization;

                elt->value = hh;

                return NGX_OK;
            }
        }

        elt = (ngx_hash_elt_t *) ngx_align_ptr(&elt->name[0] + elt->len,
                                               sizeof(void *));
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_wsgate_process_authorization(ngx_http_request_t *r,
    ngx_table_elt_t *h, ngx_uint_t offset)
{
    if (r->headers_in.authorization == NULL) {
        r->headers_in.authorization = h;
    }

    return NGX_OK;
}
