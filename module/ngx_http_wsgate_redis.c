
/*
 * Copyright (C) wsgate authors
 *
 * One pipelined Redis connection per worker.  nginx owns the socket
 * (ngx_event_connect_peer, nginx's OpenSSL layer) and writes the commands
 * (RESP, formatted in place); hiredis only parses replies (redisReader).
 *
 * Operations are kept in one FIFO, in the order their commands were
 * written; replies come back in that order.  A reply can't be cancelled on
 * a pipeline, so an owner that goes away only tombstones its operation.
 * When the oldest operation's deadline passes, or the connection fails,
 * every queued operation fails, the connection is closed, and a new one
 * is made, at once after losing a working connection, otherwise after a
 * jittered exponential backoff.  While backing off, new operations fail at
 * once: a request never waits for a Redis that is known to be down.
 *
 * An owner may hear of the connection (ready, lost, closing at a graceful
 * shutdown) and, on a subscriber connection, get the messages that no
 * operation waits for.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>

#include <hiredis/hiredis.h>

#include "ngx_http_wsgate_redis.h"
#include "ngx_http_wsgate_metrics.h"


#define NGX_HTTP_WSGATE_REDIS_BACKOFF_MIN   50
#define NGX_HTTP_WSGATE_REDIS_BACKOFF_MAX   500
#define NGX_HTTP_WSGATE_REDIS_MAX_OPS       16384
#define NGX_HTTP_WSGATE_REDIS_MAX_FREE      256
#define NGX_HTTP_WSGATE_REDIS_BUF           16384


typedef enum {
    NGX_HTTP_WSGATE_REDIS_CLOSED = 0,
    NGX_HTTP_WSGATE_REDIS_CONNECTING,     /* TCP connect or TLS handshake */
    NGX_HTTP_WSGATE_REDIS_CONNECTED,      /* commands flow */
    NGX_HTTP_WSGATE_REDIS_BACKOFF
} ngx_http_wsgate_redis_state_e;


struct ngx_http_wsgate_redis_op_s {
    ngx_queue_t                        queue;
    ngx_http_wsgate_redis_handler_pt   handler;
    void                              *data;
    ngx_msec_t                         deadline;
    uint64_t                           queued;    /* microseconds */
    unsigned                           setup:1;   /* AUTH ... PING */
    unsigned                           optional:1;  /* may answer -ERR */
    unsigned                           last_setup:1;
};


struct ngx_http_wsgate_redis_s {
    ngx_http_wsgate_redis_conf_t      *conf;

    ngx_peer_connection_t              peer;
    ngx_connection_t                  *connection;
    redisReader                       *reader;

    ngx_queue_t                        ops;
    ngx_queue_t                        free;
    ngx_uint_t                         nops;
    ngx_uint_t                         nfree;

    u_char                            *out;        /* unsent commands */
    size_t                             out_pos;
    size_t                             out_len;
    size_t                             out_size;

    u_char                            *buf;        /* for recv() */

    ngx_event_t                        retry;
    ngx_event_t                        deadline;
    ngx_msec_t                         backoff;

    ngx_log_t                          log;
    ngx_log_t                          quiet_log;  /* retries while down */

    const char                        *role;

    ngx_http_wsgate_redis_event_pt     event;
    ngx_http_wsgate_redis_push_pt      push;
    void                              *owner;

    u_char                             reason[256];
    u_char                             logged[256];  /* the last reason */

    ngx_http_wsgate_redis_state_e      state;

    unsigned                           ready:1;    /* setup answered */
    unsigned                           was_ready:1;
    unsigned                           gauge:1;    /* wsgate_redis_up */
    unsigned                           down_logged:1;
    unsigned                           destroyed:1;
};


static void ngx_http_wsgate_redis_connect(ngx_http_wsgate_redis_t *rd);
static void ngx_http_wsgate_redis_retry_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_wsgate_redis_test_connect(ngx_connection_t *c);
static void ngx_http_wsgate_redis_ssl_init(ngx_http_wsgate_redis_t *rd);
static void ngx_http_wsgate_redis_ssl_handshake(ngx_connection_t *c);
static ngx_int_t ngx_http_wsgate_redis_check_name(ngx_connection_t *c,
    ngx_http_wsgate_redis_conf_t *conf);
static void ngx_http_wsgate_redis_connected(ngx_http_wsgate_redis_t *rd);
static ngx_int_t ngx_http_wsgate_redis_queue_setup(
    ngx_http_wsgate_redis_t *rd);
static ngx_int_t ngx_http_wsgate_redis_format(ngx_http_wsgate_redis_t *rd,
    ngx_uint_t argc, ngx_str_t *argv);
static u_char *ngx_http_wsgate_redis_header(u_char *p, u_char type,
    size_t n);
static ngx_http_wsgate_redis_op_t *ngx_http_wsgate_redis_op_get(
    ngx_http_wsgate_redis_t *rd);
static void ngx_http_wsgate_redis_op_free(ngx_http_wsgate_redis_t *rd,
    ngx_http_wsgate_redis_op_t *op);
static void ngx_http_wsgate_redis_write_handler(ngx_event_t *wev);
static void ngx_http_wsgate_redis_read_handler(ngx_event_t *rev);
static ngx_int_t ngx_http_wsgate_redis_flush(ngx_http_wsgate_redis_t *rd);
static ngx_int_t ngx_http_wsgate_redis_process(ngx_http_wsgate_redis_t *rd);
static ngx_int_t ngx_http_wsgate_redis_setup_reply(
    ngx_http_wsgate_redis_t *rd, ngx_http_wsgate_redis_op_t *op,
    ngx_http_wsgate_reply_t *reply);
static void ngx_http_wsgate_redis_deadline_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_wsgate_redis_next_deadline(
    ngx_http_wsgate_redis_t *rd, ngx_msec_t *deadline);
static void ngx_http_wsgate_redis_arm(ngx_http_wsgate_redis_t *rd);
static void ngx_http_wsgate_redis_fail(ngx_http_wsgate_redis_t *rd,
    ngx_http_wsgate_redis_status_e status, ngx_err_t err, const char *reason);
static void ngx_http_wsgate_redis_lost(ngx_http_wsgate_redis_t *rd);
static void ngx_http_wsgate_redis_close(ngx_http_wsgate_redis_t *rd);
static void ngx_http_wsgate_redis_fail_ops(ngx_http_wsgate_redis_t *rd,
    ngx_http_wsgate_redis_status_e status);


ngx_http_wsgate_redis_t *
ngx_http_wsgate_redis_create(ngx_cycle_t *cycle,
    ngx_http_wsgate_redis_conf_t *conf, const char *role)
{
    ngx_http_wsgate_redis_t  *rd;

    rd = ngx_pcalloc(cycle->pool, sizeof(ngx_http_wsgate_redis_t));
    if (rd == NULL) {
        return NULL;
    }

    rd->buf = ngx_palloc(cycle->pool, NGX_HTTP_WSGATE_REDIS_BUF);
    if (rd->buf == NULL) {
        return NULL;
    }

    rd->conf = conf;
    rd->role = role;

    ngx_queue_init(&rd->ops);
    ngx_queue_init(&rd->free);

    rd->log = *cycle->log;
    rd->log.action = "talking to redis";
    rd->log.handler = NULL;
    rd->log.data = NULL;

    rd->quiet_log = rd->log;

    if (rd->quiet_log.log_level > NGX_LOG_CRIT) {
        rd->quiet_log.log_level = NGX_LOG_CRIT;
    }

    rd->retry.handler = ngx_http_wsgate_redis_retry_handler;
    rd->retry.data = rd;
    rd->retry.log = &rd->log;
    rd->retry.cancelable = 1;

    rd->deadline.handler = ngx_http_wsgate_redis_deadline_handler;
    rd->deadline.data = rd;
    rd->deadline.log = &rd->log;

    ngx_http_wsgate_redis_connect(rd);

    return rd;
}


void
ngx_http_wsgate_redis_destroy(ngx_http_wsgate_redis_t *rd)
{
    ngx_queue_t                 *q;
    ngx_http_wsgate_redis_op_t  *op;

    rd->destroyed = 1;

    if (rd->retry.timer_set) {
        ngx_del_timer(&rd->retry);
    }

    ngx_http_wsgate_redis_close(rd);

    /* owners are being torn down with the worker: no callbacks */

    while (!ngx_queue_empty(&rd->ops)) {
        q = ngx_queue_head(&rd->ops);
        ngx_queue_remove(q);
        ngx_free(ngx_queue_data(q, ngx_http_wsgate_redis_op_t, queue));
    }

    while (!ngx_queue_empty(&rd->free)) {
        q = ngx_queue_head(&rd->free);
        ngx_queue_remove(q);
        op = ngx_queue_data(q, ngx_http_wsgate_redis_op_t, queue);
        ngx_free(op);
    }

    if (rd->out) {
        ngx_free(rd->out);
        rd->out = NULL;
    }

    rd->nops = 0;
    rd->state = NGX_HTTP_WSGATE_REDIS_CLOSED;
}


void
ngx_http_wsgate_redis_set_owner(ngx_http_wsgate_redis_t *rd,
    ngx_http_wsgate_redis_event_pt event, ngx_http_wsgate_redis_push_pt push,
    void *data)
{
    rd->event = event;
    rd->push = push;
    rd->owner = data;
}


void
ngx_http_wsgate_redis_set_gauge(ngx_http_wsgate_redis_t *rd)
{
    rd->gauge = 1;

    ngx_http_wsgate_metrics_redis_up(rd->ready);
}


void
ngx_http_wsgate_redis_push(ngx_http_wsgate_redis_t *rd)
{
    ssize_t            n;
    ngx_connection_t  *c;

    if (rd->state != NGX_HTTP_WSGATE_REDIS_CONNECTED) {
        return;
    }

    c = rd->connection;

    while (rd->out_pos < rd->out_len) {

        n = c->send(c, rd->out + rd->out_pos, rd->out_len - rd->out_pos);

        if (n <= 0) {
            /* NGX_AGAIN, or an error the posted write event will meet */
            return;
        }

        rd->out_pos += n;
    }

    rd->out_pos = 0;
    rd->out_len = 0;
}


ngx_int_t
ngx_http_wsgate_redis_is_up(ngx_http_wsgate_redis_t *rd)
{
    return rd->state == NGX_HTTP_WSGATE_REDIS_CONNECTED && rd->ready;
}


ngx_http_wsgate_redis_op_t *
ngx_http_wsgate_redis_send(ngx_http_wsgate_redis_t *rd, ngx_uint_t argc,
    ngx_str_t *argv, ngx_http_wsgate_redis_handler_pt handler, void *data,
    ngx_http_wsgate_redis_status_e *status)
{
    ngx_connection_t            *c;
    ngx_http_wsgate_redis_op_t  *op;

    /*
     * A worker that is shutting down gracefully still finishes its
     * requests, and what they write (a register outcome) must not be
     * lost: it connects again if it has to.  The connect and the command
     * are bounded by their timers, which keep the worker until they end.
     */

    if (rd->state == NGX_HTTP_WSGATE_REDIS_CLOSED && !rd->destroyed
        && !ngx_terminate)
    {
        ngx_http_wsgate_redis_connect(rd);
    }

    if (rd->state != NGX_HTTP_WSGATE_REDIS_CONNECTING
        && rd->state != NGX_HTTP_WSGATE_REDIS_CONNECTED)
    {
        *status = NGX_HTTP_WSGATE_REDIS_DOWN;
        goto failed;
    }

    *status = NGX_HTTP_WSGATE_REDIS_BUSY;

    if (rd->nops >= NGX_HTTP_WSGATE_REDIS_MAX_OPS) {
        goto failed;
    }

    op = ngx_http_wsgate_redis_op_get(rd);
    if (op == NULL) {
        goto failed;
    }

    if (ngx_http_wsgate_redis_format(rd, argc, argv) != NGX_OK) {
        ngx_http_wsgate_redis_op_free(rd, op);
        goto failed;
    }

    op->handler = handler;
    op->data = data;
    op->deadline = ngx_current_msec + rd->conf->timeout;

    ngx_queue_insert_tail(&rd->ops, &op->queue);
    rd->nops++;

    ngx_http_wsgate_redis_arm(rd);

    c = rd->connection;
    c->idle = 0;

    /* one write per event loop iteration carries every queued command */

    if (rd->state == NGX_HTTP_WSGATE_REDIS_CONNECTED && !c->write->posted) {
        ngx_post_event(c->write, &ngx_posted_events);
    }

    *status = NGX_HTTP_WSGATE_REDIS_OK;

    return op;

failed:

    ngx_http_wsgate_metrics_count(NGX_HTTP_WSGATE_M_REDIS_DOWN + *status
                                  - NGX_HTTP_WSGATE_REDIS_DOWN);
    return NULL;
}


void
ngx_http_wsgate_redis_cancel(ngx_http_wsgate_redis_op_t *op)
{
    op->handler = NULL;
    op->data = NULL;
}


static void
ngx_http_wsgate_redis_connect(ngx_http_wsgate_redis_t *rd)
{
    ngx_int_t                      rc;
    ngx_connection_t              *c;
    ngx_http_wsgate_redis_conf_t  *conf;

    conf = rd->conf;

    ngx_memzero(&rd->peer, sizeof(ngx_peer_connection_t));

    rd->peer.sockaddr = conf->addr->sockaddr;
    rd->peer.socklen = conf->addr->socklen;
    rd->peer.name = &conf->name;
    rd->peer.get = ngx_event_get_peer;
    rd->peer.log = rd->down_logged ? &rd->quiet_log : &rd->log;
    rd->peer.log_error = NGX_ERROR_INFO;

    rd->state = NGX_HTTP_WSGATE_REDIS_CONNECTING;
    rd->ready = 0;
    rd->out_pos = 0;
    rd->out_len = 0;

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, &rd->log, 0,
                   "wsgate redis: connecting to %V", &conf->name);

    rc = ngx_event_connect_peer(&rd->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        rd->connection = NULL;
        ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_DOWN,
                                   ngx_socket_errno,
                                   "connect() failed");
        return;
    }

    c = rd->peer.connection;
    rd->connection = c;

    c->data = rd;
    c->log = &rd->log;
    c->read->log = &rd->log;
    c->write->log = &rd->log;
    c->read->handler = ngx_http_wsgate_redis_read_handler;
    c->write->handler = ngx_http_wsgate_redis_write_handler;

    c->pool = ngx_create_pool(128, &rd->log);
    if (c->pool == NULL) {
        ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_DOWN, 0,
                                   "out of memory");
        return;
    }

    rd->reader = ngx_http_wsgate_reply_reader();
    if (rd->reader == NULL) {
        ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_DOWN, 0,
                                   "redisReaderCreate() failed");
        return;
    }

    if (ngx_http_wsgate_redis_queue_setup(rd) != NGX_OK) {
        ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_DOWN, 0,
                                   "out of memory");
        return;
    }

    if (rc == NGX_AGAIN) {
        ngx_add_timer(c->write, conf->connect_timeout);
        return;
    }

    /* NGX_OK: connected at once (a unix socket) */

    if (conf->ssl) {
        ngx_add_timer(c->write, conf->connect_timeout);
        ngx_http_wsgate_redis_ssl_init(rd);
        return;
    }

    ngx_http_wsgate_redis_connected(rd);
}


static void
ngx_http_wsgate_redis_retry_handler(ngx_event_t *ev)
{
    ngx_http_wsgate_redis_t  *rd = ev->data;

    if (ngx_exiting || ngx_terminate || ngx_quit || rd->destroyed) {
        rd->state = NGX_HTTP_WSGATE_REDIS_CLOSED;
        return;
    }

    ngx_http_wsgate_redis_connect(rd);
}


static ngx_int_t
ngx_http_wsgate_redis_test_connect(ngx_connection_t *c)
{
    int        err;
    socklen_t  len;

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        ngx_set_socket_errno(err);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_wsgate_redis_ssl_init(ngx_http_wsgate_redis_t *rd)
{
    ngx_int_t                      rc;
    ngx_connection_t              *c;
    ngx_http_wsgate_redis_conf_t  *conf;

    c = rd->connection;
    conf = rd->conf;

    if (ngx_ssl_create_connection(conf->ssl, c,
                                  NGX_SSL_BUFFER|NGX_SSL_CLIENT)
        != NGX_OK)
    {
        ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_DOWN, 0,
                                   "SSL connection setup failed");
        return;
    }

    if (conf->tls_sni) {
        if (SSL_set_tlsext_host_name(c->ssl->connection,
                                     (char *) conf->tls_name.data)
            == 0)
        {
            ngx_ssl_error(NGX_LOG_ERR, c->log, 0,
                          "SSL_set_tlsext_host_name(\"%V\") failed",
                          &conf->tls_name);
            ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_DOWN, 0,
                                       "SSL connection setup failed");
            return;
        }
    }

    c->log->action = "SSL handshaking to redis";

    rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {
        c->ssl->handler = ngx_http_wsgate_redis_ssl_handshake;
        return;
    }

    ngx_http_wsgate_redis_ssl_handshake(c);
}


static void
ngx_http_wsgate_redis_ssl_handshake(ngx_connection_t *c)
{
    long                      rc;
    u_char                   *p;
    ngx_http_wsgate_redis_t  *rd;

    rd = c->data;

    c->log->action = "talking to redis";

    if (!c->ssl->handshaked) {
        ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_DOWN, 0,
                                   c->write->timedout
                                   ? "SSL handshake timed out"
                                   : "SSL handshake failed");
        return;
    }

    if (rd->conf->tls_verify) {
        rc = SSL_get_verify_result(c->ssl->connection);

        if (rc != X509_V_OK) {
            p = ngx_snprintf(rd->reason, sizeof(rd->reason) - 1,
                             "SSL certificate verify error: (%l:%s)",
                             rc, X509_verify_cert_error_string(rc));
            *p = '\0';

            ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_DOWN, 0,
                                       (char *) rd->reason);
            return;
        }

        if (ngx_http_wsgate_redis_check_name(c, rd->conf) != NGX_OK) {
            p = ngx_snprintf(rd->reason, sizeof(rd->reason) - 1,
                             "SSL certificate does not match \"%V\"",
                             &rd->conf->tls_name);
            *p = '\0';

            ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_DOWN, 0,
                                       (char *) rd->reason);
            return;
        }
    }

    c->read->handler = ngx_http_wsgate_redis_read_handler;
    c->write->handler = ngx_http_wsgate_redis_write_handler;

    ngx_http_wsgate_redis_connected(rd);
}


/*
 * ngx_ssl_check_host() matches DNS names only; a Redis addressed by IP
 * carries an IP subjectAltName, which X509_check_ip_asc() matches.
 */

static ngx_int_t
ngx_http_wsgate_redis_check_name(ngx_connection_t *c,
    ngx_http_wsgate_redis_conf_t *conf)
{
    X509       *cert;
    ngx_int_t   rc;

    if (conf->tls_sni) {
        return ngx_ssl_check_host(c, &conf->tls_name);
    }

    cert = SSL_get_peer_certificate(c->ssl->connection);
    if (cert == NULL) {
        return NGX_ERROR;
    }

    rc = (X509_check_ip_asc(cert, (char *) conf->tls_name.data, 0) == 1)
         ? NGX_OK : NGX_ERROR;

    X509_free(cert);

    return rc;
}


static void
ngx_http_wsgate_redis_connected(ngx_http_wsgate_redis_t *rd)
{
    ngx_connection_t  *c;

    c = rd->connection;

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    rd->state = NGX_HTTP_WSGATE_REDIS_CONNECTED;

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, c->log, 0,
                   "wsgate redis: connected to %V", &rd->conf->name);

    /* the setup commands and whatever queued meanwhile go out now */

    if (ngx_http_wsgate_redis_flush(rd) != NGX_OK) {
        return;
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_DOWN, 0,
                                   "ngx_handle_read_event() failed");
        return;
    }

    if (c->read->ready) {
        ngx_post_event(c->read, &ngx_posted_events);
    }
}


static ngx_int_t
ngx_http_wsgate_redis_queue_setup(ngx_http_wsgate_redis_t *rd)
{
    u_char                        *p;
    ngx_str_t                      argv[4];
    ngx_uint_t                     argc, n;
    ngx_http_wsgate_redis_op_t    *op, *last;
    ngx_http_wsgate_redis_conf_t  *conf;
    u_char                         db[NGX_INT_T_LEN];
    u_char                         name[64];

    conf = rd->conf;
    last = NULL;

    for (n = 0; n < 4; n++) {

        switch (n) {

        case 0:
            if (conf->password.len == 0) {
                continue;
            }

            ngx_str_set(&argv[0], "AUTH");
            argc = 1;

            if (conf->user.len) {
                argv[argc++] = conf->user;
            }

            argv[argc++] = conf->password;
            break;

        case 1:
            if (conf->db == 0) {
                continue;
            }

            ngx_str_set(&argv[0], "SELECT");
            argv[1].data = db;
            argv[1].len = ngx_sprintf(db, "%i", conf->db) - db;
            argc = 2;
            break;

        case 2:
            ngx_str_set(&argv[0], "CLIENT");
            ngx_str_set(&argv[1], "SETNAME");

            p = ngx_snprintf(name, sizeof(name), "%s-%P", rd->role, ngx_pid);

            argv[2].data = name;
            argv[2].len = p - name;
            argc = 3;
            break;

        default: /* 3 */

            /*
             * the readiness probe: while Redis loads its dataset, AUTH,
             * SELECT and SETNAME succeed but PING answers -LOADING
             */

            ngx_str_set(&argv[0], "PING");
            argc = 1;
            break;
        }

        op = ngx_http_wsgate_redis_op_get(rd);
        if (op == NULL) {
            return NGX_ERROR;
        }

        if (ngx_http_wsgate_redis_format(rd, argc, argv) != NGX_OK) {
            ngx_http_wsgate_redis_op_free(rd, op);
            return NGX_ERROR;
        }

        op->setup = 1;
        op->optional = (n == 2);
        op->deadline = ngx_current_msec + conf->connect_timeout
                       + conf->timeout;

        ngx_queue_insert_tail(&rd->ops, &op->queue);
        rd->nops++;

        last = op;
    }

    last->last_setup = 1;

    ngx_http_wsgate_redis_arm(rd);

    return NGX_OK;
}


/*
 * Appends one command to the output buffer in RESP, written in place:
 * redisFormatCommandArgv() would allocate a copy and build it with
 * sprintf(), which is most of a lookup's cost on the worker.
 */

static ngx_int_t
ngx_http_wsgate_redis_format(ngx_http_wsgate_redis_t *rd, ngx_uint_t argc,
    ngx_str_t *argv)
{
    u_char      *p, *out;
    size_t       len, size;
    ngx_uint_t   i;

    if (argc > NGX_HTTP_WSGATE_REDIS_MAX_ARGS) {
        return NGX_ERROR;
    }

    /* "*<argc>\r\n", then "$<len>\r\n<arg>\r\n" each: at most this */

    len = sizeof("*\r\n") - 1 + NGX_INT_T_LEN;

    for (i = 0; i < argc; i++) {
        len += sizeof("$\r\n\r\n") - 1 + NGX_SIZE_T_LEN + argv[i].len;
    }

    if (rd->out_len + len > rd->out_size) {

        if (rd->out_pos) {
            ngx_memmove(rd->out, rd->out + rd->out_pos,
                        rd->out_len - rd->out_pos);
            rd->out_len -= rd->out_pos;
            rd->out_pos = 0;
        }

        if (rd->out_len + len > rd->out_size) {
            size = ngx_max(rd->out_size * 2, rd->out_len + len);
            size = ngx_max(size, 4096);

            out = ngx_alloc(size, &rd->log);
            if (out == NULL) {
                return NGX_ERROR;
            }

            if (rd->out) {
                ngx_memcpy(out, rd->out, rd->out_len);
                ngx_free(rd->out);
            }

            rd->out = out;
            rd->out_size = size;
        }
    }

    p = ngx_http_wsgate_redis_header(rd->out + rd->out_len, '*', argc);

    for (i = 0; i < argc; i++) {
        p = ngx_http_wsgate_redis_header(p, '$', argv[i].len);
        p = ngx_cpymem(p, argv[i].data, argv[i].len);
        *p++ = CR;
        *p++ = LF;
    }

    rd->out_len = p - rd->out;

    ngx_http_wsgate_metrics_count(NGX_HTTP_WSGATE_M_REDIS_COMMANDS);

    return NGX_OK;
}


/* "*<n>\r\n" or "$<n>\r\n": ngx_sprintf() would cost more than the rest */

static u_char *
ngx_http_wsgate_redis_header(u_char *p, u_char type, size_t n)
{
    u_char  *last, buf[NGX_SIZE_T_LEN];

    last = buf + NGX_SIZE_T_LEN;

    do {
        *--last = (u_char) (n % 10 + '0');
        n /= 10;
    } while (n);

    *p++ = type;
    p = ngx_cpymem(p, last, buf + NGX_SIZE_T_LEN - last);
    *p++ = CR;
    *p++ = LF;

    return p;
}


static ngx_http_wsgate_redis_op_t *
ngx_http_wsgate_redis_op_get(ngx_http_wsgate_redis_t *rd)
{
    ngx_queue_t                 *q;
    ngx_http_wsgate_redis_op_t  *op;

    if (!ngx_queue_empty(&rd->free)) {
        q = ngx_queue_head(&rd->free);
        ngx_queue_remove(q);
        rd->nfree--;
        op = ngx_queue_data(q, ngx_http_wsgate_redis_op_t, queue);

    } else {
        op = ngx_alloc(sizeof(ngx_http_wsgate_redis_op_t), &rd->log);
        if (op == NULL) {
            return NULL;
        }
    }

    ngx_memzero(op, sizeof(ngx_http_wsgate_redis_op_t));

    op->queued = ngx_http_wsgate_metrics_usec();

    return op;
}


static void
ngx_http_wsgate_redis_op_free(ngx_http_wsgate_redis_t *rd,
    ngx_http_wsgate_redis_op_t *op)
{
    if (rd->nfree >= NGX_HTTP_WSGATE_REDIS_MAX_FREE) {
        ngx_free(op);
        return;
    }

    ngx_queue_insert_head(&rd->free, &op->queue);
    rd->nfree++;
}


static void
ngx_http_wsgate_redis_write_handler(ngx_event_t *wev)
{
    ngx_connection_t         *c;
    ngx_http_wsgate_redis_t  *rd;

    c = wev->data;
    rd = c->data;

    if (rd->state == NGX_HTTP_WSGATE_REDIS_CONNECTING) {

        if (wev->timedout) {
            ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_TIMEOUT, 0,
                                       "connect() timed out");
            return;
        }

        if (ngx_http_wsgate_redis_test_connect(c) != NGX_OK) {
            ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_DOWN,
                                   ngx_socket_errno,
                                       "connect() failed");
            return;
        }

        if (rd->conf->ssl) {
            ngx_http_wsgate_redis_ssl_init(rd);
            return;
        }

        ngx_http_wsgate_redis_connected(rd);
        return;
    }

    if (rd->state != NGX_HTTP_WSGATE_REDIS_CONNECTED) {
        return;
    }

    (void) ngx_http_wsgate_redis_flush(rd);
}


static ngx_int_t
ngx_http_wsgate_redis_flush(ngx_http_wsgate_redis_t *rd)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = rd->connection;

    while (rd->out_pos < rd->out_len) {

        n = c->send(c, rd->out + rd->out_pos, rd->out_len - rd->out_pos);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR || n == 0) {
            ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_DOWN, 0,
                                       "send() failed");
            return NGX_ERROR;
        }

        rd->out_pos += n;
    }

    if (rd->out_pos == rd->out_len) {
        rd->out_pos = 0;
        rd->out_len = 0;
    }

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_DOWN, 0,
                                   "ngx_handle_write_event() failed");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_wsgate_redis_read_handler(ngx_event_t *rev)
{
    ssize_t                   n;
    ngx_connection_t         *c;
    ngx_http_wsgate_redis_t  *rd;

    c = rev->data;
    rd = c->data;

    if (c->close) {

        /* a graceful shutdown closes idle connections */

        if (rd->event
            && rd->event(rd->owner, rd, NGX_HTTP_WSGATE_REDIS_CLOSING)
               == NGX_DECLINED)
        {
            c->close = 0;
            return;
        }

        ngx_http_wsgate_redis_lost(rd);
        rd->state = NGX_HTTP_WSGATE_REDIS_CLOSED;
        ngx_http_wsgate_redis_fail_ops(rd, NGX_HTTP_WSGATE_REDIS_DOWN);
        return;
    }

    if (rd->state == NGX_HTTP_WSGATE_REDIS_CONNECTING) {
        /* an early read event: a failed connect shows up here too */
        ngx_http_wsgate_redis_write_handler(c->write);
        return;
    }

    for ( ;; ) {

        n = c->recv(c, rd->buf, NGX_HTTP_WSGATE_REDIS_BUF);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0) {
            ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_DOWN, 0,
                                       "connection closed by redis");
            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_DOWN, 0,
                                       "recv() failed");
            return;
        }

        if (redisReaderFeed(rd->reader, (const char *) rd->buf, n)
            != REDIS_OK)
        {
            ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_DOWN, 0,
                                       "redisReaderFeed() failed");
            return;
        }

        if (ngx_http_wsgate_redis_process(rd) != NGX_OK) {
            return;
        }

        if (rd->connection != c) {
            /* failed and closed while handing out replies */
            return;
        }
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_DOWN, 0,
                                   "ngx_handle_read_event() failed");
    }
}


static ngx_int_t
ngx_http_wsgate_redis_process(ngx_http_wsgate_redis_t *rd)
{
    void                        *r;
    ngx_queue_t                 *q;
    ngx_http_wsgate_reply_t     *reply;
    ngx_http_wsgate_redis_op_t  *op;

    for ( ;; ) {

        r = NULL;

        if (redisReaderGetReply(rd->reader, &r) != REDIS_OK) {
            ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_DOWN, 0,
                                       "protocol error");
            return NGX_ERROR;
        }

        if (r == NULL) {
            return NGX_OK;
        }

        reply = r;

        if (rd->push && ngx_http_wsgate_reply_is_message(reply)) {
            rd->push(rd->owner, reply);
            ngx_http_wsgate_reply_free(reply);

            if (rd->state != NGX_HTTP_WSGATE_REDIS_CONNECTED) {
                return NGX_ERROR;
            }

            continue;
        }

        if (ngx_queue_empty(&rd->ops)) {
            ngx_http_wsgate_reply_free(reply);
            ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_DOWN, 0,
                                       "unexpected reply");
            return NGX_ERROR;
        }

        q = ngx_queue_head(&rd->ops);
        op = ngx_queue_data(q, ngx_http_wsgate_redis_op_t, queue);

        ngx_http_wsgate_metrics_latency(ngx_http_wsgate_metrics_usec()
                                        - op->queued);

        if (op->setup) {
            if (ngx_http_wsgate_redis_setup_reply(rd, op, reply) != NGX_OK) {
                ngx_http_wsgate_reply_free(reply);
                return NGX_ERROR;
            }

            ngx_queue_remove(q);
            rd->nops--;
            rd->connection->idle = ngx_queue_empty(&rd->ops);
            ngx_http_wsgate_redis_op_free(rd, op);
            ngx_http_wsgate_reply_free(reply);
            continue;
        }

        if (ngx_http_wsgate_reply_is_loading(reply)) {
            ngx_http_wsgate_reply_free(reply);
            ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_LOADING, 0,
                                       "redis is loading its dataset");
            return NGX_ERROR;
        }

        ngx_queue_remove(q);
        rd->nops--;

        rd->connection->idle = ngx_queue_empty(&rd->ops);

        ngx_http_wsgate_redis_arm(rd);

        if (reply->type == NGX_HTTP_WSGATE_REPLY_ERROR) {
            ngx_http_wsgate_metrics_count(
                                       NGX_HTTP_WSGATE_M_REDIS_REPLY_ERROR);
        }

        if (op->handler) {
            op->handler(op->data, reply, NGX_HTTP_WSGATE_REDIS_OK);
        }

        ngx_http_wsgate_redis_op_free(rd, op);
        ngx_http_wsgate_reply_free(reply);

        if (rd->state != NGX_HTTP_WSGATE_REDIS_CONNECTED) {
            return NGX_ERROR;
        }
    }
}


static ngx_int_t
ngx_http_wsgate_redis_setup_reply(ngx_http_wsgate_redis_t *rd,
    ngx_http_wsgate_redis_op_t *op, ngx_http_wsgate_reply_t *reply)
{
    u_char     *p;
    ngx_str_t   err;

    if (reply->type == NGX_HTTP_WSGATE_REPLY_ERROR) {
        err = reply->str;

        if (err.len >= 7 && ngx_strncmp(err.data, "LOADING", 7) == 0) {
            ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_LOADING, 0,
                                       "redis is loading its dataset");
            return NGX_ERROR;
        }

        if (!op->optional || err.len < 3
            || ngx_strncmp(err.data, "ERR", 3) != 0)
        {
            /* AUTH or SELECT refused */

            p = ngx_snprintf(rd->reason, sizeof(rd->reason) - 1,
                             "connection setup refused: \"%V\"", &err);
            *p = '\0';

            ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_DOWN, 0,
                                       (char *) rd->reason);
            return NGX_ERROR;
        }

        /* CLIENT SETNAME unsupported: harmless */
    }

    if (!op->last_setup) {
        return NGX_OK;
    }

    rd->ready = 1;
    rd->backoff = 0;

    if (rd->was_ready) {
        ngx_http_wsgate_metrics_count(NGX_HTTP_WSGATE_M_REDIS_RECONNECTS);
    }

    rd->was_ready = 1;

    if (rd->gauge) {
        ngx_http_wsgate_metrics_redis_up(1);
    }

    if (rd->down_logged) {
        ngx_log_error(NGX_LOG_NOTICE, &rd->log, 0,
                      "wsgate redis: %V is available again",
                      &rd->conf->name);
        rd->down_logged = 0;
        rd->logged[0] = '\0';
    }

    if (rd->event) {
        (void) rd->event(rd->owner, rd, NGX_HTTP_WSGATE_REDIS_READY);
    }

    return NGX_OK;
}


static void
ngx_http_wsgate_redis_deadline_handler(ngx_event_t *ev)
{
    ngx_msec_t                deadline;
    ngx_http_wsgate_redis_t  *rd;

    rd = ev->data;

    if (ngx_http_wsgate_redis_next_deadline(rd, &deadline) != NGX_OK) {
        return;
    }

    if ((ngx_msec_int_t) (deadline - ngx_current_msec) > 0) {
        ngx_http_wsgate_redis_arm(rd);
        return;
    }

    ngx_http_wsgate_redis_fail(rd, NGX_HTTP_WSGATE_REDIS_TIMEOUT, 0,
                               "redis timed out");
}


/*
 * The earliest deadline in the queue.  Commands share one timeout, so
 * along the queue deadlines only grow, except for the setup commands at
 * its head, which also cover the connect: the earliest is the first
 * setup command's or the first other command's.
 */

static ngx_int_t
ngx_http_wsgate_redis_next_deadline(ngx_http_wsgate_redis_t *rd,
    ngx_msec_t *deadline)
{
    ngx_uint_t                   found;
    ngx_queue_t                 *q;
    ngx_http_wsgate_redis_op_t  *op;

    found = 0;

    for (q = ngx_queue_head(&rd->ops);
         q != ngx_queue_sentinel(&rd->ops);
         q = ngx_queue_next(q))
    {
        op = ngx_queue_data(q, ngx_http_wsgate_redis_op_t, queue);

        if (!found
            || (ngx_msec_int_t) (op->deadline - *deadline) < 0)
        {
            *deadline = op->deadline;
            found = 1;
        }

        if (!op->setup) {
            break;
        }
    }

    return found ? NGX_OK : NGX_DECLINED;
}


static void
ngx_http_wsgate_redis_arm(ngx_http_wsgate_redis_t *rd)
{
    ngx_msec_t      deadline;
    ngx_msec_int_t  left;

    if (ngx_http_wsgate_redis_next_deadline(rd, &deadline) != NGX_OK) {
        if (rd->deadline.timer_set) {
            ngx_del_timer(&rd->deadline);
        }

        return;
    }

    if (rd->deadline.timer_set) {

        /* a timer that fires early just re-arms; keep the tree quiet */

        if ((ngx_msec_int_t) (rd->deadline.timer.key - deadline) <= 0) {
            return;
        }

        /* not ngx_add_timer()'s lazy update: it may fire 300 ms late */
        ngx_del_timer(&rd->deadline);
    }

    left = deadline - ngx_current_msec;

    ngx_add_timer(&rd->deadline, left > 0 ? (ngx_msec_t) left : 1);
}


/*
 * The connection is unusable: log the outage once, fail what is queued,
 * close, and plan the next attempt.
 */

static void
ngx_http_wsgate_redis_fail(ngx_http_wsgate_redis_t *rd,
    ngx_http_wsgate_redis_status_e status, ngx_err_t err, const char *reason)
{
    ngx_uint_t  was_ready;
    ngx_msec_t  delay;

    was_ready = rd->ready;

    /* once per outage, and again only when the reason changes */

    if (!rd->down_logged
        || ngx_strcmp(rd->logged, (u_char *) reason) != 0)
    {
        ngx_log_error(NGX_LOG_ERR, &rd->log, err,
                      "wsgate redis: %V unavailable: %s%s", &rd->conf->name,
                      reason, was_ready ? ", reconnecting" : "");
        rd->down_logged = 1;
        ngx_cpystrn(rd->logged, (u_char *) reason, sizeof(rd->logged));

    } else {
        ngx_log_debug2(NGX_LOG_DEBUG_EVENT, &rd->log, err,
                       "wsgate redis: %V still unavailable: %s",
                       &rd->conf->name, reason);
    }

    ngx_http_wsgate_redis_lost(rd);

    if (rd->destroyed || ngx_exiting || ngx_terminate || ngx_quit) {
        rd->state = NGX_HTTP_WSGATE_REDIS_CLOSED;
        ngx_http_wsgate_redis_fail_ops(rd, status);
        return;
    }

    if (was_ready && status != NGX_HTTP_WSGATE_REDIS_LOADING) {
        /* a working connection broke: try again at once */
        delay = 0;

    } else {
        if (rd->backoff == 0) {
            rd->backoff = NGX_HTTP_WSGATE_REDIS_BACKOFF_MIN;

        } else {
            rd->backoff = ngx_min(rd->backoff * 2,
                                  NGX_HTTP_WSGATE_REDIS_BACKOFF_MAX);
        }

        /* 75% to 125% of the backoff, so edges and workers spread out */
        delay = rd->backoff * 3 / 4 + ngx_random() % (rd->backoff / 2 + 1);
    }

    rd->state = NGX_HTTP_WSGATE_REDIS_BACKOFF;

    ngx_http_wsgate_redis_fail_ops(rd, status);

    if (rd->state != NGX_HTTP_WSGATE_REDIS_BACKOFF) {
        /* an owner's handler sent again and that started a connection */
        return;
    }

    if (delay == 0) {
        ngx_http_wsgate_redis_connect(rd);
        return;
    }

    ngx_add_timer(&rd->retry, delay);
}


/* closes the connection; its owner hears when a ready one is lost */

static void
ngx_http_wsgate_redis_lost(ngx_http_wsgate_redis_t *rd)
{
    ngx_uint_t  was_ready;

    was_ready = rd->ready;

    ngx_http_wsgate_redis_close(rd);

    if (was_ready && rd->event && !rd->destroyed) {
        (void) rd->event(rd->owner, rd, NGX_HTTP_WSGATE_REDIS_LOST);
    }
}


static void
ngx_http_wsgate_redis_close(ngx_http_wsgate_redis_t *rd)
{
    ngx_pool_t        *pool;
    ngx_connection_t  *c;

    if (rd->ready && rd->gauge) {
        ngx_http_wsgate_metrics_redis_up(0);
    }

    rd->ready = 0;
    rd->out_pos = 0;
    rd->out_len = 0;

    if (rd->reader) {
        redisReaderFree(rd->reader);
        rd->reader = NULL;
    }

    c = rd->connection;

    if (c == NULL) {
        return;
    }

    rd->connection = NULL;

#if (NGX_SSL)
    if (c->ssl) {
        c->ssl->no_wait_shutdown = 1;
        c->ssl->no_send_shutdown = 1;
        (void) ngx_ssl_shutdown(c);
    }
#endif

    pool = c->pool;

    ngx_close_connection(c);

    if (pool) {
        ngx_destroy_pool(pool);
    }
}


static void
ngx_http_wsgate_redis_fail_ops(ngx_http_wsgate_redis_t *rd,
    ngx_http_wsgate_redis_status_e status)
{
    ngx_queue_t                  *q, queue;
    ngx_http_wsgate_redis_op_t   *op;

    if (rd->deadline.timer_set) {
        ngx_del_timer(&rd->deadline);
    }

    /* handlers may queue new operations: take the old ones aside first */

    if (ngx_queue_empty(&rd->ops)) {
        return;
    }

    queue = rd->ops;
    queue.next->prev = &queue;
    queue.prev->next = &queue;

    ngx_queue_init(&rd->ops);
    rd->nops = 0;

    while (!ngx_queue_empty(&queue)) {
        q = ngx_queue_head(&queue);
        ngx_queue_remove(q);

        op = ngx_queue_data(q, ngx_http_wsgate_redis_op_t, queue);

        if (!op->setup) {
            ngx_http_wsgate_metrics_count(NGX_HTTP_WSGATE_M_REDIS_DOWN + status
                                          - NGX_HTTP_WSGATE_REDIS_DOWN);
        }

        if (op->handler) {
            op->handler(op->data, NULL, status);
        }

        ngx_http_wsgate_redis_op_free(rd, op);
    }
}
