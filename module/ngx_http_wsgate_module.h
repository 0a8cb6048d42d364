
/*
 * Copyright (C) wsgate authors
 */


#ifndef _NGX_HTTP_WSGATE_MODULE_H_INCLUDED_
#define _NGX_HTTP_WSGATE_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_wsgate_redis.h"
#include "ngx_http_wsgate_token.h"
#include "ngx_http_wsgate_uuid.h"


/* $wsgate_auth_result */
#define NGX_HTTP_WSGATE_AUTH_NONE         0
#define NGX_HTTP_WSGATE_AUTH_OK           1
#define NGX_HTTP_WSGATE_AUTH_MISSING      2
#define NGX_HTTP_WSGATE_AUTH_INVALID      3
#define NGX_HTTP_WSGATE_AUTH_MISMATCH     4
#define NGX_HTTP_WSGATE_AUTH_UNAVAILABLE  5

/* $wsgate_token_kind */
#define NGX_HTTP_WSGATE_KIND_NONE         0
#define NGX_HTTP_WSGATE_KIND_WORKSPACE    1
#define NGX_HTTP_WSGATE_KIND_SYSTEM       2


/* $wsgate_caller_kind */
#define NGX_HTTP_WSGATE_CALLER_NONE       0
#define NGX_HTTP_WSGATE_CALLER_WORKSPACE  1
#define NGX_HTTP_WSGATE_CALLER_SYSTEM     2

/* $wsgate_registration_state */
#define NGX_HTTP_WSGATE_STATE_NONE        0
#define NGX_HTTP_WSGATE_STATE_ONLINE      1
#define NGX_HTTP_WSGATE_STATE_RESTARTING  2
#define NGX_HTTP_WSGATE_STATE_DEGRADED    3


typedef struct {
    ngx_str_t                       name;
    u_char                          uuid[NGX_HTTP_WSGATE_UUID_LEN];
} ngx_http_wsgate_system_caller_t;


typedef struct {
    ngx_http_wsgate_redis_conf_t   *redis;
    ngx_str_t                       key_prefix;

    ngx_msec_t                      wedge_window;
    ngx_msec_t                      restart_grace;

    /* NULL-terminated, for ngx_http_wsgate_has_prefix() */
    const char                    **system_prefixes;
    ngx_uint_t                      nsystem_prefixes;

    u_char                          system_namespace[16];
    ngx_flag_t                      system_namespace_set;
    ngx_array_t                    *system_callers;

    /* per worker, made in init_process */
    ngx_http_wsgate_redis_t        *client;

    ngx_flag_t                      used;
} ngx_http_wsgate_main_conf_t;


typedef struct {
    ngx_flag_t                      auth;
    ngx_http_complex_value_t       *bind;
    ngx_flag_t                      reg;
    ngx_http_complex_value_t       *restart;
    ngx_flag_t                      a2a;
    ngx_flag_t                      a2a_validate;
    ngx_flag_t                      allow_private_urls;
    ngx_http_complex_value_t       *status;
} ngx_http_wsgate_loc_conf_t;


typedef struct {
    ngx_uint_t                      auth_result;
    ngx_uint_t                      kind;

    ngx_str_t                       workspace;     /* token's workspace */
    ngx_str_t                       name;          /* system token's name */
    u_char                          prefix[NGX_HTTP_WSGATE_PREFIX_LEN];
    size_t                          prefix_len;

    /* the pending Redis lookup; NULL when none */
    ngx_http_wsgate_redis_op_t     *op;
    ngx_http_request_t             *request;

    /* the request body, contiguous, once read (register, A2A checks) */
    ngx_str_t                       body;

    /* A2A */
    ngx_uint_t                      caller_kind;
    ngx_str_t                       caller_id;      /* after rewriting */
    ngx_str_t                       caller_name;    /* as claimed */

    /* registration */
    ngx_uint_t                      state;
    ngx_str_t                       register_error; /* "field: reason" */
    ngx_str_t                       register_ws;
    ngx_msec_t                      restart_at;     /* 0: window closed */
    ngx_msec_t                      restart_ttl;

    ngx_uint_t                      phase;          /* of the checks */

    unsigned                        waiting:1;
    unsigned                        body_read:1;
    unsigned                        body_done:1;
    unsigned                        recorded:1;
} ngx_http_wsgate_ctx_t;


extern ngx_module_t  ngx_http_wsgate_module;


ngx_int_t ngx_http_wsgate_auth_init(ngx_conf_t *cf);
ngx_int_t ngx_http_wsgate_auth_handler(ngx_http_request_t *r);

/* answers 401 or 503 per ctx->auth_result; NGX_DONE for a phase handler */
ngx_int_t ngx_http_wsgate_auth_deny(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);

/*
 * Checks that run in the access phase after the token was accepted.  Each
 * is called again whenever the phase is re-entered and returns NGX_OK
 * (pass), NGX_AGAIN or NGX_DONE (waiting; it resumes the phases itself),
 * or an answer it has already sent (NGX_DONE after finalizing).
 */
ngx_int_t ngx_http_wsgate_a2a_access(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);
ngx_int_t ngx_http_wsgate_register_access(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);

ngx_int_t ngx_http_wsgate_register_init(ngx_conf_t *cf);
char *ngx_http_wsgate_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* the request's wsgate context, made on first use; NULL: no memory */
ngx_http_wsgate_ctx_t *ngx_http_wsgate_get_ctx(ngx_http_request_t *r);

/* "online", "restarting", "degraded" (empty for none) */
ngx_str_t *ngx_http_wsgate_state_name(ngx_uint_t state);

/*
 * Reads the whole request body into ctx->body (from memory buffers or the
 * temporary file), leaving r->request_body intact for proxy_pass.  Returns
 * NGX_OK when ctx->body is ready, NGX_DONE while reading (the phases
 * resume when it is done), or an HTTP status.
 */
ngx_int_t ngx_http_wsgate_read_body(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);

/* the access phase waits for op (NGX_AGAIN); resumed by _resume() */
ngx_int_t ngx_http_wsgate_wait(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, ngx_http_wsgate_redis_op_t *op);
void ngx_http_wsgate_resume(ngx_http_request_t *r);

/* sends a JSON answer; returns what ngx_http_output_filter() returned */
ngx_int_t ngx_http_wsgate_send_json(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *body);

/* sends a JSON answer and finalizes; returns NGX_DONE for a phase handler */
ngx_int_t ngx_http_wsgate_answer(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body);

/* a JSON string literal of s, quotes included, in r->pool */
ngx_int_t ngx_http_wsgate_json_string(ngx_pool_t *pool, ngx_str_t *s,
    ngx_str_t *out);

/* sets (or replaces) a request header line for the backend */
ngx_int_t ngx_http_wsgate_set_header(ngx_http_request_t *r, ngx_str_t *key,
    ngx_str_t *value);

/* removes every request header line of those names */
ngx_int_t ngx_http_wsgate_remove_headers(ngx_http_request_t *r,
    ngx_str_t *names, ngx_uint_t n);

/* the line's name is name in any case, "_" standing for "-" */
ngx_uint_t ngx_http_wsgate_header_is(ngx_table_elt_t *h, ngx_str_t *name);

/* how many request header lines of that name (as header_is() matches) */
ngx_uint_t ngx_http_wsgate_count_header(ngx_http_request_t *r,
    ngx_str_t *key, ngx_table_elt_t **first);


#endif /* _NGX_HTTP_WSGATE_MODULE_H_INCLUDED_ */
