
/*
 * Copyright (C) wsgate authors
 *
 * The register step (/registry/register): only a workspace registers, and
 * only itself.  Before the body, the workspace's restart window is read,
 * so that the state the request leaves is known when it is recorded;
 * then the payload is checked before any backend sees it.  The outcome
 * recorder (ngx_http_wsgate_outcome.c) writes what happened.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_wsgate_module.h"
#include "ngx_http_wsgate_check.h"


static ngx_int_t ngx_http_wsgate_register_window_reply(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, ngx_http_wsgate_reply_t *reply);
static ngx_int_t ngx_http_wsgate_register_resolved(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, ngx_resolver_ctx_t *rctx);
static ngx_int_t ngx_http_wsgate_register_invalid(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, const char *field, const char *reason);


static ngx_str_t  ngx_http_wsgate_resolver_unavailable =
    ngx_string("{\"error\":\"resolver unavailable\"}");


ngx_int_t
ngx_http_wsgate_register_window(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx)
{
    if (ctx->kind != NGX_HTTP_WSGATE_KIND_WORKSPACE) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "wsgate register: system token \"%*s...\" "
                      "may not register", (size_t) NGX_HTTP_WSGATE_PREFIX_LEN,
                      ctx->prefix);

        ctx->auth_result = NGX_HTTP_WSGATE_AUTH_MISMATCH;
        return NGX_HTTP_UNAUTHORIZED;
    }

    ngx_str_set(&ctx->query.argv[0], "GET");

    if (ngx_http_wsgate_make_key(r, NGX_HTTP_WSGATE_KEY_RESTART,
                                 &ctx->workspace, &ctx->query.argv[1])
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->query.argc = 2;
    ctx->query.handler = ngx_http_wsgate_register_window_reply;

    return NGX_AGAIN;
}


/* a Redis that fails here does not stop the registration */

static ngx_int_t
ngx_http_wsgate_register_window_reply(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, ngx_http_wsgate_reply_t *reply)
{
    if (reply != NULL && reply->type == NGX_HTTP_WSGATE_REPLY_STRING) {
        ctx->restart_at = ngx_http_wsgate_atoms(&reply->str);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsgate register: restart window at %M", ctx->restart_at);

    return NGX_OK;
}


ngx_int_t
ngx_http_wsgate_register_payload(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx)
{
    ngx_http_wsgate_verdict_t    v;
    ngx_http_core_loc_conf_t    *clcf;
    ngx_http_wsgate_loc_conf_t  *wlcf;
    u_char                       id[NGX_HTTP_WSGATE_UUID_LEN];

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_wsgate_module);

    ngx_memzero(id, sizeof(id));
    v.reason = NULL;

    if (ngx_http_wsgate_register_check(ctx->body.data, ctx->body.len,
                                       wlcf->allow_private_urls, &v, id)
        == 0
        || id[0] != '\0')
    {
        /* the payload names a workspace: it must be the token's own */

        if (!ngx_http_wsgate_uuid_equal(id, sizeof(id), ctx->workspace.data,
                                        ctx->workspace.len))
        {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "wsgate register: token \"%*s...\" is not "
                          "bound to workspace \"%*s\"",
                          (size_t) NGX_HTTP_WSGATE_PREFIX_LEN, ctx->prefix,
                          sizeof(id), id);

            ctx->auth_result = NGX_HTTP_WSGATE_AUTH_MISMATCH;
            return NGX_HTTP_UNAUTHORIZED;
        }
    }

    /* from here on the outcome is the token's own workspace's */

    ctx->register_ws = ctx->workspace;

    if (v.reason != NULL) {
        return ngx_http_wsgate_register_invalid(r, ctx, v.field, v.reason);
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (v.host_len == 0
        || !wlcf->resolve_urls
        || clcf->resolver == NULL
        || clcf->resolver->connections.nelts == 0)
    {
        return NGX_OK;
    }

    /* the push URL names a host: every address it has must pass too */

    ctx->query.name.data = ngx_pnalloc(r->pool, v.host_len);
    if (ctx->query.name.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ctx->query.name.data, v.host, v.host_len);
    ctx->query.name.len = v.host_len;
    ctx->query.resolved = ngx_http_wsgate_register_resolved;

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_wsgate_register_resolved(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, ngx_resolver_ctx_t *rctx)
{
    u_char                      *addr;
    ngx_uint_t                   i;
    const char                  *why;
    struct sockaddr             *sa;
    ngx_http_wsgate_loc_conf_t  *wlcf;

    if (rctx == NULL) {
        return NGX_OK;
    }

    if (rctx->state == NGX_RESOLVE_NXDOMAIN
        || (rctx->state == 0 && rctx->naddrs == 0))
    {
        return ngx_http_wsgate_register_invalid(r, ctx, "url",
                                            NGX_HTTP_WSGATE_URL_UNRESOLVED);
    }

    if (rctx->state) {

        /* the platform's DNS failing is not the agent's fault: no record */

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "wsgate register: \"%V\" could not be resolved "
                      "(%i: %s)", &rctx->name, rctx->state,
                      ngx_resolver_strerror(rctx->state));

        ngx_str_null(&ctx->register_ws);
        ctx->body_json = ngx_http_wsgate_resolver_unavailable;

        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_wsgate_module);

    for (i = 0; i < rctx->naddrs; i++) {
        sa = rctx->addrs[i].sockaddr;

        switch (sa->sa_family) {

#if (NGX_HAVE_INET6)
        case AF_INET6:
            addr = ((struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;
            break;
#endif

        case AF_INET:
            addr = (u_char *) &((struct sockaddr_in *) sa)->sin_addr.s_addr;
            break;

        default:
            continue;
        }

        why = ngx_http_wsgate_addr_check(sa->sa_family, addr,
                                         wlcf->allow_private_urls);

        if (why != NULL) {
            return ngx_http_wsgate_register_invalid(r, ctx, "url", why);
        }
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsgate register: \"%V\": %ui addresses checked",
                   &rctx->name, rctx->naddrs);

    return NGX_OK;
}


static ngx_int_t
ngx_http_wsgate_register_invalid(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, const char *f, const char *why)
{
    u_char     *p;
    size_t      len;
    ngx_str_t   field, reason, jfield, jreason;

    field.data = (u_char *) f;
    field.len = ngx_strlen(f);
    reason.data = (u_char *) why;
    reason.len = ngx_strlen(why);

    /* the client's fault: info, as nginx logs client errors */

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "wsgate register: workspace \"%V\": invalid payload: "
                  "field \"%V\": %V", &ctx->workspace, &field, &reason);

    len = field.len + sizeof(": ") - 1 + reason.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->register_error.data = p;
    ctx->register_error.len = ngx_sprintf(p, "%V: %V", &field, &reason) - p;

    if (ngx_http_wsgate_json_string(r->pool, &field, &jfield) != NGX_OK
        || ngx_http_wsgate_json_string(r->pool, &reason, &jreason) != NGX_OK)
    {
        return NGX_ERROR;
    }

    len = sizeof("{\"error\":\"invalid register payload\",\"field\":,"
                 "\"reason\":}") - 1
          + jfield.len + jreason.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->body_json.data = p;
    ctx->body_json.len = ngx_sprintf(p, "{\"error\":\"invalid register "
                                        "payload\",\"field\":%V,"
                                        "\"reason\":%V}",
                                     &jfield, &jreason)
                         - p;

    return NGX_HTTP_BAD_REQUEST;
}
