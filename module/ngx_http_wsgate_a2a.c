
/*
 * Copyright (C) wsgate authors
 *
 * A2A fronting: caller verification and system-caller rewriting.
 *
 * The caller is claimed in "X-Workspace-ID".  A claim is accepted only
 * when it is the token's own identity (its workspace UUID, or the exact
 * name of a system token); a claim that names a system caller otherwise
 * is a forgery and answered 403.  The accepted caller is then written
 * into the request headers the backend sees, whatever the client sent
 * and whether or not the configuration has proxy_set_header lines:
 *
 *     X-Workspace-ID: <workspace UUID | system caller's UUID>
 *     X-Caller-Kind: workspace | system
 *     X-Caller-Name: <system caller's name>     (system callers only)
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_wsgate_module.h"
#include "ngx_http_wsgate_check.h"


static ngx_uint_t ngx_http_wsgate_a2a_own_system(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, ngx_str_t *claim);
static ngx_int_t ngx_http_wsgate_a2a_system_id(ngx_http_request_t *r,
    ngx_str_t *name, u_char *id);
static ngx_int_t ngx_http_wsgate_a2a_rewrite(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);
static ngx_int_t ngx_http_wsgate_a2a_forged(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, ngx_str_t *claim);
static ngx_int_t ngx_http_wsgate_a2a_invalid(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, ngx_str_t *claim, const char *why);
static ngx_uint_t ngx_http_wsgate_a2a_is_system(ngx_http_request_t *r,
    ngx_str_t *name);
static void ngx_http_wsgate_a2a_trim(ngx_str_t *s);


static ngx_str_t  ngx_http_wsgate_caller_headers[] = {
    ngx_string("X-Workspace-ID"),
    ngx_string("X-Caller-Kind"),
    ngx_string("X-Caller-Name")
};

#define ngx_http_wsgate_workspace_id  ngx_http_wsgate_caller_headers[0]
#define ngx_http_wsgate_caller_kind   ngx_http_wsgate_caller_headers[1]
#define ngx_http_wsgate_caller_name   ngx_http_wsgate_caller_headers[2]

static ngx_str_t  ngx_http_wsgate_kind_workspace = ngx_string("workspace");
static ngx_str_t  ngx_http_wsgate_kind_system = ngx_string("system");

static ngx_str_t  ngx_http_wsgate_forged_body =
    ngx_string("{\"error\":\"invalid caller ID\"}");


/*
 * Judges the claim against the token and, when it stands, rewrites the
 * caller headers.  Header names match in any case and with "_" for "-"
 * (underscores_in_headers on lets "X_Workspace_ID" in, and CGI-style
 * backends read it as the same header).  Values are judged with spaces
 * and tabs around them removed, and system prefixes in any case, so that
 * " SYSTEM:x" is refused as surely as "system:x".
 */

ngx_int_t
ngx_http_wsgate_a2a_caller(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx)
{
    ngx_str_t         claim, forged, value;
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    n = 0;
    ngx_str_null(&claim);
    ngx_str_null(&forged);

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (!ngx_http_wsgate_header_is(&h[i],
                                           &ngx_http_wsgate_workspace_id))
        {
            continue;
        }

        value = h[i].value;
        ngx_http_wsgate_a2a_trim(&value);

        if (n++ == 0) {
            claim = value;
        }

        if (forged.data == NULL && ngx_http_wsgate_a2a_is_system(r, &value)) {
            forged = value;
        }
    }

    if (n > 1) {

        /* which line would a backend believe?  None of them. */

        if (forged.data) {
            return ngx_http_wsgate_a2a_forged(r, ctx, &forged);
        }

        return ngx_http_wsgate_a2a_invalid(r, ctx, &claim,
                                           "several X-Workspace-ID lines");
    }

    if (claim.len == 0) {

        /* no claim (or an empty one): the caller is the token's identity */

        ctx->caller_kind = (ctx->kind == NGX_HTTP_WSGATE_KIND_SYSTEM)
                           ? NGX_HTTP_WSGATE_CALLER_SYSTEM
                           : NGX_HTTP_WSGATE_CALLER_WORKSPACE;

    } else if (ctx->kind == NGX_HTTP_WSGATE_KIND_SYSTEM
               && ngx_http_wsgate_a2a_own_system(r, ctx, &claim))
    {
        ctx->caller_kind = NGX_HTTP_WSGATE_CALLER_SYSTEM;

    } else if (ngx_http_wsgate_a2a_is_system(r, &claim)) {
        return ngx_http_wsgate_a2a_forged(r, ctx, &claim);

    } else if (ctx->kind == NGX_HTTP_WSGATE_KIND_WORKSPACE
               && ngx_http_wsgate_uuid_equal(claim.data, claim.len,
                                             ctx->workspace.data,
                                             ctx->workspace.len))
    {
        ctx->caller_kind = NGX_HTTP_WSGATE_CALLER_WORKSPACE;

    } else {
        return ngx_http_wsgate_a2a_invalid(r, ctx, &claim,
                                           "not the token's caller");
    }

    return ngx_http_wsgate_a2a_rewrite(r, ctx);
}


static ngx_int_t
ngx_http_wsgate_a2a_rewrite(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx)
{
    u_char  *p;

    if (ctx->caller_kind == NGX_HTTP_WSGATE_CALLER_SYSTEM) {

        /* the name goes into a request header line: no control bytes */

        for (p = ctx->name.data; p < ctx->name.data + ctx->name.len; p++) {
            if (*p < 0x20 || *p == 0x7f) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "wsgate a2a: token \"%*s...\" names a system "
                              "caller with control characters",
                              (size_t) NGX_HTTP_WSGATE_PREFIX_LEN,
                              ctx->prefix);

                ctx->caller_kind = NGX_HTTP_WSGATE_CALLER_NONE;
                ctx->auth_result = NGX_HTTP_WSGATE_AUTH_INVALID;

                return NGX_HTTP_UNAUTHORIZED;
            }
        }

        p = ngx_pnalloc(r->pool, NGX_HTTP_WSGATE_UUID_LEN);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ngx_http_wsgate_a2a_system_id(r, &ctx->name, p) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->caller_id.data = p;
        ctx->caller_id.len = NGX_HTTP_WSGATE_UUID_LEN;
        ctx->caller_name = ctx->name;

        ngx_http_wsgate_metrics_count(NGX_HTTP_WSGATE_M_A2A_REWRITES);

    } else {
        p = ngx_pnalloc(r->pool, ctx->workspace.len);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_strlow(p, ctx->workspace.data, ctx->workspace.len);

        ctx->caller_id.data = p;
        ctx->caller_id.len = ctx->workspace.len;
    }

    /* every client line of the three goes, then wsgate's own are added */

    if (ngx_http_wsgate_remove_headers(r, ngx_http_wsgate_caller_headers, 3)
           != NGX_OK
        || ngx_http_wsgate_set_header(r, &ngx_http_wsgate_workspace_id,
                                      &ctx->caller_id)
           != NGX_OK
        || ngx_http_wsgate_set_header(r, &ngx_http_wsgate_caller_kind,
                                      ctx->caller_kind
                                      == NGX_HTTP_WSGATE_CALLER_SYSTEM
                                      ? &ngx_http_wsgate_kind_system
                                      : &ngx_http_wsgate_kind_workspace)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->caller_kind == NGX_HTTP_WSGATE_CALLER_SYSTEM
        && ngx_http_wsgate_set_header(r, &ngx_http_wsgate_caller_name,
                                      &ctx->caller_name)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsgate a2a: caller \"%V\" kind %ui name \"%V\"",
                   &ctx->caller_id, ctx->caller_kind, &ctx->caller_name);

    return NGX_OK;
}


/*
 * A system token's own caller: its name exactly (same case), or the UUID
 * wsgate forwards for it, so that judging an already rewritten request
 * again (after an internal redirect, or behind another wsgate) stands.
 */

static ngx_uint_t
ngx_http_wsgate_a2a_own_system(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, ngx_str_t *claim)
{
    u_char  id[NGX_HTTP_WSGATE_UUID_LEN];

    if (claim->len == ctx->name.len
        && ngx_strncmp(claim->data, ctx->name.data, claim->len) == 0)
    {
        return 1;
    }

    if (claim->len != NGX_HTTP_WSGATE_UUID_LEN
        || ngx_http_wsgate_a2a_system_id(r, &ctx->name, id) != NGX_OK)
    {
        return 0;
    }

    return ngx_http_wsgate_uuid_equal(claim->data, claim->len, id,
                                      NGX_HTTP_WSGATE_UUID_LEN);
}


/*
 * The UUID of a system caller, 36 lowercase characters into id: its
 * wsgate_system_caller mapping, else the UUIDv5 of its name.
 */

static ngx_int_t
ngx_http_wsgate_a2a_system_id(ngx_http_request_t *r, ngx_str_t *name,
    u_char *id)
{
    ngx_uint_t                        i;
    ngx_http_wsgate_main_conf_t      *wmcf;
    ngx_http_wsgate_system_caller_t  *sc;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_wsgate_module);

    if (wmcf->system_callers) {
        sc = wmcf->system_callers->elts;

        for (i = 0; i < wmcf->system_callers->nelts; i++) {
            if (sc[i].name.len == name->len
                && ngx_strncmp(sc[i].name.data, name->data, name->len) == 0)
            {
                ngx_memcpy(id, sc[i].uuid, NGX_HTTP_WSGATE_UUID_LEN);
                return NGX_OK;
            }
        }
    }

    if (ngx_http_wsgate_uuid_v5(wmcf->system_namespace, name->data,
                                name->len, id)
        != 0)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "wsgate a2a: UUIDv5 of \"%V\" failed", name);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_wsgate_a2a_forged(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx,
    ngx_str_t *claim)
{
    ngx_str_t  text;

    if (ngx_http_wsgate_log_escape(r->pool, claim, &text) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the security line: who, from where, with which token; never it */

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "wsgate a2a: forged caller \"%V\" refused from %V "
                  "(token \"%*s...\", %s token)",
                  &text, &r->connection->addr_text,
                  (size_t) NGX_HTTP_WSGATE_PREFIX_LEN, ctx->prefix,
                  ctx->kind == NGX_HTTP_WSGATE_KIND_SYSTEM
                  ? "system" : "workspace");

    ngx_http_wsgate_metrics_count(NGX_HTTP_WSGATE_M_A2A_FORGED);

    ctx->body_json = ngx_http_wsgate_forged_body;

    return NGX_HTTP_FORBIDDEN;
}


/* a claim the token does not back: answered as an invalid token */

static ngx_int_t
ngx_http_wsgate_a2a_invalid(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx,
    ngx_str_t *claim, const char *why)
{
    ngx_str_t  text;

    if (ngx_http_wsgate_log_escape(r->pool, claim, &text) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "wsgate a2a: token \"%*s...\" may not claim caller "
                  "\"%V\": %s",
                  (size_t) NGX_HTTP_WSGATE_PREFIX_LEN, ctx->prefix, &text,
                  why);

    ctx->auth_result = NGX_HTTP_WSGATE_AUTH_MISMATCH;

    return NGX_HTTP_UNAUTHORIZED;
}


ngx_int_t
ngx_http_wsgate_a2a_envelope(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx)
{
    u_char      *p;
    size_t       len;
    ngx_str_t    reason, json;
    const char  *why;

    why = ngx_http_wsgate_a2a_check(ctx->body.data, ctx->body.len);

    if (why == NULL) {
        return NGX_OK;
    }

    reason.data = (u_char *) why;
    reason.len = ngx_strlen(why);

    /* the client's fault: info, as nginx logs client errors */

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "wsgate a2a: invalid A2A request from caller \"%V\": %V",
                  &ctx->caller_id, &reason);

    if (ngx_http_wsgate_json_string(r->pool, &reason, &json) != NGX_OK) {
        return NGX_ERROR;
    }

    len = sizeof("{\"error\":\"invalid A2A request\",\"reason\":}") - 1
          + json.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->body_json.data = p;
    ctx->body_json.len = ngx_sprintf(p, "{\"error\":\"invalid A2A request\","
                                        "\"reason\":%V}", &json)
                         - p;

    return NGX_HTTP_BAD_REQUEST;
}


/* one of wsgate_system_prefixes, in any case */

static ngx_uint_t
ngx_http_wsgate_a2a_is_system(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_http_wsgate_main_conf_t  *wmcf;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_wsgate_module);

    return ngx_http_wsgate_is_system_name(name->data, name->len,
                                          wmcf->system_prefixes,
                                          wmcf->nsystem_prefixes);
}


static void
ngx_http_wsgate_a2a_trim(ngx_str_t *s)
{
    while (s->len && (s->data[0] == ' ' || s->data[0] == '\t')) {
        s->data++;
        s->len--;
    }

    while (s->len
           && (s->data[s->len - 1] == ' ' || s->data[s->len - 1] == '\t'))
    {
        s->len--;
    }
}
