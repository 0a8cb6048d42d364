
/*
 * Copyright (C) wsgate authors
 *
 * The access-phase driver: the one place a wsgate_auth request is walked
 * through its steps and the one place it is answered.
 *
 *     LOOKUP    the bearer token in Redis (auth)
 *     HEADERS   what the location fronts, before the body: the restart
 *               window (register), the caller (A2A)
 *     BODY      the whole body, when a check needs it
 *     PAYLOAD   the register payload, the A2A envelope
 *     PASS
 *
 * A step answers "go on" (NGX_OK), "ask Redis" (NGX_AGAIN, with the
 * command and its reply handler in ctx->query) or a status to deny with.
 * Steps never call each other and never send anything: the driver sends
 * the queries, waits, reads the body, and denies the nginx way, by
 * returning the status after setting WWW-Authenticate or Retry-After, so
 * that error_page and satisfy work as they do with auth_basic.  Where no
 * error_page takes over, a filter turns nginx's own error page into the
 * contract's JSON body.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_wsgate_module.h"


static ngx_int_t ngx_http_wsgate_access_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_wsgate_access_step(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);
static ngx_int_t ngx_http_wsgate_access_query(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);
static ngx_int_t ngx_http_wsgate_access_cleanup(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);
static void ngx_http_wsgate_access_reply(void *data,
    ngx_http_wsgate_reply_t *reply, ngx_http_wsgate_redis_status_e status);
static ngx_int_t ngx_http_wsgate_access_resolve(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);
static void ngx_http_wsgate_access_resolved(ngx_resolver_ctx_t *rctx);
static ngx_int_t ngx_http_wsgate_access_body(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);
static void ngx_http_wsgate_access_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_wsgate_access_join(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);
static ngx_int_t ngx_http_wsgate_access_deny(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, ngx_int_t status);
static void ngx_http_wsgate_access_count(ngx_http_wsgate_ctx_t *ctx);
static ngx_int_t ngx_http_wsgate_access_precontent(ngx_http_request_t *r);
static void ngx_http_wsgate_cleanup(void *data);
static void ngx_http_wsgate_ctx_release(void *data);
static ngx_int_t ngx_http_wsgate_deny_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_wsgate_deny_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static ngx_str_t  ngx_http_wsgate_missing_json =
    ngx_string("{\"error\":\"missing workspace auth token\"}");
static ngx_str_t  ngx_http_wsgate_invalid_json =
    ngx_string("{\"error\":\"invalid workspace auth token\"}");
static ngx_str_t  ngx_http_wsgate_unavailable_json =
    ngx_string("{\"error\":\"auth backend unavailable\"}");

/* headers only wsgate sets: a client's copies never reach a backend */
static ngx_str_t  ngx_http_wsgate_own_headers[] = {
    ngx_string("X-Caller-Kind"),
    ngx_string("X-Caller-Name")
};

static ngx_str_t  ngx_http_wsgate_authorization = ngx_string("Authorization");

static ngx_str_t  ngx_http_wsgate_missing_challenge = ngx_string("Bearer");
static ngx_str_t  ngx_http_wsgate_invalid_challenge =
    ngx_string("Bearer error=\"invalid_token\"");


ngx_int_t
ngx_http_wsgate_access_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_wsgate_access_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_wsgate_access_precontent;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_wsgate_deny_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_wsgate_deny_body_filter;

    return NGX_OK;
}


/*
 * The context does not come from r->pool: at about 500 bytes it does not
 * fit in what a proxied request leaves of the pool's first block, and a
 * second block (a malloc() and a free() of request_pool_size) cost more
 * than the rest of a cached lookup.  Contexts are kept on a per-worker
 * free list instead, each given back by a cleanup of r->pool; the list
 * keeps at most NGX_HTTP_WSGATE_CTX_FREE of them, the rest are freed.
 * With NGX_DEBUG_PALLOC (the sanitizer build) none is kept, so that a
 * context touched after its request is a use after free again.
 */

#define NGX_HTTP_WSGATE_CTX_FREE  1024

typedef union ngx_http_wsgate_ctx_slot_u  ngx_http_wsgate_ctx_slot_t;

union ngx_http_wsgate_ctx_slot_u {
    ngx_http_wsgate_ctx_t        ctx;
    ngx_http_wsgate_ctx_slot_t  *next;
};

static ngx_http_wsgate_ctx_slot_t  *ngx_http_wsgate_ctx_free;
static ngx_uint_t                   ngx_http_wsgate_ctx_nfree;


ngx_http_wsgate_ctx_t *
ngx_http_wsgate_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t          *cln;
    ngx_http_wsgate_ctx_t       *ctx;
    ngx_http_wsgate_ctx_slot_t  *slot;

    ctx = ngx_http_get_module_ctx(r, ngx_http_wsgate_module);

    if (ctx) {
        return ctx;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    slot = ngx_http_wsgate_ctx_free;

    if (slot) {
        ngx_http_wsgate_ctx_free = slot->next;
        ngx_http_wsgate_ctx_nfree--;

    } else {
        slot = ngx_alloc(sizeof(ngx_http_wsgate_ctx_slot_t),
                         r->connection->log);
        if (slot == NULL) {
            return NULL;
        }
    }

    ctx = &slot->ctx;
    ngx_memzero(ctx, offsetof(ngx_http_wsgate_ctx_t, token_key));

    ctx->request = r;

    cln->handler = ngx_http_wsgate_ctx_release;
    cln->data = ctx;

    ngx_http_set_ctx(r, ctx, ngx_http_wsgate_module);

    return ctx;
}


/*
 * r->pool is being destroyed: the request's own cleanups ran already, so
 * nothing waits for Redis on its behalf any more (called off here all the
 * same, should a request have ended some other way)
 */

static void
ngx_http_wsgate_ctx_release(void *data)
{
    ngx_http_wsgate_ctx_t  *ctx = data;

    ngx_http_wsgate_ctx_slot_t  *slot;

    ngx_http_wsgate_cleanup(ctx);

    slot = (ngx_http_wsgate_ctx_slot_t *) ctx;

#if (NGX_DEBUG_PALLOC)

    ngx_free(slot);

#else

    if (ngx_http_wsgate_ctx_nfree >= NGX_HTTP_WSGATE_CTX_FREE) {
        ngx_free(slot);
        return;
    }

    slot->next = ngx_http_wsgate_ctx_free;
    ngx_http_wsgate_ctx_free = slot;
    ngx_http_wsgate_ctx_nfree++;

#endif
}


/*
 * Entered again after every wait (a Redis reply, the body): ctx->step
 * says where the request is, ctx->verdict what the last reply decided.
 */

static ngx_int_t
ngx_http_wsgate_access_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_http_wsgate_ctx_t       *ctx;
    ngx_http_wsgate_loc_conf_t  *wlcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_wsgate_module);

    if (!wlcf->auth) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_wsgate_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->op || ctx->resolving) {
        /* woken before the answer came */
        return NGX_AGAIN;
    }

    rc = ctx->verdict;
    ctx->verdict = NGX_OK;

    for ( ;; ) {

        if (rc == NGX_AGAIN) {
            rc = ngx_http_wsgate_access_query(r, ctx);

            if (rc == NGX_AGAIN) {
                return NGX_AGAIN;
            }

            continue;
        }

        if (rc != NGX_OK) {
            return ngx_http_wsgate_access_deny(r, ctx, rc);
        }

        switch (ctx->step) {

        case NGX_HTTP_WSGATE_STEP_BODY:

            rc = ngx_http_wsgate_access_body(r, ctx);

            if (rc != NGX_OK) {
                /* NGX_DONE while reading, or nginx's own answer (413) */
                return rc;
            }

            continue;

        case NGX_HTTP_WSGATE_STEP_READING:
            return NGX_AGAIN;

        case NGX_HTTP_WSGATE_STEP_PASS:
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "wsgate access: pass");
            ngx_http_wsgate_access_count(ctx);
            return NGX_OK;

        case NGX_HTTP_WSGATE_STEP_DENIED:
            return ctx->status;

        default:
            rc = ngx_http_wsgate_access_step(r, ctx);
        }
    }
}


/* runs the step ctx->step names and moves on to the next one */

static ngx_int_t
ngx_http_wsgate_access_step(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx)
{
    ngx_http_wsgate_step_e       step;
    ngx_http_wsgate_loc_conf_t  *wlcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_wsgate_module);

    step = ctx->step;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsgate access: step %d", step);

    ngx_str_null(&ctx->query.name);

    switch (step) {

    case NGX_HTTP_WSGATE_STEP_LOOKUP:
        ctx->step = NGX_HTTP_WSGATE_STEP_HEADERS;

        if (ngx_http_wsgate_remove_headers(r, ngx_http_wsgate_own_headers, 2)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        return ngx_http_wsgate_auth_lookup(r, ctx);

    case NGX_HTTP_WSGATE_STEP_HEADERS:
        ctx->step = NGX_HTTP_WSGATE_STEP_BODY;

        if (wlcf->reg) {
            return ngx_http_wsgate_register_window(r, ctx);
        }

        if (wlcf->a2a) {
            return ngx_http_wsgate_a2a_caller(r, ctx);
        }

        return NGX_OK;

    case NGX_HTTP_WSGATE_STEP_READ:
        ctx->step = NGX_HTTP_WSGATE_STEP_PAYLOAD;
        return ngx_http_wsgate_access_join(r, ctx);

    default: /* NGX_HTTP_WSGATE_STEP_PAYLOAD */
        ctx->step = NGX_HTTP_WSGATE_STEP_PASS;

        if (wlcf->reg) {
            return ngx_http_wsgate_register_payload(r, ctx);
        }

        if (wlcf->a2a && wlcf->a2a_validate) {
            return ngx_http_wsgate_a2a_envelope(r, ctx);
        }

        return NGX_OK;
    }
}


/*
 * Sends what the step asked for.  Redis known to be down answers at once:
 * the step's handler hears "no reply" without the request waiting.
 */

static ngx_int_t
ngx_http_wsgate_access_query(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx)
{
    ngx_http_wsgate_redis_op_t      *op;
    ngx_http_wsgate_main_conf_t     *wmcf;
    ngx_http_wsgate_redis_status_e   status;

    if (ngx_http_wsgate_access_cleanup(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ctx->query.name.len) {
        return ngx_http_wsgate_access_resolve(r, ctx);
    }

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_wsgate_module);

    op = ngx_http_wsgate_send(wmcf, ctx->query.argc, ctx->query.argv,
                              ngx_http_wsgate_access_reply, ctx, &status);

    if (op == NULL) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "wsgate access: redis unavailable (%d)", status);

        return ctx->query.handler(r, ctx, NULL);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsgate access: waiting for redis \"%V\"",
                   &ctx->query.argv[0]);

    /* a client that leaves while the request waits is noticed at once */

    ctx->op = op;
    r->read_event_handler = ngx_http_test_reading;

    return NGX_AGAIN;
}


/*
 * A Redis reply or a resolution must never reach a request that is gone:
 * the first wait registers the cleanup that calls them off (a request
 * answered without waiting, from the cache, needs none).
 */

static ngx_int_t
ngx_http_wsgate_access_cleanup(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx)
{
    ngx_http_cleanup_t  *cln;

    if (ctx->cleanup) {
        return NGX_OK;
    }

    cln = ngx_http_cleanup_add(r, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_wsgate_cleanup;
    cln->data = ctx;

    ctx->cleanup = 1;

    return NGX_OK;
}


/*
 * The reply came, on the Redis connection's event: let the step judge it,
 * then go on with the phases and whatever they posted, as
 * ngx_http_upstream does.  Neither r nor ctx is touched afterwards.
 */

static void
ngx_http_wsgate_access_reply(void *data, ngx_http_wsgate_reply_t *reply,
    ngx_http_wsgate_redis_status_e status)
{
    ngx_http_wsgate_ctx_t *ctx = data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;
    c = r->connection;

    ctx->op = NULL;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "wsgate access: redis replied (%d)", status);

    ctx->verdict = ctx->query.handler(r, ctx, reply);

    r->read_event_handler = ngx_http_block_reading;

    if (ctx->content) {
        ngx_http_finalize_request(r, ctx->verdict);

    } else {
        ngx_http_core_run_phases(r);
    }

    ngx_http_run_posted_requests(c);
}


/*
 * The same for a content handler (wsgate_status): the reply handler
 * sends the answer, and what it returns finalizes the request.
 */

ngx_int_t
ngx_http_wsgate_content_query(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx)
{
    ngx_int_t  rc;

    ctx->content = 1;

    rc = ngx_http_wsgate_access_query(r, ctx);

    if (rc != NGX_AGAIN) {
        return rc;
    }

    r->main->count++;

    return NGX_DONE;
}


/*
 * Resolves ctx->query.name with the location's resolver, without
 * blocking.  A cached name is answered inside ngx_resolve_name(): the
 * verdict is then taken here rather than by resuming the phases.
 */

static ngx_int_t
ngx_http_wsgate_access_resolve(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx)
{
    ngx_int_t                  rc;
    ngx_resolver_ctx_t        *rctx;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    rctx = ngx_resolve_start(clcf->resolver, NULL);
    if (rctx == NULL) {
        return NGX_ERROR;
    }

    if (rctx == NGX_NO_RESOLVER) {
        return ctx->query.resolved(r, ctx, NULL);
    }

    rctx->name = ctx->query.name;
    rctx->handler = ngx_http_wsgate_access_resolved;
    rctx->data = ctx;
    rctx->timeout = clcf->resolver_timeout;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsgate access: resolving \"%V\"", &rctx->name);

    ctx->resolving = rctx;
    ctx->in_driver = 1;

    if (ngx_resolve_name(rctx) != NGX_OK) {
        /* the resolver freed rctx */
        ctx->resolving = NULL;
        ctx->in_driver = 0;
        return NGX_ERROR;
    }

    ctx->in_driver = 0;

    if (ctx->resolving == NULL) {
        rc = ctx->verdict;
        ctx->verdict = NGX_OK;
        return rc;
    }

    r->read_event_handler = ngx_http_test_reading;

    return NGX_AGAIN;
}


static void
ngx_http_wsgate_access_resolved(ngx_resolver_ctx_t *rctx)
{
    ngx_connection_t       *c;
    ngx_http_request_t     *r;
    ngx_http_wsgate_ctx_t  *ctx;

    ctx = rctx->data;
    r = ctx->request;
    c = r->connection;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "wsgate access: \"%V\" resolved (%i)",
                   &rctx->name, rctx->state);

    ctx->verdict = ctx->query.resolved(r, ctx, rctx);

    ctx->resolving = NULL;
    ngx_resolve_name_done(rctx);

    if (ctx->in_driver) {
        return;
    }

    r->read_event_handler = ngx_http_block_reading;

    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


/*
 * Starts reading the whole body (kept for proxy_pass afterwards).  The
 * body handler resumes the phases, at once when nothing was left to read.
 */

static ngx_int_t
ngx_http_wsgate_access_body(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx)
{
    ngx_int_t                    rc;
    ngx_http_wsgate_loc_conf_t  *wlcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_wsgate_module);

    if (!wlcf->reg && !(wlcf->a2a && wlcf->a2a_validate)) {
        ctx->step = NGX_HTTP_WSGATE_STEP_PASS;
        return NGX_OK;
    }

    if (r->headers_in.content_length_n <= 0 && !r->headers_in.chunked) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "wsgate access: no body");

        ngx_str_set(&ctx->body, "");
        ctx->step = NGX_HTTP_WSGATE_STEP_PAYLOAD;

        return NGX_OK;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsgate access: reading body");

    ctx->step = NGX_HTTP_WSGATE_STEP_READING;

    r->request_body_in_persistent_file = 1;
    r->request_body_in_clean_file = 1;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_wsgate_access_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    /* the read holds a reference of its own until the handler runs */

    ngx_http_finalize_request(r, NGX_DONE);

    return NGX_DONE;
}


static void
ngx_http_wsgate_access_body_handler(ngx_http_request_t *r)
{
    ngx_http_wsgate_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_wsgate_module);

    if (ctx && ctx->step == NGX_HTTP_WSGATE_STEP_READING) {
        ctx->step = NGX_HTTP_WSGATE_STEP_READ;
    }

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


/* the body in one buffer, from memory or read back from its file */

static ngx_int_t
ngx_http_wsgate_access_join(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx)
{
    u_char       *p;
    off_t         size;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    size = 0;

    for (cl = r->request_body ? r->request_body->bufs : NULL; cl;
         cl = cl->next)
    {
        b = cl->buf;
        size += b->in_file ? b->file_last - b->file_pos : b->last - b->pos;
    }

    if (size == 0) {
        ngx_str_set(&ctx->body, "");
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, (size_t) size);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->body.data = p;
    ctx->body.len = (size_t) size;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
            if (b->last != b->pos) {
                p = ngx_cpymem(p, b->pos, b->last - b->pos);
            }

            continue;
        }

        if (b->file_last == b->file_pos) {
            continue;
        }

        n = ngx_read_file(b->file, p, (size_t) (b->file_last - b->file_pos),
                          b->file_pos);

        if (n != b->file_last - b->file_pos) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "wsgate: could not read the request body back "
                          "from \"%V\"", &b->file->name);
            return NGX_ERROR;
        }

        p += n;
    }

    return NGX_OK;
}


/*
 * Denies the nginx way: the headers that go with the status, then the
 * status itself, which error_page may take over.  A register outcome is
 * recorded here, while the request is still the one that was judged.
 */

static ngx_int_t
ngx_http_wsgate_access_deny(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx,
    ngx_int_t status)
{
    ngx_table_elt_t  *h;

    if (status < NGX_HTTP_BAD_REQUEST
        || status == NGX_HTTP_INTERNAL_SERVER_ERROR)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->step = NGX_HTTP_WSGATE_STEP_DENIED;
    ctx->status = status;

    ngx_http_wsgate_access_count(ctx);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "wsgate access: deny %i", status);

    if (status == NGX_HTTP_UNAUTHORIZED
        || status == NGX_HTTP_SERVICE_UNAVAILABLE)
    {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif

        if (status == NGX_HTTP_SERVICE_UNAVAILABLE) {
            ngx_str_set(&h->key, "Retry-After");
            ngx_str_set(&h->value, "1");

            if (ctx->body_json.len == 0) {
                ctx->body_json = ngx_http_wsgate_unavailable_json;
            }

        } else {
            ngx_str_set(&h->key, "WWW-Authenticate");

            if (ctx->auth_result == NGX_HTTP_WSGATE_AUTH_MISSING) {
                h->value = ngx_http_wsgate_missing_challenge;
                ctx->body_json = ngx_http_wsgate_missing_json;

            } else {
                h->value = ngx_http_wsgate_invalid_challenge;
                ctx->body_json = ngx_http_wsgate_invalid_json;
            }

            r->headers_out.www_authenticate = h;
        }
    }

    if (ctx->register_ws.len) {
        ngx_http_wsgate_outcome_register(r, ctx, status);
    }

    return status;
}


/* the decision's auth result and cache answer, counted once */

static void
ngx_http_wsgate_access_count(ngx_http_wsgate_ctx_t *ctx)
{
    if (ctx->counted) {
        return;
    }

    ctx->counted = 1;

    if (ctx->auth_result != NGX_HTTP_WSGATE_AUTH_NONE) {
        ngx_http_wsgate_metrics_count(NGX_HTTP_WSGATE_M_AUTH_OK
                                      + ctx->auth_result
                                      - NGX_HTTP_WSGATE_AUTH_OK);
    }

    if (ctx->cache_status != NGX_HTTP_WSGATE_CACHE_NONE) {
        ngx_http_wsgate_metrics_count(NGX_HTTP_WSGATE_M_CACHE_HIT
                                      + ctx->cache_status
                                      - NGX_HTTP_WSGATE_CACHE_HIT);
    }
}


/*
 * The request was admitted and goes on to a backend.  Whatever wsgate
 * denied was overruled ("satisfy any" and another access module admitted
 * the request), so the answer that follows is not wsgate's.  The token
 * goes no further than the edge when the location hides it.
 */

static ngx_int_t
ngx_http_wsgate_access_precontent(ngx_http_request_t *r)
{
    ngx_http_wsgate_ctx_t       *ctx;
    ngx_http_wsgate_loc_conf_t  *wlcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_wsgate_module);

    if (!wlcf->auth) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_wsgate_module);

    if (ctx && ctx->step == NGX_HTTP_WSGATE_STEP_DENIED) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "wsgate access: %ui overruled by satisfy any",
                       ctx->status);

        ctx->status = 0;
    }

    if (wlcf->hide_credentials && r->headers_in.authorization) {
        if (ngx_http_wsgate_remove_headers(r, &ngx_http_wsgate_authorization,
                                           1)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->headers_in.authorization = NULL;
    }

    return NGX_DECLINED;
}


static void
ngx_http_wsgate_cleanup(void *data)
{
    ngx_http_wsgate_ctx_t  *ctx = data;

    if (ctx->op) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ctx->request->connection->log, 0,
                       "wsgate: request gone, redis reply will be dropped");

        ngx_http_wsgate_cancel(ngx_http_get_module_main_conf(ctx->request,
                                                    ngx_http_wsgate_module),
                               ctx->op);
        ctx->op = NULL;
    }

    if (ctx->resolving) {
        ngx_resolve_name_done(ctx->resolving);
        ctx->resolving = NULL;
    }
}


/*
 * nginx answers wsgate's denial with its own page when no error_page took
 * over (an error_page redirect clears the context, so ctx is gone then):
 * the contract's JSON body goes out instead.
 */

static ngx_int_t
ngx_http_wsgate_deny_header_filter(ngx_http_request_t *r)
{
    ngx_http_wsgate_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_wsgate_module);

    if (ctx == NULL
        || ctx->step != NGX_HTTP_WSGATE_STEP_DENIED
        || ctx->status == 0
        || r->headers_out.status != ctx->status
        || r != r->main)
    {
        return ngx_http_next_header_filter(r);
    }

    r->headers_out.content_type_len = sizeof("application/json") - 1;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    r->headers_out.content_length_n = ctx->body_json.len;

    ctx->json = 1;

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_wsgate_deny_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t              *b;
    ngx_chain_t            *cl, out;
    ngx_http_wsgate_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_wsgate_module);

    if (ctx == NULL || !ctx->json || r != r->main) {
        return ngx_http_next_body_filter(r, in);
    }

    /* nginx's page is dropped; the JSON goes out once */

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }

    if (ctx->body_json.data == NULL) {
        return NGX_OK;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = ctx->body_json.data;
    b->last = ctx->body_json.data + ctx->body_json.len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    ngx_str_null(&ctx->body_json);

    out.buf = b;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}
