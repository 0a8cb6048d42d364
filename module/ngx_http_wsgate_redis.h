
/*
 * Copyright (C) wsgate authors
 *
 * A per-worker Redis client on an nginx-owned socket.  nginx connects,
 * reads, writes and (optionally) speaks TLS; a RESP codec formats
 * commands and decodes replies into ngx_http_wsgate_reply_t values.  The
 * client knows nothing about tokens or requests: an operation is a
 * command plus a handler that receives the decoded reply.
 */


#ifndef _NGX_HTTP_WSGATE_REDIS_H_INCLUDED_
#define _NGX_HTTP_WSGATE_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>
#include <openssl/x509v3.h>

#include "ngx_http_wsgate_reply.h"


#define NGX_HTTP_WSGATE_REDIS_MAX_ARGS  16


typedef struct ngx_http_wsgate_redis_s     ngx_http_wsgate_redis_t;
typedef struct ngx_http_wsgate_redis_op_s  ngx_http_wsgate_redis_op_t;


/* why an operation got no reply */
typedef enum {
    NGX_HTTP_WSGATE_REDIS_OK = 0,
    NGX_HTTP_WSGATE_REDIS_DOWN,       /* not connected, or connection lost */
    NGX_HTTP_WSGATE_REDIS_TIMEOUT,    /* a deadline passed */
    NGX_HTTP_WSGATE_REDIS_BUSY,       /* too much queued */
    NGX_HTTP_WSGATE_REDIS_LOADING     /* -LOADING: the server is not ready */
} ngx_http_wsgate_redis_status_e;


/*
 * Called once per operation: with the reply (status OK; an -ERR reply is
 * a reply too), or with reply == NULL and the reason.  The reply is freed
 * when the handler returns; the operation too.
 */
typedef void (*ngx_http_wsgate_redis_handler_pt)(void *data,
    ngx_http_wsgate_reply_t *reply, ngx_http_wsgate_redis_status_e status);


/* what happened to a connection, told to its owner */
typedef enum {
    NGX_HTTP_WSGATE_REDIS_READY = 0,  /* set up: commands flow */
    NGX_HTTP_WSGATE_REDIS_LOST,       /* a ready connection is gone */
    NGX_HTTP_WSGATE_REDIS_CLOSING     /* a graceful shutdown closes idle
                                         connections: NGX_DECLINED keeps
                                         this one open (the owner closes
                                         it with the worker) */
} ngx_http_wsgate_redis_event_e;


typedef ngx_int_t (*ngx_http_wsgate_redis_event_pt)(void *data,
    ngx_http_wsgate_redis_t *rd, ngx_http_wsgate_redis_event_e event);

/*
 * A subscriber's message, ["message", channel, payload], which no
 * operation waits for; freed when the handler returns.
 */
typedef void (*ngx_http_wsgate_redis_push_pt)(void *data,
    ngx_http_wsgate_reply_t *msg);


/* what the configuration fixes; lives in cf->pool */
typedef struct {
    ngx_addr_t                      *addr;
    ngx_str_t                        name;        /* "host:port" for logs */
    ngx_array_t                     *seeds;       /* of ngx_addr_t: a
                                                     cluster's, or NULL */
    ngx_int_t                        db;
    ngx_str_t                        user;
    ngx_str_t                        password;
    ngx_msec_t                       connect_timeout;
    ngx_msec_t                       timeout;
    ngx_flag_t                       tls;
    ngx_flag_t                       tls_verify;
    ngx_flag_t                       tls_sni;     /* tls_name is no IP */
    ngx_str_t                        tls_name;    /* NUL-terminated */
    ngx_str_t                        tls_ca;
    ngx_ssl_t                       *ssl;
} ngx_http_wsgate_redis_conf_t;


/* role names the connection in CLIENT LIST: "<role>-<pid>" */
ngx_http_wsgate_redis_t *ngx_http_wsgate_redis_create(ngx_cycle_t *cycle,
    ngx_http_wsgate_redis_conf_t *conf, const char *role);

/* the owner's hooks; set them before the event loop runs */
void ngx_http_wsgate_redis_set_owner(ngx_http_wsgate_redis_t *rd,
    ngx_http_wsgate_redis_event_pt event, ngx_http_wsgate_redis_push_pt push,
    void *data);
void ngx_http_wsgate_redis_destroy(ngx_http_wsgate_redis_t *rd);

/*
 * Queues a command.  Returns the operation, or NULL when it failed at
 * once (not connected, queue full, no memory): then the handler is not
 * called and *status says why.
 */
ngx_http_wsgate_redis_op_t *ngx_http_wsgate_redis_send(
    ngx_http_wsgate_redis_t *rd, ngx_uint_t argc, ngx_str_t *argv,
    ngx_http_wsgate_redis_handler_pt handler, void *data,
    ngx_http_wsgate_redis_status_e *status);

/*
 * What is queued is written now, not at the end of this event loop
 * iteration: for a write that a later request, maybe on another worker's
 * connection, must not overtake.  Errors are left to the write event.
 */
void ngx_http_wsgate_redis_push(ngx_http_wsgate_redis_t *rd);

/* The owner is gone: the reply, when it comes, is dropped. */
void ngx_http_wsgate_redis_cancel(ngx_http_wsgate_redis_op_t *op);

ngx_int_t ngx_http_wsgate_redis_is_up(ngx_http_wsgate_redis_t *rd);

/* this connection's readiness is the worker's wsgate_redis_up */
void ngx_http_wsgate_redis_set_gauge(ngx_http_wsgate_redis_t *rd);


#endif /* _NGX_HTTP_WSGATE_REDIS_H_INCLUDED_ */
