
/*
 * Copyright (C) wsgate authors
 */


#ifndef _NGX_HTTP_WSGATE_METRICS_H_INCLUDED_
#define _NGX_HTTP_WSGATE_METRICS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * The counters, summed over all workers in one shared memory zone.  The
 * order of each group follows the values it counts: auth results
 * (NGX_HTTP_WSGATE_AUTH_*), cache answers (NGX_HTTP_WSGATE_CACHE_*) and
 * the Redis client's failures (ngx_http_wsgate_redis_status_e).
 */

typedef enum {
    NGX_HTTP_WSGATE_M_AUTH_OK = 0,
    NGX_HTTP_WSGATE_M_AUTH_MISSING,
    NGX_HTTP_WSGATE_M_AUTH_INVALID,
    NGX_HTTP_WSGATE_M_AUTH_MISMATCH,
    NGX_HTTP_WSGATE_M_AUTH_UNAVAILABLE,

    NGX_HTTP_WSGATE_M_CACHE_HIT,
    NGX_HTTP_WSGATE_M_CACHE_MISS,
    NGX_HTTP_WSGATE_M_CACHE_BYPASS,
    NGX_HTTP_WSGATE_M_CACHE_STALE,

    NGX_HTTP_WSGATE_M_REDIS_COMMANDS,
    NGX_HTTP_WSGATE_M_REDIS_DOWN,
    NGX_HTTP_WSGATE_M_REDIS_TIMEOUT,
    NGX_HTTP_WSGATE_M_REDIS_BUSY,
    NGX_HTTP_WSGATE_M_REDIS_LOADING,
    NGX_HTTP_WSGATE_M_REDIS_REPLY_ERROR,
    NGX_HTTP_WSGATE_M_REDIS_RECONNECTS,

    NGX_HTTP_WSGATE_M_REGFAIL_GATEWAY,
    NGX_HTTP_WSGATE_M_REGFAIL_BACKEND,
    NGX_HTTP_WSGATE_M_RECOVERIES,

    NGX_HTTP_WSGATE_M_A2A_REWRITES,
    NGX_HTTP_WSGATE_M_A2A_FORGED,

    NGX_HTTP_WSGATE_M_COUNTERS
} ngx_http_wsgate_counter_e;


/* the zone, made when wsgate is configured; NULL: no memory */
ngx_shm_zone_t *ngx_http_wsgate_metrics_init_conf(ngx_conf_t *cf);

/* a worker takes its slot (wsgate_redis_up) and starts counting */
void ngx_http_wsgate_metrics_init_process(ngx_cycle_t *cycle,
    ngx_shm_zone_t *zone);
void ngx_http_wsgate_metrics_exit_process(void);

void ngx_http_wsgate_metrics_count(ngx_http_wsgate_counter_e counter);

/* a Redis reply came, usec microseconds after its command was queued */
void ngx_http_wsgate_metrics_latency(uint64_t usec);

/* this worker's request connection to Redis is ready, or not */
void ngx_http_wsgate_metrics_redis_up(ngx_uint_t up);

/* a monotonic clock in microseconds, for the latency histogram */
uint64_t ngx_http_wsgate_metrics_usec(void);

/* the wsgate_metrics directive */
char *ngx_http_wsgate_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_WSGATE_METRICS_H_INCLUDED_ */
