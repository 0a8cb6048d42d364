
/*
 * Copyright (C) wsgate authors
 */


#ifndef _NGX_HTTP_WSGATE_MODULE_H_INCLUDED_
#define _NGX_HTTP_WSGATE_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_wsgate_redis.h"
#include "ngx_http_wsgate_cluster.h"
#include "ngx_http_wsgate_cache.h"
#include "ngx_http_wsgate_metrics.h"
#include "ngx_http_wsgate_schema.h"
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

typedef struct {
    ngx_str_t                       name;
    u_char                          uuid[NGX_HTTP_WSGATE_UUID_LEN];
} ngx_http_wsgate_system_caller_t;


typedef struct {
    ngx_http_wsgate_redis_conf_t   *redis;
    ngx_str_t                       key_prefix;

    ngx_msec_t                      wedge_window;
    ngx_msec_t                      restart_grace;

    /* NULL-terminated, for ngx_http_wsgate_is_system_name() */
    const char                    **system_prefixes;
    ngx_uint_t                      nsystem_prefixes;

    u_char                          system_namespace[16];
    ngx_flag_t                      system_namespace_set;
    ngx_array_t                    *system_callers;

    ngx_http_wsgate_cache_t        *cache;

    ngx_shm_zone_t                 *metrics;
    ngx_flag_t                      metrics_used;  /* wsgate_metrics */

    /* per worker, made in init_process: one of them */
    ngx_http_wsgate_redis_t        *client;
    ngx_http_wsgate_cluster_t      *cluster;

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
    ngx_flag_t                      resolve_urls;
    ngx_flag_t                      hide_credentials;
    ngx_http_complex_value_t       *status;
} ngx_http_wsgate_loc_conf_t;


/*
 * The access-phase driver runs these steps in order; each feature step
 * answers NGX_OK (go on), NGX_AGAIN (ask Redis: ctx->query is filled in),
 * or an HTTP status to deny with (400, 401, 403, 503; ctx says why).
 */
typedef enum {
    NGX_HTTP_WSGATE_STEP_LOOKUP = 0,  /* the bearer token in Redis */
    NGX_HTTP_WSGATE_STEP_HEADERS,     /* before the body: restart window,
                                         A2A caller */
    NGX_HTTP_WSGATE_STEP_BODY,        /* read the body, when needed */
    NGX_HTTP_WSGATE_STEP_READING,     /* waiting for the body */
    NGX_HTTP_WSGATE_STEP_READ,        /* the body is in */
    NGX_HTTP_WSGATE_STEP_PAYLOAD,     /* register payload, A2A envelope */
    NGX_HTTP_WSGATE_STEP_PASS,
    NGX_HTTP_WSGATE_STEP_DENIED
} ngx_http_wsgate_step_e;


typedef struct ngx_http_wsgate_ctx_s  ngx_http_wsgate_ctx_t;

/*
 * A step's reply handler: the decoded reply, or NULL when Redis gave
 * none (down, timed out).  Answers as a step does, except NGX_AGAIN.
 */
typedef ngx_int_t (*ngx_http_wsgate_reply_pt)(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, ngx_http_wsgate_reply_t *reply);


/*
 * A step's resolver handler: the finished resolution (state, naddrs,
 * addrs), or NULL when no resolver could be asked.  Answers as above.
 */
typedef ngx_int_t (*ngx_http_wsgate_resolved_pt)(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, ngx_resolver_ctx_t *rctx);


#define NGX_HTTP_WSGATE_QUERY_ARGS  10

/* what a step asks for: a Redis command, or a host name resolved */
typedef struct {
    ngx_uint_t                      argc;
    ngx_str_t                       argv[NGX_HTTP_WSGATE_QUERY_ARGS];
    ngx_http_wsgate_reply_pt        handler;

    ngx_str_t                       name;
    ngx_http_wsgate_resolved_pt     resolved;
} ngx_http_wsgate_query_t;


/* "wsgate:token:" and the digest's 64 hex digits, with room to spare */
#define NGX_HTTP_WSGATE_TOKEN_KEY  96


/* the one per-request state (ngx_http_wsgate_get_ctx()) */

struct ngx_http_wsgate_ctx_s {
    ngx_http_request_t             *request;
    ngx_http_wsgate_step_e          step;

    /* what a step asks of Redis, and the operation while it is pending */
    ngx_http_wsgate_query_t         query;
    void                           *op;         /* ngx_http_wsgate_send() */
    ngx_resolver_ctx_t             *resolving;
    ngx_int_t                       verdict;        /* of the last reply */

    /* the denial: its status and, for 400 and 403, its JSON body */
    ngx_uint_t                      status;
    ngx_str_t                       body_json;

    /* the token */
    ngx_uint_t                      auth_result;
    ngx_uint_t                      kind;
    ngx_str_t                       workspace;     /* token's workspace */
    ngx_str_t                       name;          /* system token's name */
    u_char                          prefix[NGX_HTTP_WSGATE_PREFIX_LEN];
    size_t                          prefix_len;

    /* the token cache: the raw digest, what a miss must show to fill it */
    u_char                          digest[NGX_HTTP_WSGATE_CACHE_DIGEST_LEN];
    ngx_http_wsgate_cache_ticket_t  ticket;
    ngx_uint_t                      cache_status;

    /* the request body, contiguous, once read (register, A2A checks) */
    ngx_str_t                       body;

    /* A2A */
    ngx_uint_t                      caller_kind;
    ngx_str_t                       caller_id;      /* after rewriting */
    ngx_str_t                       caller_name;    /* as claimed */

    /* registration */
    ngx_uint_t                      state;
    ngx_str_t                       register_error; /* "field: reason" */
    ngx_str_t                       register_ws;    /* outcome to record */
    ngx_msec_t                      restart_at;     /* 0: window closed */

    unsigned                        recorded:1;
    unsigned                        json:1;         /* the filter's body */
    unsigned                        in_driver:1;
    unsigned                        content:1;      /* wsgate_status */
    unsigned                        counted:1;      /* wsgate_metrics */
    unsigned                        cleanup:1;      /* registered */

    /*
     * the token key, when it fits (a longer wsgate_key_prefix: r->pool);
     * last, and not zeroed by ngx_http_wsgate_get_ctx()
     */
    u_char                          token_key[NGX_HTTP_WSGATE_TOKEN_KEY];
};


extern ngx_module_t  ngx_http_wsgate_module;


/* the driver (ngx_http_wsgate_access.c) */

ngx_int_t ngx_http_wsgate_access_init(ngx_conf_t *cf);

/* the request's wsgate context, made on first use; NULL: no memory */
ngx_http_wsgate_ctx_t *ngx_http_wsgate_get_ctx(ngx_http_request_t *r);

/*
 * A content handler's Redis query (ctx->query): returns NGX_DONE while
 * waiting, or what the reply handler returned when Redis gave no reply
 * at once; the reply handler sends the answer and its return value
 * finalizes the request.
 */
ngx_int_t ngx_http_wsgate_content_query(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);


/* the steps */

ngx_int_t ngx_http_wsgate_auth_lookup(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);

ngx_int_t ngx_http_wsgate_register_window(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);
ngx_int_t ngx_http_wsgate_register_payload(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);

ngx_int_t ngx_http_wsgate_a2a_caller(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);
ngx_int_t ngx_http_wsgate_a2a_envelope(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);


/* the outcome recorder (ngx_http_wsgate_outcome.c) */

ngx_int_t ngx_http_wsgate_outcome_init(ngx_conf_t *cf);

/* records a register outcome of status once; never delays the answer */
void ngx_http_wsgate_outcome_register(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx, ngx_uint_t status);


/* wsgate_status (ngx_http_wsgate_status.c) */

char *ngx_http_wsgate_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);


/* request helpers (ngx_http_wsgate_http.c) */

/*
 * A command to the store, one Redis or a cluster (see
 * ngx_http_wsgate_redis_send()): the operation, to cancel it with
 * ngx_http_wsgate_cancel(), or NULL when it failed at once (*status).
 */
void *ngx_http_wsgate_send(ngx_http_wsgate_main_conf_t *wmcf, ngx_uint_t argc,
    ngx_str_t *argv, ngx_http_wsgate_redis_handler_pt handler, void *data,
    ngx_http_wsgate_redis_status_e *status);
void ngx_http_wsgate_cancel(ngx_http_wsgate_main_conf_t *wmcf, void *op);

/* the store's queued commands written at once (ngx_http_wsgate_redis_push) */
void ngx_http_wsgate_push(ngx_http_wsgate_main_conf_t *wmcf);

/* wall-clock milliseconds, as the records and the CLI write them */
ngx_msec_t ngx_http_wsgate_now_ms(void);

/* a millisecond timestamp from Redis; 0 when it is not one */
ngx_msec_t ngx_http_wsgate_atoms(ngx_str_t *s);

/* a Redis key of the data model for id, in r->pool */
ngx_int_t ngx_http_wsgate_make_key(ngx_http_request_t *r,
    ngx_http_wsgate_key_e kind, ngx_str_t *id, ngx_str_t *key);

/*
 * Client-controlled bytes for a log line, escaped as nginx's access log
 * escapes them: '"', '\\', control bytes and bytes above 0x7e as \xHH.
 * dst is src itself when nothing needs escaping.
 */
ngx_int_t ngx_http_wsgate_log_escape(ngx_pool_t *pool, ngx_str_t *src,
    ngx_str_t *dst);

/* sends a JSON answer; returns what ngx_http_output_filter() returned */
ngx_int_t ngx_http_wsgate_send_json(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *body);

/* a JSON string literal of s, quotes included, in pool */
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


#endif /* _NGX_HTTP_WSGATE_MODULE_H_INCLUDED_ */
