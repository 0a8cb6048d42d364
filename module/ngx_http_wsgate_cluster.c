
/*
 * Copyright (C) wsgate authors
 *
 * Redis Cluster: one Redis client connection (ngx_http_wsgate_redis_t)
 * per master, opened on first use, and a slot map read with CLUSTER SLOTS
 * from whichever master answers.  A command goes to the master of its
 * key's slot; its reply is looked at before the caller hears it:
 *
 *   MOVED <slot> <ip:port>   the slot is there now: the map learns it, the
 *                            command goes there, a full read of the map
 *                            follows (at most four a second)
 *   ASK <slot> <ip:port>     this key only, this once: ASKING and the
 *                            command, pipelined, on that node
 *   TRYAGAIN                 a multi-key command during a migration: sent
 *                            again after a short pause
 *   CLUSTERDOWN              no reply, as when Redis is down
 *
 * A command carries its own copy of its arguments, so it can be sent again
 * after its request is gone; a cancelled one is dropped when its reply or
 * its retry comes.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_wsgate_cluster.h"
#include "ngx_http_wsgate_metrics.h"
#include "ngx_http_wsgate_slot.h"


#define NGX_HTTP_WSGATE_CLUSTER_NODES      64
#define NGX_HTTP_WSGATE_CLUSTER_ARGS       16
#define NGX_HTTP_WSGATE_CLUSTER_REDIRECTS  5
#define NGX_HTTP_WSGATE_CLUSTER_TRIES      20     /* TRYAGAIN, each ... */
#define NGX_HTTP_WSGATE_CLUSTER_PAUSE      25     /* ... after 25 ms */
#define NGX_HTTP_WSGATE_CLUSTER_REFRESH    250    /* ms between map reads */
#define NGX_HTTP_WSGATE_CLUSTER_NO_SLOT    NGX_HTTP_WSGATE_SLOTS


typedef struct {
    ngx_http_wsgate_cluster_t      *cluster;
    ngx_addr_t                      addr;
    ngx_http_wsgate_redis_conf_t    conf;
    ngx_http_wsgate_redis_t        *rd;
    void                           *watched;   /* the watcher's */
    ngx_uint_t                      serves;    /* slots, by the map */
    u_char                          text[NGX_SOCKADDR_STRLEN];
} ngx_http_wsgate_cluster_node_t;


struct ngx_http_wsgate_cluster_s {
    ngx_http_wsgate_redis_conf_t   *conf;
    ngx_cycle_t                    *cycle;
    ngx_log_t                      *log;

    ngx_http_wsgate_cluster_node_t  nodes[NGX_HTTP_WSGATE_CLUSTER_NODES];
    ngx_uint_t                      nnodes;

    /* the node of each slot, plus one; 0: not known */
    u_char                          slots[NGX_HTTP_WSGATE_SLOTS];

    ngx_http_wsgate_cluster_watch_pt  watch;
    ngx_http_wsgate_redis_event_pt    watch_event;
    void                             *watch_data;

    ngx_event_t                     refresh;
    ngx_msec_t                      last;       /* the last map read */
    ngx_uint_t                      next;       /* the node asked next */

    unsigned                        reading:1;  /* CLUSTER SLOTS sent */
    unsigned                        again:1;    /* read again after it */
    unsigned                        mapped:1;   /* a map was read */
    unsigned                        destroyed:1;
};


struct ngx_http_wsgate_cluster_op_s {
    ngx_http_wsgate_cluster_t        *cluster;
    ngx_http_wsgate_redis_handler_pt  handler;  /* NULL: cancelled */
    void                             *data;

    ngx_http_wsgate_redis_op_t       *op;       /* sent, waiting */
    ngx_event_t                       retry;    /* TRYAGAIN */

    ngx_uint_t                        slot;
    ngx_uint_t                        redirects;
    ngx_uint_t                        tries;

    ngx_uint_t                        argc;
    ngx_str_t                         argv[NGX_HTTP_WSGATE_CLUSTER_ARGS];
};


static ngx_int_t ngx_http_wsgate_cluster_dispatch(
    ngx_http_wsgate_cluster_op_t *cop, ngx_uint_t n, ngx_uint_t asking,
    ngx_http_wsgate_redis_status_e *status);
static void ngx_http_wsgate_cluster_reply(void *data,
    ngx_http_wsgate_reply_t *reply, ngx_http_wsgate_redis_status_e status);
static ngx_int_t ngx_http_wsgate_cluster_redirect(
    ngx_http_wsgate_cluster_op_t *cop, ngx_str_t *err);
static void ngx_http_wsgate_cluster_deliver(ngx_http_wsgate_cluster_op_t *cop,
    ngx_http_wsgate_reply_t *reply, ngx_http_wsgate_redis_status_e status);
static void ngx_http_wsgate_cluster_retry_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_wsgate_cluster_node(ngx_http_wsgate_cluster_t *cl,
    u_char *text, size_t len);
static ngx_http_wsgate_redis_t *ngx_http_wsgate_cluster_connection(
    ngx_http_wsgate_cluster_t *cl, ngx_uint_t n);
static ngx_int_t ngx_http_wsgate_cluster_event(void *data,
    ngx_http_wsgate_redis_t *rd, ngx_http_wsgate_redis_event_e event);
static void ngx_http_wsgate_cluster_refresh(ngx_http_wsgate_cluster_t *cl);
static void ngx_http_wsgate_cluster_refresh_handler(ngx_event_t *ev);
static void ngx_http_wsgate_cluster_slots_reply(void *data,
    ngx_http_wsgate_reply_t *reply, ngx_http_wsgate_redis_status_e status);
static ngx_int_t ngx_http_wsgate_cluster_map(ngx_http_wsgate_cluster_t *cl,
    ngx_http_wsgate_reply_t *reply, ngx_uint_t apply);
static void ngx_http_wsgate_cluster_gauge(ngx_http_wsgate_cluster_t *cl);
static void ngx_http_wsgate_cluster_watch_node(ngx_http_wsgate_cluster_t *cl,
    ngx_http_wsgate_cluster_node_t *node);


ngx_http_wsgate_cluster_t *
ngx_http_wsgate_cluster_create(ngx_cycle_t *cycle,
    ngx_http_wsgate_redis_conf_t *conf)
{
    ngx_uint_t                       i;
    ngx_addr_t                      *seed;
    ngx_http_wsgate_cluster_t       *cl;
    ngx_http_wsgate_cluster_node_t  *node;

    cl = ngx_pcalloc(cycle->pool, sizeof(ngx_http_wsgate_cluster_t));
    if (cl == NULL) {
        return NULL;
    }

    cl->conf = conf;
    cl->cycle = cycle;
    cl->log = cycle->log;

    seed = conf->seeds->elts;

    for (i = 0; i < conf->seeds->nelts
                && i < NGX_HTTP_WSGATE_CLUSTER_NODES; i++)
    {
        node = &cl->nodes[i];

        node->cluster = cl;
        node->addr = seed[i];
        node->conf = *conf;
        node->conf.addr = &node->addr;
        node->conf.name = seed[i].name;

        ngx_memcpy(node->text, seed[i].name.data,
                   ngx_min(seed[i].name.len, NGX_SOCKADDR_STRLEN));
    }

    cl->nnodes = i;

    cl->refresh.handler = ngx_http_wsgate_cluster_refresh_handler;
    cl->refresh.data = cl;
    cl->refresh.log = cl->log;
    cl->refresh.cancelable = 1;

    /* the first seed is asked for the map at once */

    if (ngx_http_wsgate_cluster_connection(cl, 0) == NULL) {
        return NULL;
    }

    ngx_http_wsgate_cluster_refresh(cl);

    return cl;
}


void
ngx_http_wsgate_cluster_destroy(ngx_http_wsgate_cluster_t *cl)
{
    ngx_uint_t  i;

    cl->destroyed = 1;

    if (cl->refresh.timer_set) {
        ngx_del_timer(&cl->refresh);
    }

    for (i = 0; i < cl->nnodes; i++) {
        if (cl->nodes[i].rd) {
            ngx_http_wsgate_redis_destroy(cl->nodes[i].rd);
            cl->nodes[i].rd = NULL;
        }
    }
}


ngx_http_wsgate_cluster_op_t *
ngx_http_wsgate_cluster_send(ngx_http_wsgate_cluster_t *cl, ngx_uint_t argc,
    ngx_str_t *argv, ngx_http_wsgate_redis_handler_pt handler, void *data,
    ngx_http_wsgate_redis_status_e *status)
{
    u_char                        *p;
    size_t                         len;
    ngx_str_t                     *key;
    ngx_uint_t                     i, n;
    ngx_http_wsgate_cluster_op_t  *cop;

    *status = NGX_HTTP_WSGATE_REDIS_BUSY;

    if (argc > NGX_HTTP_WSGATE_CLUSTER_ARGS) {
        return NULL;
    }

    len = sizeof(ngx_http_wsgate_cluster_op_t);

    for (i = 0; i < argc; i++) {
        len += argv[i].len;
    }

    cop = ngx_alloc(len, cl->log);
    if (cop == NULL) {
        return NULL;
    }

    ngx_memzero(cop, sizeof(ngx_http_wsgate_cluster_op_t));

    cop->cluster = cl;
    cop->handler = handler;
    cop->data = data;
    cop->argc = argc;

    p = (u_char *) (cop + 1);

    for (i = 0; i < argc; i++) {
        cop->argv[i].data = p;
        cop->argv[i].len = argv[i].len;
        p = ngx_cpymem(p, argv[i].data, argv[i].len);
    }

    cop->retry.handler = ngx_http_wsgate_cluster_retry_handler;
    cop->retry.data = cop;
    cop->retry.log = cl->log;

    /* the key: an EVAL's first one, or the first argument */

    key = NULL;

    if (argc > 3
        && argv[0].len == 4 && ngx_strncasecmp(argv[0].data,
                                               (u_char *) "EVAL", 4) == 0)
    {
        if (argv[2].len != 1 || argv[2].data[0] != '0') {
            key = &argv[3];
        }

    } else if (argc > 1) {
        key = &argv[1];
    }

    cop->slot = key ? ngx_http_wsgate_slot(key->data, key->len)
                    : NGX_HTTP_WSGATE_CLUSTER_NO_SLOT;

    n = (cop->slot < NGX_HTTP_WSGATE_SLOTS && cl->slots[cop->slot])
        ? (ngx_uint_t) cl->slots[cop->slot] - 1 : 0;

    if (ngx_http_wsgate_cluster_dispatch(cop, n, 0, status) != NGX_OK) {
        ngx_free(cop);
        return NULL;
    }

    return cop;
}


void
ngx_http_wsgate_cluster_cancel(ngx_http_wsgate_cluster_op_t *cop)
{
    cop->handler = NULL;

    if (cop->op) {
        /* its reply frees it */
        return;
    }

    /* waiting for a retry */

    if (cop->retry.timer_set) {
        ngx_del_timer(&cop->retry);
    }

    ngx_free(cop);
}


void
ngx_http_wsgate_cluster_push(ngx_http_wsgate_cluster_t *cl)
{
    ngx_uint_t  i;

    for (i = 0; i < cl->nnodes; i++) {
        if (cl->nodes[i].rd) {
            ngx_http_wsgate_redis_push(cl->nodes[i].rd);
        }
    }
}


void
ngx_http_wsgate_cluster_watch(ngx_http_wsgate_cluster_t *cl,
    ngx_http_wsgate_cluster_watch_pt watch,
    ngx_http_wsgate_redis_event_pt event, void *data)
{
    ngx_uint_t  i;

    cl->watch = watch;
    cl->watch_event = event;
    cl->watch_data = data;

    for (i = 0; i < cl->nnodes; i++) {
        if (cl->nodes[i].rd) {
            ngx_http_wsgate_cluster_watch_node(cl, &cl->nodes[i]);
        }
    }
}


ngx_uint_t
ngx_http_wsgate_cluster_serves(void *node)
{
    return ((ngx_http_wsgate_cluster_node_t *) node)->serves;
}


ngx_uint_t
ngx_http_wsgate_cluster_mapped(void *node)
{
    return ((ngx_http_wsgate_cluster_node_t *) node)->cluster->mapped;
}


static void
ngx_http_wsgate_cluster_watch_node(ngx_http_wsgate_cluster_t *cl,
    ngx_http_wsgate_cluster_node_t *node)
{
    node->watched = cl->watch(cl->watch_data, node->rd, &node->conf, node);

    if (node->watched && ngx_http_wsgate_redis_is_up(node->rd)) {
        (void) cl->watch_event(node->watched, node->rd,
                               NGX_HTTP_WSGATE_REDIS_READY);
    }
}


static ngx_int_t
ngx_http_wsgate_cluster_dispatch(ngx_http_wsgate_cluster_op_t *cop,
    ngx_uint_t n, ngx_uint_t asking, ngx_http_wsgate_redis_status_e *status)
{
    ngx_str_t                 ask;
    ngx_http_wsgate_redis_t  *rd;

    rd = ngx_http_wsgate_cluster_connection(cop->cluster, n);
    if (rd == NULL) {
        *status = NGX_HTTP_WSGATE_REDIS_BUSY;
        return NGX_ERROR;
    }

    if (asking) {
        ngx_str_set(&ask, "ASKING");

        if (ngx_http_wsgate_redis_send(rd, 1, &ask, NULL, NULL, status)
            == NULL)
        {
            return NGX_ERROR;
        }
    }

    cop->op = ngx_http_wsgate_redis_send(rd, cop->argc, cop->argv,
                                         ngx_http_wsgate_cluster_reply, cop,
                                         status);
    if (cop->op == NULL) {
        ngx_http_wsgate_cluster_refresh(cop->cluster);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_wsgate_cluster_reply(void *data, ngx_http_wsgate_reply_t *reply,
    ngx_http_wsgate_redis_status_e status)
{
    ngx_http_wsgate_cluster_op_t *cop = data;

    ngx_str_t  *err;

    cop->op = NULL;

    if (cop->handler == NULL) {
        ngx_free(cop);
        return;
    }

    if (reply == NULL) {
        /* the node is down or slow: the map may have changed */
        ngx_http_wsgate_cluster_refresh(cop->cluster);
        ngx_http_wsgate_cluster_deliver(cop, NULL, status);
        return;
    }

    if (reply->type != NGX_HTTP_WSGATE_REPLY_ERROR) {
        ngx_http_wsgate_cluster_deliver(cop, reply, status);
        return;
    }

    err = &reply->str;

    if ((err->len > 6 && ngx_strncmp(err->data, "MOVED ", 6) == 0)
        || (err->len > 4 && ngx_strncmp(err->data, "ASK ", 4) == 0))
    {
        if (ngx_http_wsgate_cluster_redirect(cop, err) != NGX_OK) {
            ngx_http_wsgate_cluster_deliver(cop, NULL,
                                            NGX_HTTP_WSGATE_REDIS_DOWN);
        }

        return;
    }

    if (err->len >= 8 && ngx_strncmp(err->data, "TRYAGAIN", 8) == 0
        && cop->tries++ < NGX_HTTP_WSGATE_CLUSTER_TRIES)
    {
        ngx_add_timer(&cop->retry, NGX_HTTP_WSGATE_CLUSTER_PAUSE);
        return;
    }

    if ((err->len >= 11 && ngx_strncmp(err->data, "CLUSTERDOWN", 11) == 0)
        || (err->len >= 8 && ngx_strncmp(err->data, "TRYAGAIN", 8) == 0))
    {
        ngx_log_error(NGX_LOG_ERR, cop->cluster->log, 0,
                      "wsgate redis cluster: \"%V\"", err);

        ngx_http_wsgate_cluster_refresh(cop->cluster);
        ngx_http_wsgate_cluster_deliver(cop, NULL,
                                        NGX_HTTP_WSGATE_REDIS_DOWN);
        return;
    }

    ngx_http_wsgate_cluster_deliver(cop, reply, status);
}


/* "MOVED 3999 127.0.0.1:6381", "ASK 3999 127.0.0.1:6381" */

static ngx_int_t
ngx_http_wsgate_cluster_redirect(ngx_http_wsgate_cluster_op_t *cop,
    ngx_str_t *err)
{
    u_char                          *p, *last, *addr;
    ngx_int_t                        slot, n;
    ngx_uint_t                       moved;
    ngx_http_wsgate_cluster_t       *cl;
    ngx_http_wsgate_redis_status_e   status;

    cl = cop->cluster;

    moved = (err->data[0] == 'M');

    p = err->data + (moved ? 6 : 4);
    last = err->data + err->len;

    addr = ngx_strlchr(p, last, ' ');
    if (addr == NULL) {
        goto invalid;
    }

    slot = ngx_atoi(p, addr - p);
    addr++;

    if (slot == NGX_ERROR || slot >= NGX_HTTP_WSGATE_SLOTS || addr == last) {
        goto invalid;
    }

    if (cop->redirects++ >= NGX_HTTP_WSGATE_CLUSTER_REDIRECTS) {
        ngx_log_error(NGX_LOG_ERR, cl->log, 0,
                      "wsgate redis cluster: slot %i: more than %d "
                      "redirections", slot,
                      NGX_HTTP_WSGATE_CLUSTER_REDIRECTS);
        return NGX_ERROR;
    }

    n = ngx_http_wsgate_cluster_node(cl, addr, last - addr);
    if (n == NGX_ERROR) {
        goto invalid;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_EVENT, cl->log, 0,
                   "wsgate redis cluster: %s slot %i to %s",
                   moved ? "moved" : "ask", slot, cl->nodes[n].text);

    if (moved) {
        cl->slots[slot] = (u_char) (n + 1);
        cl->nodes[n].serves = 1;
        ngx_http_wsgate_cluster_refresh(cl);
    }

    return ngx_http_wsgate_cluster_dispatch(cop, n, !moved, &status);

invalid:

    ngx_log_error(NGX_LOG_ERR, cl->log, 0,
                  "wsgate redis cluster: unusable redirection \"%V\"", err);
    ngx_http_wsgate_cluster_refresh(cl);

    return NGX_ERROR;
}


static void
ngx_http_wsgate_cluster_deliver(ngx_http_wsgate_cluster_op_t *cop,
    ngx_http_wsgate_reply_t *reply, ngx_http_wsgate_redis_status_e status)
{
    cop->handler(cop->data, reply, status);
    ngx_free(cop);
}


static void
ngx_http_wsgate_cluster_retry_handler(ngx_event_t *ev)
{
    ngx_http_wsgate_cluster_op_t *cop = ev->data;

    ngx_uint_t                       n;
    ngx_http_wsgate_cluster_t       *cl;
    ngx_http_wsgate_redis_status_e   status;

    cl = cop->cluster;

    if (cop->handler == NULL) {
        ngx_free(cop);
        return;
    }

    n = (cop->slot < NGX_HTTP_WSGATE_SLOTS && cl->slots[cop->slot])
        ? (ngx_uint_t) cl->slots[cop->slot] - 1 : 0;

    /*
     * A fresh start: during a migration the old owner answers ASK again,
     * and the new one TRYAGAIN until the keys are all there.  The tries
     * bound it.
     */

    cop->redirects = 0;

    if (ngx_exiting || ngx_terminate
        || ngx_http_wsgate_cluster_dispatch(cop, n, 0, &status) != NGX_OK)
    {
        ngx_http_wsgate_cluster_deliver(cop, NULL,
                                        NGX_HTTP_WSGATE_REDIS_DOWN);
    }
}


/* the node of "ip:port", known or new; NGX_ERROR if there is none */

static ngx_int_t
ngx_http_wsgate_cluster_node(ngx_http_wsgate_cluster_t *cl, u_char *text,
    size_t len)
{
    ngx_uint_t                       i;
    ngx_http_wsgate_cluster_node_t  *node;

    for (i = 0; i < cl->nnodes; i++) {
        node = &cl->nodes[i];

        if (node->conf.name.len == len
            && ngx_strncmp(node->conf.name.data, text, len) == 0)
        {
            return i;
        }
    }

    if (cl->nnodes == NGX_HTTP_WSGATE_CLUSTER_NODES
        || len >= NGX_SOCKADDR_STRLEN)
    {
        ngx_log_error(NGX_LOG_ERR, cl->log, 0,
                      "wsgate redis cluster: no room for node \"%*s\"",
                      len, text);
        return NGX_ERROR;
    }

    node = &cl->nodes[cl->nnodes];

    /* an address, never a name: no DNS in a worker */

    if (ngx_parse_addr_port(cl->cycle->pool, &node->addr, text, len)
        != NGX_OK
        || ngx_inet_get_port(node->addr.sockaddr) == 0)
    {
        ngx_log_error(NGX_LOG_ERR, cl->log, 0,
                      "wsgate redis cluster: \"%*s\" is not an address "
                      "and port", len, text);
        return NGX_ERROR;
    }

    ngx_memcpy(node->text, text, len);

    node->cluster = cl;
    node->addr.name.data = node->text;
    node->addr.name.len = len;
    node->conf = *cl->conf;
    node->conf.addr = &node->addr;
    node->conf.name = node->addr.name;

    return cl->nnodes++;
}


static ngx_http_wsgate_redis_t *
ngx_http_wsgate_cluster_connection(ngx_http_wsgate_cluster_t *cl,
    ngx_uint_t n)
{
    ngx_http_wsgate_cluster_node_t  *node;

    node = &cl->nodes[n];

    if (node->rd == NULL) {
        node->rd = ngx_http_wsgate_redis_create(cl->cycle, &node->conf,
                                                "wsgate");
        if (node->rd == NULL) {
            return NULL;
        }

        ngx_http_wsgate_redis_set_owner(node->rd,
                                        ngx_http_wsgate_cluster_event, NULL,
                                        node);

        if (cl->watch) {
            ngx_http_wsgate_cluster_watch_node(cl, node);
        }
    }

    return node->rd;
}


static ngx_int_t
ngx_http_wsgate_cluster_event(void *data, ngx_http_wsgate_redis_t *rd,
    ngx_http_wsgate_redis_event_e event)
{
    ngx_http_wsgate_cluster_node_t *node = data;

    ngx_int_t                   rc;
    ngx_http_wsgate_cluster_t  *cl;

    cl = node->cluster;

    if (event != NGX_HTTP_WSGATE_REDIS_CLOSING) {

        if (event == NGX_HTTP_WSGATE_REDIS_LOST || !cl->mapped) {
            ngx_http_wsgate_cluster_refresh(cl);
        }

        ngx_http_wsgate_cluster_gauge(cl);
    }

    rc = NGX_OK;

    if (node->watched) {
        rc = cl->watch_event(node->watched, rd, event);
    }

    return (event == NGX_HTTP_WSGATE_REDIS_CLOSING) ? rc : NGX_OK;
}


/* reads the map again, at once or a quarter second after the last read */

static void
ngx_http_wsgate_cluster_refresh(ngx_http_wsgate_cluster_t *cl)
{
    ngx_msec_int_t  delay;

    if (cl->destroyed) {
        return;
    }

    if (cl->reading) {
        cl->again = 1;
        return;
    }

    if (cl->refresh.timer_set) {
        return;
    }

    delay = cl->last ? (ngx_msec_int_t) (cl->last
                                         + NGX_HTTP_WSGATE_CLUSTER_REFRESH
                                         - ngx_current_msec)
                     : 0;

    if (delay <= 0) {
        delay = 1;
    }

    ngx_add_timer(&cl->refresh, (ngx_msec_t) delay);
}


static void
ngx_http_wsgate_cluster_refresh_handler(ngx_event_t *ev)
{
    ngx_http_wsgate_cluster_t *cl = ev->data;

    ngx_str_t                        argv[2];
    ngx_uint_t                       i, n;
    ngx_http_wsgate_redis_t         *rd;
    ngx_http_wsgate_redis_status_e   status;

    if (ngx_exiting || ngx_terminate) {
        return;
    }

    cl->last = ngx_current_msec;

    /* a node that is up, else the next one in turn */

    n = cl->next % cl->nnodes;

    for (i = 0; i < cl->nnodes; i++) {
        rd = cl->nodes[(cl->next + i) % cl->nnodes].rd;

        if (rd && ngx_http_wsgate_redis_is_up(rd)) {
            n = (cl->next + i) % cl->nnodes;
            break;
        }
    }

    cl->next = n + 1;

    rd = ngx_http_wsgate_cluster_connection(cl, n);
    if (rd == NULL) {
        ngx_http_wsgate_cluster_refresh(cl);
        return;
    }

    ngx_str_set(&argv[0], "CLUSTER");
    ngx_str_set(&argv[1], "SLOTS");

    if (ngx_http_wsgate_redis_send(rd, 2, argv,
                                   ngx_http_wsgate_cluster_slots_reply, cl,
                                   &status)
        == NULL)
    {
        ngx_http_wsgate_cluster_refresh(cl);
        return;
    }

    cl->reading = 1;
}


static void
ngx_http_wsgate_cluster_slots_reply(void *data,
    ngx_http_wsgate_reply_t *reply, ngx_http_wsgate_redis_status_e status)
{
    ngx_http_wsgate_cluster_t *cl = data;

    ngx_uint_t  i;

    cl->reading = 0;

    if (cl->destroyed) {
        return;
    }

    if (reply == NULL || reply->type != NGX_HTTP_WSGATE_REPLY_ARRAY
        || ngx_http_wsgate_cluster_map(cl, reply, 0) != NGX_OK)
    {
        if (reply && reply->type == NGX_HTTP_WSGATE_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, cl->log, 0,
                          "wsgate redis cluster: CLUSTER SLOTS: \"%V\"",
                          &reply->str);
        }

        ngx_http_wsgate_cluster_refresh(cl);
        return;
    }

    (void) ngx_http_wsgate_cluster_map(cl, reply, 1);

    cl->mapped = 1;

    ngx_http_wsgate_cluster_gauge(cl);

    /*
     * With a watcher (the token cache), every master is connected to at
     * once: the cache is trusted only once it hears from all of them.
     */

    if (cl->watch) {
        for (i = 0; i < cl->nnodes; i++) {
            if (cl->nodes[i].serves) {
                (void) ngx_http_wsgate_cluster_connection(cl, i);
            }
        }
    }

    if (cl->again) {
        cl->again = 0;
        ngx_http_wsgate_cluster_refresh(cl);
    }
}


/*
 * CLUSTER SLOTS: [[start, end, [ip, port, id, ...], replicas...], ...].
 * Checked first (apply 0), then written: a map is taken whole or not at
 * all.  Slots no entry names are not known until a MOVED says.
 */

static ngx_int_t
ngx_http_wsgate_cluster_map(ngx_http_wsgate_cluster_t *cl,
    ngx_http_wsgate_reply_t *reply, ngx_uint_t apply)
{
    u_char                    text[NGX_SOCKADDR_STRLEN];
    size_t                    len;
    int64_t                   start, end;
    ngx_int_t                 n;
    ngx_uint_t                i;
    ngx_http_wsgate_reply_t  *e, *m;

    if (apply) {
        ngx_memzero(cl->slots, sizeof(cl->slots));
    }

    for (i = 0; i < reply->nelts; i++) {
        e = reply->elts[i];

        if (e->type != NGX_HTTP_WSGATE_REPLY_ARRAY || e->nelts < 3
            || e->elts[0]->type != NGX_HTTP_WSGATE_REPLY_INTEGER
            || e->elts[1]->type != NGX_HTTP_WSGATE_REPLY_INTEGER
            || e->elts[2]->type != NGX_HTTP_WSGATE_REPLY_ARRAY)
        {
            return NGX_ERROR;
        }

        start = e->elts[0]->integer;
        end = e->elts[1]->integer;
        m = e->elts[2];

        if (start < 0 || end < start || end >= NGX_HTTP_WSGATE_SLOTS
            || m->nelts < 2
            || m->elts[0]->type != NGX_HTTP_WSGATE_REPLY_STRING
            || m->elts[1]->type != NGX_HTTP_WSGATE_REPLY_INTEGER
            || m->elts[0]->str.len == 0
            || m->elts[0]->str.len > NGX_SOCKADDR_STRLEN - 16)
        {
            return NGX_ERROR;
        }

        if (!apply) {
            continue;
        }

        /* IPv6 addresses in brackets, as nginx writes them */

        if (ngx_strlchr(m->elts[0]->str.data,
                        m->elts[0]->str.data + m->elts[0]->str.len, ':'))
        {
            len = ngx_sprintf(text, "[%V]:%L", &m->elts[0]->str,
                              m->elts[1]->integer) - text;

        } else {
            len = ngx_sprintf(text, "%V:%L", &m->elts[0]->str,
                              m->elts[1]->integer) - text;
        }

        n = ngx_http_wsgate_cluster_node(cl, text, len);
        if (n == NGX_ERROR) {
            continue;
        }

        ngx_memset(&cl->slots[start], (u_char) (n + 1), end - start + 1);
    }

    return NGX_OK;
}


/*
 * wsgate_redis_up: the map is known and every connection this worker
 * opened to a master that serves slots is ready (they open on first use)
 */

static void
ngx_http_wsgate_cluster_gauge(ngx_http_wsgate_cluster_t *cl)
{
    ngx_uint_t  i, up;
    u_char      serves[NGX_HTTP_WSGATE_CLUSTER_NODES];

    ngx_memzero(serves, sizeof(serves));

    for (i = 0; i < NGX_HTTP_WSGATE_SLOTS; i++) {
        if (cl->slots[i]) {
            serves[cl->slots[i] - 1] = 1;
        }
    }

    up = cl->mapped;

    for (i = 0; i < cl->nnodes; i++) {
        cl->nodes[i].serves = serves[i];

        if (serves[i] && cl->nodes[i].rd
            && !ngx_http_wsgate_redis_is_up(cl->nodes[i].rd))
        {
            up = 0;
        }
    }

    ngx_http_wsgate_metrics_redis_up(up);
}
