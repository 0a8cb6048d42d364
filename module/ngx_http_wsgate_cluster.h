
/*
 * Copyright (C) wsgate authors
 */


#ifndef _NGX_HTTP_WSGATE_CLUSTER_H_INCLUDED_
#define _NGX_HTTP_WSGATE_CLUSTER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_wsgate_redis.h"


typedef struct ngx_http_wsgate_cluster_s     ngx_http_wsgate_cluster_t;
typedef struct ngx_http_wsgate_cluster_op_s  ngx_http_wsgate_cluster_op_t;


/* a worker's view of the cluster; conf->seeds are where it starts */
ngx_http_wsgate_cluster_t *ngx_http_wsgate_cluster_create(ngx_cycle_t *cycle,
    ngx_http_wsgate_redis_conf_t *conf);
void ngx_http_wsgate_cluster_destroy(ngx_http_wsgate_cluster_t *cl);

/*
 * As ngx_http_wsgate_redis_send(), routed by the command's key (argv[1],
 * or an EVAL's first key) to the master that serves its slot; MOVED,
 * ASK and TRYAGAIN are followed before the handler hears anything, and
 * CLUSTERDOWN is "no reply" (NGX_HTTP_WSGATE_REDIS_DOWN).
 */
ngx_http_wsgate_cluster_op_t *ngx_http_wsgate_cluster_send(
    ngx_http_wsgate_cluster_t *cl, ngx_uint_t argc, ngx_str_t *argv,
    ngx_http_wsgate_redis_handler_pt handler, void *data,
    ngx_http_wsgate_redis_status_e *status);

void ngx_http_wsgate_cluster_cancel(ngx_http_wsgate_cluster_op_t *cop);

/* ngx_http_wsgate_redis_push() on every master's connection */
void ngx_http_wsgate_cluster_push(ngx_http_wsgate_cluster_t *cl);

/*
 * A watcher of the masters' connections (the token cache): watch() is
 * called for every connection the cluster opens, now and later, with the
 * node; what it returns gets the connection's events through event(),
 * whose answer to CLOSING counts.
 */
typedef void *(*ngx_http_wsgate_cluster_watch_pt)(void *data,
    ngx_http_wsgate_redis_t *rd, ngx_http_wsgate_redis_conf_t *conf,
    void *node);

void ngx_http_wsgate_cluster_watch(ngx_http_wsgate_cluster_t *cl,
    ngx_http_wsgate_cluster_watch_pt watch,
    ngx_http_wsgate_redis_event_pt event, void *data);

/* the node serves slots by the map as last read (or told by MOVED) */
ngx_uint_t ngx_http_wsgate_cluster_serves(void *node);

/* the node's cluster has read a slot map */
ngx_uint_t ngx_http_wsgate_cluster_mapped(void *node);


#endif /* _NGX_HTTP_WSGATE_CLUSTER_H_INCLUDED_ */
