
/*
 * Copyright (C) wsgate authors
 *
 * wsgate_status: a content handler that answers a workspace's
 * registration state as JSON, from one consistent snapshot of its
 * failure record and restart marker.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_wsgate_module.h"


static ngx_int_t ngx_http_wsgate_status_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_wsgate_status_send(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, ngx_http_wsgate_reply_t *reply);
static ngx_int_t ngx_http_wsgate_status_failure(ngx_http_request_t *r,
    ngx_http_wsgate_reply_t *fields, ngx_msec_t *at_ms, ngx_str_t *json);


static ngx_str_t  ngx_http_wsgate_state_script = ngx_string(
    "return {redis.call('HGETALL', KEYS[1]), redis.call('GET', KEYS[2])}");

static ngx_str_t  ngx_http_wsgate_unavailable_state =
    ngx_string("{\"error\":\"registration state unavailable\"}");
static ngx_str_t  ngx_http_wsgate_invalid_ws =
    ngx_string("{\"error\":\"invalid workspace id\"}");


char *
ngx_http_wsgate_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_wsgate_loc_conf_t *wlcf = conf;

    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_compile_complex_value_t   ccv;
    ngx_str_t                         *value;

    if (wlcf->status != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    wlcf->status = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (wlcf->status == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = wlcf->status;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_wsgate_status_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_wsgate_status_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_str_t                    ws, *argv;
    ngx_http_wsgate_ctx_t       *ctx;
    ngx_http_wsgate_loc_conf_t  *wlcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_wsgate_module);

    ctx = ngx_http_wsgate_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_complex_value(r, wlcf->status, &ws) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_wsgate_uuid_parse(ws.data, ws.len, NULL) != 0) {
        return ngx_http_wsgate_send_json(r, NGX_HTTP_BAD_REQUEST,
                                         &ngx_http_wsgate_invalid_ws);
    }

    ctx->register_ws.data = ngx_pnalloc(r->pool, ws.len);
    if (ctx->register_ws.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_strlow(ctx->register_ws.data, ws.data, ws.len);
    ctx->register_ws.len = ws.len;

    argv = ctx->query.argv;

    ngx_str_set(&argv[0], "EVAL");
    argv[1] = ngx_http_wsgate_state_script;
    ngx_str_set(&argv[2], "2");

    if (ngx_http_wsgate_make_key(r, NGX_HTTP_WSGATE_KEY_REGFAIL, &ws,
                                 &argv[3])
           != NGX_OK
        || ngx_http_wsgate_make_key(r, NGX_HTTP_WSGATE_KEY_RESTART, &ws,
                                    &argv[4])
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->query.argc = 5;
    ctx->query.handler = ngx_http_wsgate_status_send;

    return ngx_http_wsgate_content_query(r, ctx);
}


/* the snapshot is {HGETALL regfail, GET restart} */

static ngx_int_t
ngx_http_wsgate_status_send(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx,
    ngx_http_wsgate_reply_t *reply)
{
    u_char                   *p;
    size_t                    len;
    ngx_str_t                 body, failure, restart, state;
    ngx_msec_t                at_ms, restart_ms;
    ngx_http_wsgate_reply_t  *fields, *marker;

    if (reply == NULL
        || reply->type != NGX_HTTP_WSGATE_REPLY_ARRAY || reply->nelts != 2)
    {
        if (reply != NULL) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "wsgate status: unexpected redis reply type %d",
                          reply->type);
        }

        ctx->state = NGX_HTTP_WSGATE_STATE_NONE;

        return ngx_http_wsgate_send_json(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                         &ngx_http_wsgate_unavailable_state);
    }

    fields = reply->elts[0];
    marker = reply->elts[1];

    restart_ms = 0;

    if (marker->type == NGX_HTTP_WSGATE_REPLY_STRING) {
        restart_ms = ngx_http_wsgate_atoms(&marker->str);
    }

    if (fields->type != NGX_HTTP_WSGATE_REPLY_ARRAY || fields->nelts == 0) {
        ctx->state = NGX_HTTP_WSGATE_STATE_ONLINE;
        ngx_str_set(&failure, "null");

    } else {
        if (ngx_http_wsgate_status_failure(r, fields, &at_ms, &failure)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->state = ngx_http_wsgate_state(1, at_ms, restart_ms);
    }

    if (restart_ms) {
        restart.data = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (restart.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        restart.len = ngx_sprintf(restart.data, "%M", restart_ms)
                      - restart.data;

    } else {
        ngx_str_set(&restart, "null");
    }

    state.data = (u_char *) ngx_http_wsgate_state_name(ctx->state);
    state.len = ngx_strlen(state.data);

    len = sizeof("{\"workspace_id\":\"\",\"state\":\"\","
                 "\"last_failure\":,\"restart_at_ms\":}") - 1
          + ctx->register_ws.len + state.len + failure.len + restart.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.data = p;
    body.len = ngx_sprintf(p, "{\"workspace_id\":\"%V\",\"state\":\"%V\","
                              "\"last_failure\":%V,\"restart_at_ms\":%V}",
                           &ctx->register_ws, &state, &failure, &restart)
               - p;

    return ngx_http_wsgate_send_json(r, NGX_HTTP_OK, &body);
}


/* the failure record's fields as the last_failure JSON object */

static ngx_int_t
ngx_http_wsgate_status_failure(ngx_http_request_t *r,
    ngx_http_wsgate_reply_t *fields, ngx_msec_t *at_ms, ngx_str_t *json)
{
    u_char                   *p;
    size_t                    len;
    ngx_str_t                 reason, source, code;
    ngx_uint_t                i;
    ngx_http_wsgate_reply_t  *k, *v;

    *at_ms = 0;
    ngx_str_null(&reason);
    ngx_str_null(&source);
    ngx_str_set(&code, "0");

    for (i = 0; i + 1 < fields->nelts; i += 2) {
        k = fields->elts[i];
        v = fields->elts[i + 1];

        if (v->type != NGX_HTTP_WSGATE_REPLY_STRING) {
            continue;
        }

        if (ngx_http_wsgate_reply_is(k, "at_ms", 5)) {
            *at_ms = ngx_http_wsgate_atoms(&v->str);

        } else if (ngx_http_wsgate_reply_is(k, "status", 6)) {
            if (ngx_atoi(v->str.data, v->str.len) != NGX_ERROR) {
                code = v->str;
            }

        } else if (ngx_http_wsgate_reply_is(k, "reason", 6)) {
            reason = v->str;

        } else if (ngx_http_wsgate_reply_is(k, "source", 6)) {
            source = v->str;
        }
    }

    if (ngx_http_wsgate_json_string(r->pool, &reason, &reason) != NGX_OK
        || ngx_http_wsgate_json_string(r->pool, &source, &source) != NGX_OK)
    {
        return NGX_ERROR;
    }

    len = sizeof("{\"at_ms\":,\"status\":,\"reason\":,\"source\":}") - 1
          + NGX_INT64_LEN + code.len + reason.len + source.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    json->data = p;
    json->len = ngx_sprintf(p, "{\"at_ms\":%M,\"status\":%V,\"reason\":%V,"
                               "\"source\":%V}",
                            *at_ms, &code, &reason, &source)
                - p;

    return NGX_OK;
}
