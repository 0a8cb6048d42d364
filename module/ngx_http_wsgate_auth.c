
/*
 * Copyright (C) wsgate authors
 *
 * The token step: parse "Authorization: Bearer <token>", ask Redis for
 * sha256(token), and judge the record: a workspace or system identity
 * (and, under wsgate_bind, the workspace the location is bound to), an
 * invalid token (401), or no answer (503).  With wsgate_cache the
 * answer may come from the cache, and is put there when Redis gave it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_wsgate_module.h"
#include "ngx_http_wsgate_check.h"


static ngx_int_t ngx_http_wsgate_auth_cached(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, ngx_http_wsgate_main_conf_t *wmcf);
static ngx_int_t ngx_http_wsgate_auth_reply(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, ngx_http_wsgate_reply_t *reply);
static ngx_int_t ngx_http_wsgate_auth_verdict(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);
static void ngx_http_wsgate_auth_identity(ngx_http_wsgate_ctx_t *ctx,
    ngx_http_wsgate_cache_value_t *value);
static ngx_uint_t ngx_http_wsgate_auth_record(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, ngx_http_wsgate_reply_t *reply);
static ngx_int_t ngx_http_wsgate_auth_bind(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);


ngx_int_t
ngx_http_wsgate_auth_lookup(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx)
{
    size_t                       len;
    ngx_str_t                    digest, key;
    const char                  *why;
    ngx_int_t                     rc;
    const u_char                 *token;
    ngx_table_elt_t              *h;
    ngx_http_wsgate_loc_conf_t   *wlcf;
    ngx_http_wsgate_main_conf_t  *wmcf;
    u_char                        hex[NGX_HTTP_WSGATE_DIGEST_LEN];

    /* HMGET and the key's PTTL, for an entry to expire with its key */
    static ngx_str_t  lookup = ngx_string(
        "local v = redis.call('HMGET', KEYS[1], 'ws', 'kind', 'name') "
        "v[4] = redis.call('PTTL', KEYS[1]) return v");

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_wsgate_module);
    wmcf = ngx_http_get_module_main_conf(r, ngx_http_wsgate_module);

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

    if (ngx_http_wsgate_sha256(token, len, ctx->digest) != 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "wsgate auth: SHA-256 digest failed");
        return NGX_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsgate auth: token \"%*s...\" lookup",
                   (size_t) NGX_HTTP_WSGATE_PREFIX_LEN, ctx->prefix);

    if (wmcf->cache) {
        rc = ngx_http_wsgate_auth_cached(r, ctx, wmcf);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    /* the key names the digest in hex: only a lookup in Redis needs it */

    (void) ngx_http_wsgate_hex_dump(hex, ctx->digest,
                                    NGX_HTTP_WSGATE_SHA256_LEN);

    digest.data = hex;
    digest.len = NGX_HTTP_WSGATE_DIGEST_LEN;

    /* in the context when it fits: a proxied request's pool has no room */

    if (ngx_http_wsgate_key_len(NGX_HTTP_WSGATE_KEY_TOKEN,
                                wmcf->key_prefix.len, digest.len)
        <= sizeof(ctx->token_key))
    {
        key.data = ctx->token_key;
        key.len = ngx_http_wsgate_key(key.data, NGX_HTTP_WSGATE_KEY_TOKEN,
                                      wmcf->key_prefix.data,
                                      wmcf->key_prefix.len,
                                      digest.data, digest.len)
                  - key.data;

    } else if (ngx_http_wsgate_make_key(r, NGX_HTTP_WSGATE_KEY_TOKEN, &digest,
                                        &key)
               != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->query.handler = ngx_http_wsgate_auth_reply;

    if (wmcf->cache == NULL) {
        ngx_str_set(&ctx->query.argv[0], "HMGET");
        ctx->query.argv[1] = key;
        ngx_str_set(&ctx->query.argv[2], "ws");
        ngx_str_set(&ctx->query.argv[3], "kind");
        ngx_str_set(&ctx->query.argv[4], "name");

        ctx->query.argc = 5;

        return NGX_AGAIN;
    }

    ngx_str_set(&ctx->query.argv[0], "EVAL");
    ctx->query.argv[1] = lookup;
    ngx_str_set(&ctx->query.argv[2], "1");
    ctx->query.argv[3] = key;

    ctx->query.argc = 4;

    return NGX_AGAIN;
}


/* NGX_DECLINED: not in the cache, or not to be trusted now */

static ngx_int_t
ngx_http_wsgate_auth_cached(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx,
    ngx_http_wsgate_main_conf_t *wmcf)
{
    ngx_int_t                      rc;
    ngx_http_wsgate_cache_value_t  value;

    rc = ngx_http_wsgate_cache_get(wmcf->cache, ctx->digest, r->pool, &value,
                                   &ctx->ticket);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ctx->cache_status = ctx->ticket.valid ? NGX_HTTP_WSGATE_CACHE_MISS
                                              : NGX_HTTP_WSGATE_CACHE_BYPASS;
        return NGX_DECLINED;
    }

    ctx->cache_status = NGX_HTTP_WSGATE_CACHE_HIT;

    if (value.kind == NGX_HTTP_WSGATE_KIND_NONE) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsgate auth: unknown token \"%*s...\" (cached)",
                      (size_t) NGX_HTTP_WSGATE_PREFIX_LEN, ctx->prefix);

        ctx->auth_result = NGX_HTTP_WSGATE_AUTH_INVALID;

    } else {
        ngx_http_wsgate_auth_identity(ctx, &value);
        ctx->auth_result = NGX_HTTP_WSGATE_AUTH_OK;
    }

    return ngx_http_wsgate_auth_verdict(r, ctx);
}


static ngx_int_t
ngx_http_wsgate_auth_reply(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx,
    ngx_http_wsgate_reply_t *reply)
{
    ngx_http_wsgate_main_conf_t    *wmcf;
    ngx_http_wsgate_cache_value_t   value;

    if (reply == NULL) {
        ctx->auth_result = NGX_HTTP_WSGATE_AUTH_UNAVAILABLE;

    } else {
        ctx->auth_result = ngx_http_wsgate_auth_record(r, ctx, reply);
    }

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_wsgate_module);

    if (ctx->auth_result == NGX_HTTP_WSGATE_AUTH_UNAVAILABLE
        && wmcf->cache
        && ngx_http_wsgate_cache_stale(wmcf->cache, ctx->digest, r->pool,
                                       &value)
           == NGX_OK)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "wsgate auth: redis unavailable, token \"%*s...\" "
                      "admitted from the cache (stale_if_error)",
                      (size_t) NGX_HTTP_WSGATE_PREFIX_LEN, ctx->prefix);

        ctx->cache_status = NGX_HTTP_WSGATE_CACHE_STALE;
        ngx_http_wsgate_auth_identity(ctx, &value);
        ctx->auth_result = NGX_HTTP_WSGATE_AUTH_OK;
    }

    return ngx_http_wsgate_auth_verdict(r, ctx);
}


static ngx_int_t
ngx_http_wsgate_auth_verdict(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx)
{
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


/* the value's id is in r->pool */

static void
ngx_http_wsgate_auth_identity(ngx_http_wsgate_ctx_t *ctx,
    ngx_http_wsgate_cache_value_t *value)
{
    ctx->kind = value->kind;

    if (value->kind == NGX_HTTP_WSGATE_KIND_WORKSPACE) {
        ctx->workspace = value->id;

    } else {
        ctx->name = value->id;
    }
}


/*
 * judges the HMGET ws kind name reply, three strings-or-nils, and with
 * the cache the key's PTTL after them; puts the verdict in the cache
 */

static ngx_uint_t
ngx_http_wsgate_auth_record(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx,
    ngx_http_wsgate_reply_t *reply)
{
    ngx_str_t                       *dst;
    ngx_http_wsgate_main_conf_t     *wmcf;
    ngx_http_wsgate_cache_value_t    value;
    ngx_http_wsgate_token_record_t   rec;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_wsgate_module);

    switch (ngx_http_wsgate_reply_record(reply, wmcf->cache != NULL, &rec)) {

    case NGX_HTTP_WSGATE_RECORD_ERROR:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "wsgate auth: redis answered the token lookup "
                      "with \"%V\"", &reply->str);
        return NGX_HTTP_WSGATE_AUTH_UNAVAILABLE;

    case NGX_HTTP_WSGATE_RECORD_UNEXPECTED:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "wsgate auth: unexpected redis reply type %d",
                      reply->type);
        return NGX_HTTP_WSGATE_AUTH_UNAVAILABLE;

    case NGX_HTTP_WSGATE_RECORD_UNKNOWN:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsgate auth: unknown token \"%*s...\"",
                      (size_t) NGX_HTTP_WSGATE_PREFIX_LEN, ctx->prefix);

        if (wmcf->cache) {
            value.kind = NGX_HTTP_WSGATE_KIND_NONE;
            ngx_str_null(&value.id);

            ngx_http_wsgate_cache_put(wmcf->cache, ctx->digest, &ctx->ticket,
                                      &value, rec.pttl);
        }

        return NGX_HTTP_WSGATE_AUTH_INVALID;

    case NGX_HTTP_WSGATE_RECORD_WORKSPACE:
        ctx->kind = NGX_HTTP_WSGATE_KIND_WORKSPACE;
        dst = &ctx->workspace;
        break;

    case NGX_HTTP_WSGATE_RECORD_SYSTEM:
        ctx->kind = NGX_HTTP_WSGATE_KIND_SYSTEM;
        dst = &ctx->name;
        break;

    default: /* NGX_HTTP_WSGATE_RECORD_MALFORMED */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "wsgate auth: malformed token record for \"%*s...\"",
                      (size_t) NGX_HTTP_WSGATE_PREFIX_LEN, ctx->prefix);

        return NGX_HTTP_WSGATE_AUTH_INVALID;
    }

    /* the reply is freed when this returns */

    dst->data = ngx_pstrdup(r->pool, &rec.id);
    if (dst->data == NULL) {
        return NGX_HTTP_WSGATE_AUTH_UNAVAILABLE;
    }

    dst->len = rec.id.len;

    if (wmcf->cache) {
        value.kind = ctx->kind;
        value.id = *dst;

        ngx_http_wsgate_cache_put(wmcf->cache, ctx->digest, &ctx->ticket,
                                  &value, rec.pttl);
    }

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
