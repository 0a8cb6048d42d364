
/*
 * Copyright (C) wsgate authors
 *
 * /registry/register fronting: the payload is checked before any backend
 * sees it, and the outcome (a 400 from wsgate, the backend's status) is
 * recorded in Redis after the response has started, without delaying it.
 * Also the restart endpoint (its 2xx opens the workspace's restart
 * window) and wsgate_status, the registration state as JSON.
 *
 * Keys, with the workspace as the cluster hash tag:
 *     <prefix>ws:{<ws>}:regfail   hash at_ms status reason source
 *     <prefix>ws:{<ws>}:restart   restart time in ms, TTL = the grace
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_wsgate_module.h"
#include "ngx_http_wsgate_check.h"


#define NGX_HTTP_WSGATE_REG_WINDOW     0
#define NGX_HTTP_WSGATE_REG_WAITING    1
#define NGX_HTTP_WSGATE_REG_BODY       2
#define NGX_HTTP_WSGATE_REG_PASS       3


/* a fire-and-forget write, for its log line */
typedef struct {
    ngx_log_t                      *log;
    u_char                          ws[NGX_HTTP_WSGATE_UUID_LEN];
    const char                     *what;
} ngx_http_wsgate_record_t;


static ngx_int_t ngx_http_wsgate_register_check_body(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);
static ngx_int_t ngx_http_wsgate_register_window(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);
static void ngx_http_wsgate_register_window_reply(void *data,
    redisReply *reply, ngx_http_wsgate_redis_status_e status);
static ngx_int_t ngx_http_wsgate_header_filter(ngx_http_request_t *r);
static void ngx_http_wsgate_register_outcome(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);
static void ngx_http_wsgate_restart_outcome(ngx_http_request_t *r,
    ngx_http_wsgate_loc_conf_t *wlcf);
static ngx_int_t ngx_http_wsgate_key(ngx_pool_t *pool,
    ngx_http_wsgate_main_conf_t *wmcf, ngx_str_t *ws, const char *name,
    ngx_str_t *key);
static void ngx_http_wsgate_record(ngx_http_request_t *r, ngx_str_t *ws,
    const char *what, ngx_uint_t argc, ngx_str_t *argv);
static void ngx_http_wsgate_record_reply(void *data, redisReply *reply,
    ngx_http_wsgate_redis_status_e status);
static ngx_int_t ngx_http_wsgate_status_handler(ngx_http_request_t *r);
static void ngx_http_wsgate_status_reply(void *data, redisReply *reply,
    ngx_http_wsgate_redis_status_e status);
static ngx_int_t ngx_http_wsgate_status_send(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, redisReply *reply);
static void ngx_http_wsgate_status_cleanup(void *data);
static ngx_msec_t ngx_http_wsgate_atoms(const char *s, size_t len);
static ngx_msec_t ngx_http_wsgate_now_ms(void);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


/*
 * Failure record: the record lives the wedge window, or, while the
 * workspace's restart window is open, the rest of that window plus the
 * wedge window.  One script, so that the TTL and the write agree.
 */

static ngx_str_t  ngx_http_wsgate_record_script = ngx_string(
    "local ttl = tonumber(ARGV[5]) "
    "local left = redis.call('PTTL', KEYS[2]) "
    "if left > 0 then ttl = ttl + left end "
    "redis.call('HSET', KEYS[1], 'at_ms', ARGV[1], 'status', ARGV[2], "
    "'reason', ARGV[3], 'source', ARGV[4]) "
    "redis.call('PEXPIRE', KEYS[1], ttl) "
    "return ttl");

/* one consistent snapshot of the failure record and the restart marker */

static ngx_str_t  ngx_http_wsgate_state_script = ngx_string(
    "return {redis.call('HGETALL', KEYS[1]), redis.call('GET', KEYS[2])}");


static ngx_str_t  ngx_http_wsgate_unavailable_state =
    ngx_string("{\"error\":\"registration state unavailable\"}");
static ngx_str_t  ngx_http_wsgate_invalid_ws =
    ngx_string("{\"error\":\"invalid workspace id\"}");


ngx_int_t
ngx_http_wsgate_register_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_wsgate_header_filter;

    return NGX_OK;
}


/*
 * Called on every entry into the access phase after the token was
 * accepted: learn whether the workspace's restart window is open, read
 * the body and check it, then let the request through unchanged.
 */

ngx_int_t
ngx_http_wsgate_register_access(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx)
{
    ngx_int_t  rc;

    switch (ctx->phase) {

    case NGX_HTTP_WSGATE_REG_WINDOW:

        if (ctx->kind != NGX_HTTP_WSGATE_KIND_WORKSPACE) {
            /* only a workspace registers, and only itself */
            ctx->auth_result = NGX_HTTP_WSGATE_AUTH_MISMATCH;
            return ngx_http_wsgate_auth_deny(r, ctx);
        }

        rc = ngx_http_wsgate_register_window(r, ctx);

        if (rc != NGX_OK) {
            return rc;
        }

        /* fall through */

    case NGX_HTTP_WSGATE_REG_BODY:

        rc = ngx_http_wsgate_read_body(r, ctx);

        if (rc != NGX_OK) {
            return rc;
        }

        rc = ngx_http_wsgate_register_check_body(r, ctx);

        if (rc != NGX_OK) {
            return rc;
        }

        ctx->phase = NGX_HTTP_WSGATE_REG_PASS;

        return NGX_OK;

    case NGX_HTTP_WSGATE_REG_WAITING:
        return NGX_AGAIN;

    default: /* NGX_HTTP_WSGATE_REG_PASS */
        return NGX_OK;
    }
}


static ngx_int_t
ngx_http_wsgate_register_check_body(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx)
{
    u_char                      *p;
    size_t                       len;
    ngx_str_t                    field, reason, body;
    ngx_http_wsgate_verdict_t    v;
    ngx_http_wsgate_loc_conf_t  *wlcf;
    u_char                       id[NGX_HTTP_WSGATE_UUID_LEN];

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_wsgate_module);

    ngx_memzero(id, sizeof(id));

    if (ngx_http_wsgate_register_check(ctx->body.data, ctx->body.len,
                                       wlcf->allow_private_urls, &v, id)
        == 0
        || id[0] != '\0')
    {
        /* the payload names a workspace: it must be the token's own */

        if (!ngx_http_wsgate_uuid_equal(id, sizeof(id),
                                           ctx->workspace.data,
                                           ctx->workspace.len))
        {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "wsgate register: token \"%*s...\" is not "
                          "bound to workspace \"%*s\"",
                          (size_t) NGX_HTTP_WSGATE_PREFIX_LEN, ctx->prefix,
                          sizeof(id), id);

            ctx->auth_result = NGX_HTTP_WSGATE_AUTH_MISMATCH;

            return ngx_http_wsgate_auth_deny(r, ctx);
        }

        if (v.reason == NULL) {
            ctx->register_ws = ctx->workspace;
            return NGX_OK;
        }
    }

    /* the failure is the token's own workspace's */

    ctx->register_ws = ctx->workspace;

    field.data = (u_char *) v.field;
    field.len = ngx_strlen(v.field);
    reason.data = (u_char *) v.reason;
    reason.len = ngx_strlen(v.reason);

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "wsgate register: workspace \"%V\": invalid payload: "
                  "field \"%V\": %V", &ctx->workspace, &field, &reason);

    len = field.len + sizeof(": ") - 1 + reason.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->register_error.data = p;
    ctx->register_error.len = ngx_sprintf(p, "%V: %V", &field, &reason) - p;

    if (ngx_http_wsgate_json_string(r->pool, &field, &field) != NGX_OK
        || ngx_http_wsgate_json_string(r->pool, &reason, &reason) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = sizeof("{\"error\":\"invalid register payload\",\"field\":,"
                 "\"reason\":}") - 1
          + field.len + reason.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.data = p;
    body.len = ngx_sprintf(p, "{\"error\":\"invalid register payload\","
                              "\"field\":%V,\"reason\":%V}",
                           &field, &reason)
               - p;

    /* the header filter records the failure and sets the state */

    return ngx_http_wsgate_answer(r, NGX_HTTP_BAD_REQUEST, &body);
}


/*
 * Reads the restart marker of the token's workspace first, so that the
 * state this request leaves is known when the response is logged.  A
 * Redis that fails here does not stop the registration.
 */

static ngx_int_t
ngx_http_wsgate_register_window(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx)
{
    ngx_str_t                        argv[2];
    ngx_http_wsgate_redis_op_t      *op;
    ngx_http_wsgate_main_conf_t     *wmcf;
    ngx_http_wsgate_redis_status_e   status;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_wsgate_module);

    ngx_str_set(&argv[0], "GET");

    if (ngx_http_wsgate_key(r->pool, wmcf, &ctx->workspace, "restart",
                            &argv[1])
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    op = ngx_http_wsgate_redis_send(wmcf->client, 2, argv,
                                    ngx_http_wsgate_register_window_reply,
                                    ctx, &status);

    if (op == NULL) {
        ctx->phase = NGX_HTTP_WSGATE_REG_BODY;
        return NGX_OK;
    }

    /* the auth lookup's cleanup cancels ctx->op if the request goes */

    ctx->phase = NGX_HTTP_WSGATE_REG_WAITING;

    return ngx_http_wsgate_wait(r, ctx, op);
}


static void
ngx_http_wsgate_register_window_reply(void *data, redisReply *reply,
    ngx_http_wsgate_redis_status_e status)
{
    ngx_http_wsgate_ctx_t *ctx = data;

    ctx->op = NULL;
    ctx->phase = NGX_HTTP_WSGATE_REG_BODY;

    if (reply != NULL && reply->type == REDIS_REPLY_STRING) {
        ctx->restart_at = ngx_http_wsgate_atoms(reply->str, reply->len);
    }

    ngx_http_wsgate_resume(ctx->request);
}


/* the outcome is known when the response header goes out */

static ngx_int_t
ngx_http_wsgate_header_filter(ngx_http_request_t *r)
{
    ngx_http_wsgate_ctx_t       *ctx;
    ngx_http_wsgate_loc_conf_t  *wlcf;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_wsgate_module);

    if (wlcf->reg) {
        ctx = ngx_http_get_module_ctx(r, ngx_http_wsgate_module);

        if (ctx && !ctx->recorded && ctx->register_ws.len) {
            ctx->recorded = 1;
            ngx_http_wsgate_register_outcome(r, ctx);
        }

    } else if (wlcf->restart && r->upstream
               && r->headers_out.status >= NGX_HTTP_OK
               && r->headers_out.status < NGX_HTTP_SPECIAL_RESPONSE)
    {
        ngx_http_wsgate_restart_outcome(r, wlcf);
    }

    return ngx_http_next_header_filter(r);
}


static void
ngx_http_wsgate_register_outcome(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx)
{
    u_char                       *p;
    ngx_str_t                     argv[10];
    ngx_uint_t                    status;
    ngx_msec_t                    now;
    ngx_http_wsgate_main_conf_t  *wmcf;
    u_char                        at[NGX_INT64_LEN];
    u_char                        code[NGX_INT_T_LEN];
    u_char                        wedge[NGX_INT_T_LEN];
    u_char                        backend[sizeof("backend answered ")
                                          + NGX_INT_T_LEN];

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_wsgate_module);

    status = r->headers_out.status;

    if (ctx->register_error.len == 0 && r->upstream == NULL) {
        /* nginx's own answer before any backend (413, 500): not ours */
        return;
    }

    if (ctx->register_error.len == 0
        && status >= NGX_HTTP_OK && status < NGX_HTTP_SPECIAL_RESPONSE)
    {
        /* the first good register clears the failure and the window */

        ctx->state = NGX_HTTP_WSGATE_STATE_ONLINE;

        ngx_str_set(&argv[0], "DEL");

        if (ngx_http_wsgate_key(r->pool, wmcf, &ctx->register_ws, "regfail",
                                &argv[1])
               != NGX_OK
            || ngx_http_wsgate_key(r->pool, wmcf, &ctx->register_ws,
                                   "restart", &argv[2])
               != NGX_OK)
        {
            return;
        }

        ngx_http_wsgate_record(r, &ctx->register_ws, "recovery", 3, argv);
        return;
    }

    now = ngx_http_wsgate_now_ms();

    ctx->state = (ctx->restart_at && now >= ctx->restart_at)
                 ? NGX_HTTP_WSGATE_STATE_RESTARTING
                 : NGX_HTTP_WSGATE_STATE_DEGRADED;

    ngx_str_set(&argv[0], "EVAL");
    argv[1] = ngx_http_wsgate_record_script;
    ngx_str_set(&argv[2], "2");

    if (ngx_http_wsgate_key(r->pool, wmcf, &ctx->register_ws, "regfail",
                            &argv[3])
           != NGX_OK
        || ngx_http_wsgate_key(r->pool, wmcf, &ctx->register_ws, "restart",
                               &argv[4])
           != NGX_OK)
    {
        return;
    }

    argv[5].data = at;
    argv[5].len = ngx_sprintf(at, "%M", now) - at;

    argv[6].data = code;
    argv[6].len = ngx_sprintf(code, "%ui", status) - code;

    if (ctx->register_error.len) {
        argv[7] = ctx->register_error;
        ngx_str_set(&argv[8], "gateway");

    } else {
        p = ngx_sprintf(backend, "backend answered %ui", status);
        argv[7].data = backend;
        argv[7].len = p - backend;
        ngx_str_set(&argv[8], "backend");
    }

    argv[9].data = wedge;
    argv[9].len = ngx_sprintf(wedge, "%M", wmcf->wedge_window) - wedge;

    ngx_http_wsgate_record(r, &ctx->register_ws, "failure", 10, argv);
}


static void
ngx_http_wsgate_restart_outcome(ngx_http_request_t *r,
    ngx_http_wsgate_loc_conf_t *wlcf)
{
    ngx_str_t                     ws, argv[5];
    ngx_msec_t                    now;
    ngx_http_wsgate_main_conf_t  *wmcf;
    u_char                        at[NGX_INT64_LEN];
    u_char                        grace[NGX_INT_T_LEN];

    if (ngx_http_complex_value(r, wlcf->restart, &ws) != NGX_OK) {
        return;
    }

    if (ngx_http_wsgate_uuid_parse(ws.data, ws.len, NULL) != 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "wsgate restart: \"%V\" is not a workspace id, "
                      "no restart window opened", &ws);
        return;
    }

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_wsgate_module);

    now = ngx_http_wsgate_now_ms();

    ngx_str_set(&argv[0], "SET");

    if (ngx_http_wsgate_key(r->pool, wmcf, &ws, "restart", &argv[1])
        != NGX_OK)
    {
        return;
    }

    argv[2].data = at;
    argv[2].len = ngx_sprintf(at, "%M", now) - at;
    ngx_str_set(&argv[3], "PX");
    argv[4].data = grace;
    argv[4].len = ngx_sprintf(grace, "%M", wmcf->restart_grace) - grace;

    ngx_http_wsgate_record(r, &ws, "restart", 5, argv);
}


/* <prefix>ws:{<lowercase ws>}:<name> */

static ngx_int_t
ngx_http_wsgate_key(ngx_pool_t *pool, ngx_http_wsgate_main_conf_t *wmcf,
    ngx_str_t *ws, const char *name, ngx_str_t *key)
{
    u_char  *p;
    size_t   len;

    len = wmcf->key_prefix.len + sizeof("ws:{}:") - 1 + ws->len
          + ngx_strlen(name);

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    key->data = p;
    key->len = len;

    p = ngx_cpymem(p, wmcf->key_prefix.data, wmcf->key_prefix.len);
    p = ngx_cpymem(p, "ws:{", sizeof("ws:{") - 1);
    ngx_strlow(p, ws->data, ws->len);
    p += ws->len;
    *p++ = '}';
    *p++ = ':';
    ngx_memcpy(p, name, ngx_strlen(name));

    return NGX_OK;
}


/*
 * A write that must not delay the response nor outlive the request's
 * memory: the operation owns a small record of its own for the log line,
 * and the request is never referred to again.
 */

static void
ngx_http_wsgate_record(ngx_http_request_t *r, ngx_str_t *ws, const char *what,
    ngx_uint_t argc, ngx_str_t *argv)
{
    ngx_http_wsgate_record_t        *rec;
    ngx_http_wsgate_main_conf_t     *wmcf;
    ngx_http_wsgate_redis_status_e   status;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_wsgate_module);

    rec = ngx_alloc(sizeof(ngx_http_wsgate_record_t), ngx_cycle->log);
    if (rec == NULL) {
        return;
    }

    rec->log = ngx_cycle->log;
    rec->what = what;
    ngx_memcpy(rec->ws, ws->data, ngx_min(ws->len, sizeof(rec->ws)));

    if (ngx_http_wsgate_redis_send(wmcf->client, argc, argv,
                                   ngx_http_wsgate_record_reply, rec,
                                   &status)
        == NULL)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "wsgate register: workspace \"%V\": %s not recorded: "
                      "redis unavailable", ws, what);
        ngx_free(rec);
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsgate register: workspace \"%V\": recording %s",
                   ws, what);
}


static void
ngx_http_wsgate_record_reply(void *data, redisReply *reply,
    ngx_http_wsgate_redis_status_e status)
{
    ngx_http_wsgate_record_t  *rec = data;

    if (reply == NULL) {
        ngx_log_error(NGX_LOG_ERR, rec->log, 0,
                      "wsgate register: workspace \"%*s\": %s not "
                      "recorded: redis %s", sizeof(rec->ws), rec->ws,
                      rec->what,
                      status == NGX_HTTP_WSGATE_REDIS_TIMEOUT
                      ? "timed out" : "unavailable");

    } else if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, rec->log, 0,
                      "wsgate register: workspace \"%*s\": %s not "
                      "recorded: \"%*s\"", sizeof(rec->ws), rec->ws,
                      rec->what, reply->len, reply->str);
    }

    ngx_free(rec);
}


/* wsgate_status: the registration state as JSON */

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
    ngx_int_t                        rc;
    ngx_str_t                        ws, argv[5];
    ngx_http_cleanup_t              *cln;
    ngx_http_wsgate_ctx_t           *ctx;
    ngx_http_wsgate_redis_op_t      *op;
    ngx_http_wsgate_loc_conf_t      *wlcf;
    ngx_http_wsgate_main_conf_t     *wmcf;
    ngx_http_wsgate_redis_status_e   status;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_wsgate_module);
    wmcf = ngx_http_get_module_main_conf(r, ngx_http_wsgate_module);

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

    ngx_str_set(&argv[0], "EVAL");
    argv[1] = ngx_http_wsgate_state_script;
    ngx_str_set(&argv[2], "2");

    if (ngx_http_wsgate_key(r->pool, wmcf, &ws, "regfail", &argv[3])
           != NGX_OK
        || ngx_http_wsgate_key(r->pool, wmcf, &ws, "restart", &argv[4])
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_wsgate_status_cleanup;
    cln->data = ctx;

    op = ngx_http_wsgate_redis_send(wmcf->client, 5, argv,
                                    ngx_http_wsgate_status_reply, ctx,
                                    &status);

    if (op == NULL) {
        return ngx_http_wsgate_status_send(r, ctx, NULL);
    }

    ctx->op = op;

    r->read_event_handler = ngx_http_test_reading;
    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_wsgate_status_reply(void *data, redisReply *reply,
    ngx_http_wsgate_redis_status_e status)
{
    ngx_http_wsgate_ctx_t *ctx = data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;
    c = r->connection;

    ctx->op = NULL;

    r->read_event_handler = ngx_http_block_reading;

    ngx_http_finalize_request(r, ngx_http_wsgate_status_send(r, ctx, reply));
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_wsgate_status_send(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx,
    redisReply *reply)
{
    u_char       *p;
    size_t        len;
    ngx_str_t     body, v, failure, restart;
    ngx_uint_t    i;
    ngx_msec_t    at_ms, restart_ms;
    redisReply   *fields, *marker, *e;
    ngx_str_t     reason, source, code;

    if (reply == NULL
        || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2)
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

    fields = reply->element[0];
    marker = reply->element[1];

    at_ms = 0;
    restart_ms = 0;
    ngx_str_null(&reason);
    ngx_str_null(&source);
    ngx_str_set(&code, "0");

    if (fields->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i + 1 < fields->elements; i += 2) {
            e = fields->element[i];
            v.data = (u_char *) fields->element[i + 1]->str;
            v.len = fields->element[i + 1]->len;

            if (e->len == 5 && ngx_strncmp(e->str, "at_ms", 5) == 0) {
                at_ms = ngx_http_wsgate_atoms((char *) v.data, v.len);

            } else if (e->len == 6 && ngx_strncmp(e->str, "status", 6) == 0) {
                if (ngx_atoi(v.data, v.len) != NGX_ERROR) {
                    code = v;
                }

            } else if (e->len == 6 && ngx_strncmp(e->str, "reason", 6) == 0) {
                reason = v;

            } else if (e->len == 6 && ngx_strncmp(e->str, "source", 6) == 0) {
                source = v;
            }
        }
    }

    if (marker->type == REDIS_REPLY_STRING) {
        restart_ms = ngx_http_wsgate_atoms(marker->str, marker->len);
    }

    if (fields->type != REDIS_REPLY_ARRAY || fields->elements == 0) {
        ctx->state = NGX_HTTP_WSGATE_STATE_ONLINE;
        ngx_str_set(&failure, "null");

    } else {
        ctx->state = (restart_ms && at_ms >= restart_ms)
                     ? NGX_HTTP_WSGATE_STATE_RESTARTING
                     : NGX_HTTP_WSGATE_STATE_DEGRADED;

        if (ngx_http_wsgate_json_string(r->pool, &reason, &reason) != NGX_OK
            || ngx_http_wsgate_json_string(r->pool, &source, &source)
               != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        len = sizeof("{\"at_ms\":,\"status\":,\"reason\":,\"source\":}") - 1
              + NGX_INT64_LEN + code.len + reason.len + source.len;

        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        failure.data = p;
        failure.len = ngx_sprintf(p, "{\"at_ms\":%M,\"status\":%V,"
                                     "\"reason\":%V,\"source\":%V}",
                                  at_ms, &code, &reason, &source)
                      - p;
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

    len = sizeof("{\"workspace_id\":\"\",\"state\":\"restarting\","
                 "\"last_failure\":,\"restart_at_ms\":}") - 1
          + ctx->register_ws.len + failure.len + restart.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.data = p;
    body.len = ngx_sprintf(p, "{\"workspace_id\":\"%V\",\"state\":\"%V\","
                              "\"last_failure\":%V,\"restart_at_ms\":%V}",
                           &ctx->register_ws,
                           ngx_http_wsgate_state_name(ctx->state),
                           &failure, &restart)
               - p;

    return ngx_http_wsgate_send_json(r, NGX_HTTP_OK, &body);
}


static void
ngx_http_wsgate_status_cleanup(void *data)
{
    ngx_http_wsgate_ctx_t  *ctx = data;

    if (ctx->op) {
        ngx_http_wsgate_redis_cancel(ctx->op);
        ctx->op = NULL;
    }
}


/* a millisecond timestamp; 0 when it is not one */

static ngx_msec_t
ngx_http_wsgate_atoms(const char *s, size_t len)
{
    off_t  n;

    n = ngx_atoof((u_char *) s, len);

    return (n == NGX_ERROR) ? 0 : (ngx_msec_t) n;
}


/* wall-clock milliseconds, as the records and the CLI write them */

static ngx_msec_t
ngx_http_wsgate_now_ms(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (ngx_msec_t) tp->sec * 1000 + tp->msec;
}
