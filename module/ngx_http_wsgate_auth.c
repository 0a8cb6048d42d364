
/*
 * Copyright (C) wsgate authors
 *
 * The token step: parse "Authorization: Bearer <token>", ask Redis for
 * sha256(token), and judge the record: a workspace or system identity
 * (and, under wsgate_bind, the workspace the location is bound to), an
 * invalid token (401), or no answer (503).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_wsgate_module.h"
#include "ngx_http_wsgate_check.h"


static ngx_int_t ngx_http_wsgate_auth_reply(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, ngx_http_wsgate_reply_t *reply);
static ngx_uint_t ngx_http_wsgate_auth_record(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, ngx_http_wsgate_reply_t *reply);
static ngx_int_t ngx_http_wsgate_auth_bind(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);


ngx_int_t
ngx_http_wsgate_auth_lookup(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx)
{
    size_t                       len;
    ngx_str_t                    digest;
    const char                  *why;
    const u_char                *token;
    ngx_table_elt_t             *h;
    ngx_http_wsgate_loc_conf_t  *wlcf;
    u_char                       hex[NGX_HTTP_WSGATE_DIGEST_LEN];

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_wsgate_module);

    /*
     * The bind is judged on nginx's normalised path, but the raw one is
     * what a backend gets: a path that may mean another workspace to the
     * backend ("..%2F", ";", "..") is refused before anything else.
     */

    if (wlcf->bind) {
        why = ngx_http_wsgate_path_check(r->unparsed_uri.data,
                                         r->unparsed_uri.len);

        if (why != NULL) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "wsgate auth: ambiguous request path: %s", why);

            ngx_str_set(&ctx->body_json,
                        "{\"error\":\"ambiguous request path\"}");

            return NGX_HTTP_BAD_REQUEST;
        }
    }

    /* nginx itself refuses a request with two Authorization lines */

    h = r->headers_in.authorization;

    if (h == NULL
        || ngx_http_wsgate_bearer_parse(h->value.data, h->value.len,
                                        &token, &len)
           != 0)
    {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "wsgate auth: no usable bearer token");

        ctx->auth_result = NGX_HTTP_WSGATE_AUTH_MISSING;
        return NGX_HTTP_UNAUTHORIZED;
    }

    ctx->prefix_len = NGX_HTTP_WSGATE_PREFIX_LEN;
    ngx_memcpy(ctx->prefix, token, NGX_HTTP_WSGATE_PREFIX_LEN);

    if (ngx_http_wsgate_sha256_hex(token, len, hex) != 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "wsgate auth: EVP_Digest() failed");
        return NGX_ERROR;
    }

    digest.data = hex;
    digest.len = NGX_HTTP_WSGATE_DIGEST_LEN;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsgate auth: token \"%*s...\" lookup",
                   (size_t) NGX_HTTP_WSGATE_PREFIX_LEN, ctx->prefix);

    ngx_str_set(&ctx->query.argv[0], "HMGET");

    if (ngx_http_wsgate_make_key(r, NGX_HTTP_WSGATE_KEY_TOKEN, &digest,
                                 &ctx->query.argv[1])
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&ctx->query.argv[2], "ws");
    ngx_str_set(&ctx->query.argv[3], "kind");
    ngx_str_set(&ctx->query.argv[4], "name");

    ctx->query.argc = 5;
    ctx->query.handler = ngx_http_wsgate_auth_reply;

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_wsgate_auth_reply(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx,
    ngx_http_wsgate_reply_t *reply)
{
    if (reply == NULL) {
        ctx->auth_result = NGX_HTTP_WSGATE_AUTH_UNAVAILABLE;

    } else {
        ctx->auth_result = ngx_http_wsgate_auth_record(r, ctx, reply);
    }

    switch (ctx->auth_result) {

    case NGX_HTTP_WSGATE_AUTH_OK:
        break;

    case NGX_HTTP_WSGATE_AUTH_UNAVAILABLE:
        return NGX_HTTP_SERVICE_UNAVAILABLE;

    default:
        return NGX_HTTP_UNAUTHORIZED;
    }

    if (ngx_http_wsgate_auth_bind(r, ctx) != NGX_OK) {
        ctx->auth_result = NGX_HTTP_WSGATE_AUTH_MISMATCH;
        return NGX_HTTP_UNAUTHORIZED;
    }

    return NGX_OK;
}


/* judges the HMGET ws kind name reply: three strings-or-nils */

static ngx_uint_t
ngx_http_wsgate_auth_record(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx,
    ngx_http_wsgate_reply_t *reply)
{
    ngx_str_t                *dst;
    ngx_http_wsgate_reply_t  *ws, *kind, *name, *id;

    if (reply->type == NGX_HTTP_WSGATE_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "wsgate auth: redis answered the token lookup "
                      "with \"%V\"", &reply->str);
        return NGX_HTTP_WSGATE_AUTH_UNAVAILABLE;
    }

    if (reply->type != NGX_HTTP_WSGATE_REPLY_ARRAY || reply->nelts != 3) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "wsgate auth: unexpected redis reply type %d",
                      reply->type);
        return NGX_HTTP_WSGATE_AUTH_UNAVAILABLE;
    }

    ws = reply->elts[0];
    kind = reply->elts[1];
    name = reply->elts[2];

    if (kind->type == NGX_HTTP_WSGATE_REPLY_NIL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsgate auth: unknown token \"%*s...\"",
                      (size_t) NGX_HTTP_WSGATE_PREFIX_LEN, ctx->prefix);
        return NGX_HTTP_WSGATE_AUTH_INVALID;
    }

    if (ngx_http_wsgate_reply_is(kind, "workspace", sizeof("workspace") - 1)
        && ws->type == NGX_HTTP_WSGATE_REPLY_STRING
        && ngx_http_wsgate_uuid_parse(ws->str.data, ws->str.len, NULL) == 0)
    {
        ctx->kind = NGX_HTTP_WSGATE_KIND_WORKSPACE;
        dst = &ctx->workspace;
        id = ws;

    } else if (ngx_http_wsgate_reply_is(kind, "system", sizeof("system") - 1)
               && name->type == NGX_HTTP_WSGATE_REPLY_STRING
               && name->str.len > 0)
    {
        ctx->kind = NGX_HTTP_WSGATE_KIND_SYSTEM;
        dst = &ctx->name;
        id = name;

    } else {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "wsgate auth: malformed token record for \"%*s...\"",
                      (size_t) NGX_HTTP_WSGATE_PREFIX_LEN, ctx->prefix);

        return NGX_HTTP_WSGATE_AUTH_INVALID;
    }

    /* the reply is freed when this returns */

    dst->data = ngx_pstrdup(r->pool, &id->str);
    if (dst->data == NULL) {
        return NGX_HTTP_WSGATE_AUTH_UNAVAILABLE;
    }

    dst->len = id->str.len;

    return NGX_HTTP_WSGATE_AUTH_OK;
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

    if (ngx_http_wsgate_log_escape(r->pool, &value, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "wsgate auth: token \"%*s...\" is not bound to \"%V\"",
                  (size_t) NGX_HTTP_WSGATE_PREFIX_LEN, ctx->prefix, &value);

    return NGX_DECLINED;
}
