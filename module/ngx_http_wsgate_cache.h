
/*
 * Copyright (C) wsgate authors
 *
 * The token cache: one shared-memory zone for all workers, keyed by the
 * token's digest, kept true by Redis itself (server-assisted client-side
 * caching): every change to a token key evicts that digest.
 */


#ifndef _NGX_HTTP_WSGATE_CACHE_H_INCLUDED_
#define _NGX_HTTP_WSGATE_CACHE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_wsgate_redis.h"
#include "ngx_http_wsgate_cluster.h"


#define NGX_HTTP_WSGATE_CACHE_DIGEST_LEN  32

/* $wsgate_cache_status */
#define NGX_HTTP_WSGATE_CACHE_NONE        0
#define NGX_HTTP_WSGATE_CACHE_HIT         1
#define NGX_HTTP_WSGATE_CACHE_MISS        2
#define NGX_HTTP_WSGATE_CACHE_BYPASS      3
#define NGX_HTTP_WSGATE_CACHE_STALE       4


typedef struct ngx_http_wsgate_cache_s  ngx_http_wsgate_cache_t;


/*
 * What a lookup that went to Redis must show when the answer comes, for
 * the answer to be cached: no invalidation and no lost subscriber since.
 */
typedef struct {
    uint64_t                        era;
    uint64_t                        gen;
    unsigned                        valid:1;
} ngx_http_wsgate_cache_ticket_t;


/* a cached identity: kind 0 is a token Redis does not know */
typedef struct {
    ngx_uint_t                      kind;
    ngx_str_t                       id;
} ngx_http_wsgate_cache_value_t;


/* the wsgate_cache directive (http context) */
char *ngx_http_wsgate_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/*
 * per worker: the subscriber, tracking on the lookup connection (lookup),
 * or on each of a cluster's masters as it is connected to (cluster)
 */
ngx_int_t ngx_http_wsgate_cache_init_process(ngx_http_wsgate_cache_t *cache,
    ngx_cycle_t *cycle, ngx_http_wsgate_redis_conf_t *rcf,
    ngx_http_wsgate_redis_t *lookup, ngx_http_wsgate_cluster_t *cluster,
    ngx_str_t *key_prefix);
void ngx_http_wsgate_cache_exit_process(ngx_http_wsgate_cache_t *cache);

/*
 * A fresh entry: NGX_OK, its value copied into pool.  Otherwise
 * NGX_DECLINED, and the ticket says whether the answer may be cached
 * (not while this worker could miss invalidations); NGX_ERROR: no memory.
 */
ngx_int_t ngx_http_wsgate_cache_get(ngx_http_wsgate_cache_t *cache,
    u_char *digest, ngx_pool_t *pool, ngx_http_wsgate_cache_value_t *value,
    ngx_http_wsgate_cache_ticket_t *ticket);

/* Redis's answer; pttl is the key's (-1: none; -2: no key) */
void ngx_http_wsgate_cache_put(ngx_http_wsgate_cache_t *cache,
    u_char *digest, ngx_http_wsgate_cache_ticket_t *ticket,
    ngx_http_wsgate_cache_value_t *value, int64_t pttl);

/* Redis gave no answer: an identity seen valid within stale_if_error */
ngx_int_t ngx_http_wsgate_cache_stale(ngx_http_wsgate_cache_t *cache,
    u_char *digest, ngx_pool_t *pool, ngx_http_wsgate_cache_value_t *value);


#endif /* _NGX_HTTP_WSGATE_CACHE_H_INCLUDED_ */
