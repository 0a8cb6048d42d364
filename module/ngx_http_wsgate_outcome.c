
/*
 * Copyright (C) wsgate authors
 *
 * The outcome recorder.  What a register or restart request achieved is
 * written to Redis once it is known, without delaying the answer:
 *
 *   register, wsgate's own 400      (the driver, when it denies)
 *   register, the backend's status  (the header filter)
 *       2xx: DEL regfail restart    the first good register clears both
 *       other: the failure record   TTL: the wedge window, plus what is
 *                                   left of an open restart window
 *   restart, the backend's 2xx      (the header filter)
 *       SET restart <now> PX grace  opens the restart window
 *
 * The writes are fire-and-forget: a record owns the little it needs for
 * its log line and never refers to the request again.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_wsgate_module.h"


/* a write in flight; outlives the request, so it is not in r->pool */
typedef struct {
    ngx_log_t                      *log;
    u_char                          ws[NGX_HTTP_WSGATE_UUID_LEN];
    const char                     *what;
    ngx_int_t                       counter;    /* -1: none */
} ngx_http_wsgate_record_t;


static ngx_int_t ngx_http_wsgate_outcome_filter(ngx_http_request_t *r);
static void ngx_http_wsgate_outcome_restart(ngx_http_request_t *r,
    ngx_http_wsgate_loc_conf_t *wlcf);
static void ngx_http_wsgate_record(ngx_http_request_t *r, ngx_str_t *ws,
    const char *what, ngx_int_t counter, ngx_uint_t argc, ngx_str_t *argv);
static void ngx_http_wsgate_record_reply(void *data,
    ngx_http_wsgate_reply_t *reply, ngx_http_wsgate_redis_status_e status);


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


ngx_int_t
ngx_http_wsgate_outcome_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_wsgate_outcome_filter;

    return NGX_OK;
}


/* the backend's answer is known when its header goes out */

static ngx_int_t
ngx_http_wsgate_outcome_filter(ngx_http_request_t *r)
{
    ngx_http_wsgate_ctx_t       *ctx;
    ngx_http_wsgate_loc_conf_t  *wlcf;

    if (r != r->main || r->upstream == NULL) {
        /* nginx's own answers (413, 500, a denial) are not outcomes */
        return ngx_http_next_header_filter(r);
    }

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_wsgate_module);

    if (wlcf->reg) {
        ctx = ngx_http_get_module_ctx(r, ngx_http_wsgate_module);

        if (ctx && ctx->register_ws.len) {
            ngx_http_wsgate_outcome_register(r, ctx, r->headers_out.status);
        }

    } else if (wlcf->restart
               && r->headers_out.status >= NGX_HTTP_OK
               && r->headers_out.status < NGX_HTTP_SPECIAL_RESPONSE)
    {
        ngx_http_wsgate_outcome_restart(r, wlcf);
    }

    return ngx_http_next_header_filter(r);
}


void
ngx_http_wsgate_outcome_register(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, ngx_uint_t status)
{
    u_char                       *p;
    ngx_int_t                     counter;
    ngx_str_t                     argv[10];
    ngx_msec_t                    now;
    ngx_http_wsgate_main_conf_t  *wmcf;
    u_char                        at[NGX_INT64_LEN];
    u_char                        code[NGX_INT_T_LEN];
    u_char                        wedge[NGX_INT_T_LEN];
    u_char                        backend[sizeof("backend answered ")
                                          + NGX_INT_T_LEN];

    if (ctx->recorded) {
        return;
    }

    ctx->recorded = 1;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_wsgate_module);

    if (ctx->register_error.len == 0
        && status >= NGX_HTTP_OK && status < NGX_HTTP_SPECIAL_RESPONSE)
    {
        ctx->state = NGX_HTTP_WSGATE_STATE_ONLINE;

        ngx_str_set(&argv[0], "DEL");

        if (ngx_http_wsgate_make_key(r, NGX_HTTP_WSGATE_KEY_REGFAIL,
                                     &ctx->register_ws, &argv[1])
               != NGX_OK
            || ngx_http_wsgate_make_key(r, NGX_HTTP_WSGATE_KEY_RESTART,
                                        &ctx->register_ws, &argv[2])
               != NGX_OK)
        {
            return;
        }

        ngx_http_wsgate_record(r, &ctx->register_ws, "recovery",
                               NGX_HTTP_WSGATE_M_RECOVERIES, 3, argv);
        return;
    }

    now = ngx_http_wsgate_now_ms();

    ctx->state = ngx_http_wsgate_state(1, now, ctx->restart_at);

    ngx_str_set(&argv[0], "EVAL");
    argv[1] = ngx_http_wsgate_record_script;
    ngx_str_set(&argv[2], "2");

    if (ngx_http_wsgate_make_key(r, NGX_HTTP_WSGATE_KEY_REGFAIL,
                                 &ctx->register_ws, &argv[3])
           != NGX_OK
        || ngx_http_wsgate_make_key(r, NGX_HTTP_WSGATE_KEY_RESTART,
                                    &ctx->register_ws, &argv[4])
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
        counter = NGX_HTTP_WSGATE_M_REGFAIL_GATEWAY;

    } else {
        p = ngx_sprintf(backend, "backend answered %ui", status);
        argv[7].data = backend;
        argv[7].len = p - backend;
        ngx_str_set(&argv[8], "backend");
        counter = NGX_HTTP_WSGATE_M_REGFAIL_BACKEND;
    }

    argv[9].data = wedge;
    argv[9].len = ngx_sprintf(wedge, "%M", wmcf->wedge_window) - wedge;

    ngx_http_wsgate_record(r, &ctx->register_ws, "failure", counter, 10,
                           argv);
}


static void
ngx_http_wsgate_outcome_restart(ngx_http_request_t *r,
    ngx_http_wsgate_loc_conf_t *wlcf)
{
    ngx_str_t                     ws, argv[5];
    ngx_http_wsgate_main_conf_t  *wmcf;
    u_char                        at[NGX_INT64_LEN];
    u_char                        grace[NGX_INT_T_LEN];

    if (ngx_http_complex_value(r, wlcf->restart, &ws) != NGX_OK) {
        return;
    }

    if (ngx_http_wsgate_uuid_parse(ws.data, ws.len, NULL) != 0) {

        if (ngx_http_wsgate_log_escape(r->pool, &ws, &ws) != NGX_OK) {
            return;
        }

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "wsgate restart: \"%V\" is not a workspace id, "
                      "no restart window opened", &ws);
        return;
    }

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_wsgate_module);

    ngx_str_set(&argv[0], "SET");

    if (ngx_http_wsgate_make_key(r, NGX_HTTP_WSGATE_KEY_RESTART, &ws,
                                 &argv[1])
        != NGX_OK)
    {
        return;
    }

    argv[2].data = at;
    argv[2].len = ngx_sprintf(at, "%M", ngx_http_wsgate_now_ms()) - at;
    ngx_str_set(&argv[3], "PX");
    argv[4].data = grace;
    argv[4].len = ngx_sprintf(grace, "%M", wmcf->restart_grace) - grace;

    ngx_http_wsgate_record(r, &ws, "restart", -1, 5, argv);
}


static void
ngx_http_wsgate_record(ngx_http_request_t *r, ngx_str_t *ws, const char *what,
    ngx_int_t counter, ngx_uint_t argc, ngx_str_t *argv)
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
    rec->counter = counter;
    ngx_memcpy(rec->ws, ws->data, ngx_min(ws->len, sizeof(rec->ws)));

    if (ngx_http_wsgate_send(wmcf, argc, argv, ngx_http_wsgate_record_reply,
                             rec, &status)
        == NULL)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "wsgate register: workspace \"%V\": %s not recorded: "
                      "redis unavailable", ws, what);
        ngx_free(rec);
        return;
    }

    /*
     * Out before the answer: the client's next register, maybe through
     * another worker, must find this one written (a failure, then the
     * recovery that clears it, never the other way round).
     */

    ngx_http_wsgate_push(wmcf);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsgate register: workspace \"%V\": recording %s",
                   ws, what);
}


static void
ngx_http_wsgate_record_reply(void *data, ngx_http_wsgate_reply_t *reply,
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

    } else if (reply->type == NGX_HTTP_WSGATE_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, rec->log, 0,
                      "wsgate register: workspace \"%*s\": %s not "
                      "recorded: \"%V\"", sizeof(rec->ws), rec->ws,
                      rec->what, &reply->str);

    } else if (rec->counter == NGX_HTTP_WSGATE_M_RECOVERIES) {

        /* DEL answers how many keys it removed: none, nothing to recover */

        if (reply->type == NGX_HTTP_WSGATE_REPLY_INTEGER
            && reply->integer > 0)
        {
            ngx_http_wsgate_metrics_count(NGX_HTTP_WSGATE_M_RECOVERIES);
        }

    } else if (rec->counter != -1) {
        ngx_http_wsgate_metrics_count(rec->counter);
    }

    ngx_free(rec);
}
