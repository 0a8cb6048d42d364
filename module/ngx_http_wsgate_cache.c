
/*
 * Copyright (C) wsgate authors
 *
 * The token cache.  Entries live in one slab zone shared by all workers,
 * in a hash table keyed by the token's digest (already uniform: its first
 * bytes pick the bucket) and on an LRU queue; when the zone is full the
 * least recently used entries make room.  A hash table, not an rbtree as
 * limit_req keeps its nodes: a lookup is then one or two cache misses
 * instead of one per tree level, which with 10,000 tokens measured as
 * the largest cost of a cache hit.
 *
 * Entries are kept true by Redis (server-assisted client-side caching):
 * each worker has a second connection subscribed to __redis__:invalidate,
 * and its lookup connection runs CLIENT TRACKING ... REDIRECT <that
 * connection> BCAST PREFIX <prefix>token:, so every change to a token
 * key, by whoever, evicts that digest.  On a cluster a key's changes are
 * told by the master that holds it: each lookup connection to a master
 * gets its own subscriber on that master (a "listener").  A worker trusts
 * the cache only while all its listeners of masters that serve slots are
 * up and tracking ("healthy"); otherwise it asks Redis.
 *
 * What could have been missed is handled with eras: an entry is fresh
 * only in the era it was written in.  A worker that loses its
 * invalidations starts a new era (its lost messages may concern any
 * entry), and so does a worker that becomes healthy while no other worker
 * is: then nobody was listening.  Entries of an older era are still good
 * for stale_if_error, but not after a flush (FLUSHALL, FLUSHDB).  An
 * answer from Redis is cached only if no invalidation and no new era came
 * between the question and the answer for a key of its bucket: the
 * invalidation may be about it.
 *
 * Across a reload the old workers keep their subscription until a new
 * worker has one (at most a second), so the cache need not start over.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_wsgate_module.h"
#include "ngx_http_wsgate_cache.h"


#define NGX_HTTP_WSGATE_CACHE_SLOTS      64
#define NGX_HTTP_WSGATE_CACHE_ID_MAX     255
#define NGX_HTTP_WSGATE_CACHE_EVICT      16
#define NGX_HTTP_WSGATE_CACHE_HEARTBEAT  1000
#define NGX_HTTP_WSGATE_CACHE_HANDOVER   1000
#define NGX_HTTP_WSGATE_CACHE_TICK       20


/* 126 bytes with a workspace UUID: one 128-byte slab chunk */

typedef struct ngx_http_wsgate_cache_node_s  ngx_http_wsgate_cache_node_t;

struct ngx_http_wsgate_cache_node_s {
    ngx_http_wsgate_cache_node_t   *next;      /* in its bucket */
    ngx_queue_t                     queue;     /* LRU */
    uint64_t                        stamp;     /* sh->clock when queued */
    ngx_msec_t                      expires;
    ngx_msec_t                      seen;      /* last known valid */
    uint64_t                        era;
    u_char                          kind;      /* 0: unknown token */
    u_char                          len;
    u_char                          digest[NGX_HTTP_WSGATE_CACHE_DIGEST_LEN];
    u_char                          id[1];
};


/* a worker that listens for invalidations */
typedef struct {
    ngx_pid_t                       pid;
    ngx_uint_t                      generation;
    ngx_uint_t                      healthy;
} ngx_http_wsgate_cache_slot_t;


/*
 * A bucket: its chain and its count of invalidations side by side, so
 * that a lookup reads both in one cache line.
 */
typedef struct {
    ngx_http_wsgate_cache_node_t   *chain;
    uint32_t                        gen;
} ngx_http_wsgate_cache_bucket_t;


typedef struct {
    ngx_http_wsgate_cache_bucket_t *buckets;
    uint32_t                        mask;
    ngx_queue_t                     lru;
    uint64_t                        clock;     /* entries queued */
    ngx_uint_t                      count;
    uint64_t                        era;
    uint64_t                        hard_era;  /* older: flushed */
    ngx_uint_t                      generation;  /* configuration loads */
    ngx_http_wsgate_cache_slot_t    slots[NGX_HTTP_WSGATE_CACHE_SLOTS];
} ngx_http_wsgate_cache_sh_t;


#define NGX_HTTP_WSGATE_CACHE_LISTENERS  64


typedef struct ngx_http_wsgate_cache_worker_s
    ngx_http_wsgate_cache_worker_t;


/* a lookup connection and the subscriber its invalidations go to */
typedef struct {
    ngx_http_wsgate_cache_worker_t *worker;
    ngx_http_wsgate_redis_t        *sub;
    ngx_http_wsgate_redis_t        *lookup;
    void                           *node;      /* a cluster's, or NULL */
    ngx_str_t                       name;      /* Redis, for logs */
    int64_t                         sub_id;    /* CLIENT ID; -1: unknown */
    int64_t                         tracking_id;  /* the last REDIRECT */
    ngx_uint_t                      tracks;    /* TRACKING pending */

    unsigned                        subscribing:1;
    unsigned                        subscribed:1;
    unsigned                        tracking:1;
    unsigned                        pinging:1;
    unsigned                        refused_logged:1;
} ngx_http_wsgate_cache_listener_t;


struct ngx_http_wsgate_cache_worker_s {
    ngx_http_wsgate_cache_t        *cache;
    ngx_cycle_t                    *cycle;
    ngx_str_t                       prefix;    /* "<prefix>token:" */
    ngx_http_wsgate_cache_slot_t   *slot;
    ngx_uint_t                      generation;
    ngx_event_t                     heartbeat;
    ngx_event_t                     handover;
    ngx_msec_t                      handover_end;
    ngx_log_t                      *log;
    ngx_str_t                      *unheard;   /* for the log: whose */

    ngx_http_wsgate_cache_listener_t
                                    listeners[NGX_HTTP_WSGATE_CACHE_LISTENERS];
    ngx_uint_t                      nlisteners;

    unsigned                        healthy:1;
    unsigned                        handing_over:1;
    unsigned                        handed_over:1;
    unsigned                        lost_logged:1;
};


struct ngx_http_wsgate_cache_s {
    ngx_shm_zone_t                 *shm_zone;
    ngx_msec_t                      ttl;
    ngx_msec_t                      negative_ttl;
    ngx_msec_t                      stale_if_error;

    ngx_http_wsgate_cache_sh_t     *sh;
    ngx_slab_pool_t                *shpool;

    ngx_http_wsgate_cache_worker_t *worker;
};


static ngx_int_t ngx_http_wsgate_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_wsgate_cache_bucket_t *ngx_http_wsgate_cache_bucket(
    ngx_http_wsgate_cache_t *cache, u_char *digest);
static ngx_http_wsgate_cache_node_t *ngx_http_wsgate_cache_lookup(
    ngx_http_wsgate_cache_t *cache, u_char *digest);
static void ngx_http_wsgate_cache_delete(ngx_http_wsgate_cache_t *cache,
    ngx_http_wsgate_cache_node_t *cn);
static ngx_int_t ngx_http_wsgate_cache_copy(ngx_http_wsgate_cache_node_t *cn,
    ngx_pool_t *pool, ngx_http_wsgate_cache_value_t *value);
static void ngx_http_wsgate_cache_expire(ngx_http_wsgate_cache_t *cache,
    ngx_uint_t n);
static ngx_http_wsgate_cache_listener_t *ngx_http_wsgate_cache_listen(
    ngx_http_wsgate_cache_worker_t *w, ngx_http_wsgate_redis_t *lookup,
    ngx_http_wsgate_redis_conf_t *rcf, void *node);
static void *ngx_http_wsgate_cache_watch(void *data,
    ngx_http_wsgate_redis_t *lookup, ngx_http_wsgate_redis_conf_t *rcf,
    void *node);
static ngx_int_t ngx_http_wsgate_cache_event(void *data,
    ngx_http_wsgate_redis_t *rd, ngx_http_wsgate_redis_event_e event);
static void ngx_http_wsgate_cache_message(void *data,
    ngx_http_wsgate_reply_t *msg);
static void ngx_http_wsgate_cache_invalidate(ngx_http_wsgate_cache_t *cache,
    ngx_http_wsgate_reply_t *key);
static void ngx_http_wsgate_cache_subscribe(
    ngx_http_wsgate_cache_listener_t *l);
static void ngx_http_wsgate_cache_client_id(void *data,
    ngx_http_wsgate_reply_t *reply, ngx_http_wsgate_redis_status_e status);
static void ngx_http_wsgate_cache_subscribed(void *data,
    ngx_http_wsgate_reply_t *reply, ngx_http_wsgate_redis_status_e status);
static void ngx_http_wsgate_cache_track(ngx_http_wsgate_cache_listener_t *l);
static void ngx_http_wsgate_cache_tracked(void *data,
    ngx_http_wsgate_reply_t *reply, ngx_http_wsgate_redis_status_e status);
static void ngx_http_wsgate_cache_ignore(void *data,
    ngx_http_wsgate_reply_t *reply, ngx_http_wsgate_redis_status_e status);
static ngx_uint_t ngx_http_wsgate_cache_heard(
    ngx_http_wsgate_cache_listener_t *l);
static void ngx_http_wsgate_cache_health(ngx_http_wsgate_cache_worker_t *w);
static ngx_uint_t ngx_http_wsgate_cache_covered(
    ngx_http_wsgate_cache_worker_t *w, ngx_uint_t newer);
static ngx_uint_t ngx_http_wsgate_cache_alive(ngx_pid_t pid);
static void ngx_http_wsgate_cache_heartbeat_handler(ngx_event_t *ev);
static void ngx_http_wsgate_cache_pong(void *data,
    ngx_http_wsgate_reply_t *reply, ngx_http_wsgate_redis_status_e status);
static void ngx_http_wsgate_cache_handover_handler(ngx_event_t *ev);


static ngx_str_t  ngx_http_wsgate_cache_channel =
    ngx_string("__redis__:invalidate");


char *
ngx_http_wsgate_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_wsgate_main_conf_t *wmcf = conf;

    u_char                   *p;
    ssize_t                   size;
    ngx_str_t                *value, name, s;
    ngx_int_t                 t;
    ngx_msec_t               *msec;
    ngx_uint_t                i;
    ngx_shm_zone_t           *shm_zone;
    ngx_http_wsgate_cache_t  *cache;

    if (wmcf->cache) {
        return "is duplicate";
    }

    cache = ngx_pcalloc(cf->pool, sizeof(ngx_http_wsgate_cache_t));
    if (cache == NULL) {
        return NGX_CONF_ERROR;
    }

    cache->ttl = 60 * 1000;
    cache->negative_ttl = 10 * 1000;
    cache->stale_if_error = 0;

    value = cf->args->elts;

    size = 0;
    ngx_str_null(&name);

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {

            name.data = value[i].data + 5;

            p = (u_char *) ngx_strchr(name.data, ':');

            if (p == NULL || p == name.data) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid zone \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            name.len = p - name.data;

            s.data = p + 1;
            s.len = value[i].data + value[i].len - s.data;

            size = ngx_parse_size(&s);

            if (size == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid zone size \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            if (size < (ssize_t) (8 * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "zone \"%V\" is too small", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "ttl=", 4) == 0) {
            msec = &cache->ttl;
            s.data = value[i].data + 4;

        } else if (ngx_strncmp(value[i].data, "negative_ttl=", 13) == 0) {
            msec = &cache->negative_ttl;
            s.data = value[i].data + 13;

        } else if (ngx_strncmp(value[i].data, "stale_if_error=", 15) == 0) {
            msec = &cache->stale_if_error;
            s.data = value[i].data + 15;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        s.len = value[i].data + value[i].len - s.data;

        t = ngx_parse_time(&s, 0);

        if (t == NGX_ERROR || (msec == &cache->ttl && t == 0)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        *msec = (ngx_msec_t) t;
    }

    if (name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone\" parameter",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_wsgate_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", &name);
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_wsgate_cache_init_zone;
    shm_zone->data = cache;

    cache->shm_zone = shm_zone;
    wmcf->cache = cache;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_wsgate_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_wsgate_cache_t  *ocache = data;

    size_t                    len, n;
    ngx_http_wsgate_cache_t  *cache;

    cache = shm_zone->data;

    if (ocache) {

        /* a reload with the zone unchanged: the entries stay */

        cache->sh = ocache->sh;
        cache->shpool = ocache->shpool;

        ngx_shmtx_lock(&cache->shpool->mutex);
        cache->sh->generation++;
        ngx_shmtx_unlock(&cache->shpool->mutex);

        return NGX_OK;
    }

    cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        cache->sh = cache->shpool->data;
        return NGX_OK;
    }

    cache->sh = ngx_slab_alloc(cache->shpool,
                               sizeof(ngx_http_wsgate_cache_sh_t));
    if (cache->sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(cache->sh, sizeof(ngx_http_wsgate_cache_sh_t));

    cache->shpool->data = cache->sh;

    /* a bucket per 256 bytes of zone: chains of about two when full */

    n = 1;

    while (n < shm_zone->shm.size / 256) {
        n *= 2;
    }

    cache->sh->buckets = ngx_slab_calloc(cache->shpool,
                                  n * sizeof(ngx_http_wsgate_cache_bucket_t));
    if (cache->sh->buckets == NULL) {
        return NGX_ERROR;
    }

    cache->sh->mask = n - 1;

    ngx_queue_init(&cache->sh->lru);

    cache->sh->era = 1;
    cache->sh->hard_era = 1;
    cache->sh->generation = 1;

    len = sizeof(" in wsgate_cache zone \"\"") + shm_zone->shm.name.len;

    cache->shpool->log_ctx = ngx_slab_alloc(cache->shpool, len);
    if (cache->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(cache->shpool->log_ctx, " in wsgate_cache zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone evicts: that is no failure worth a log line */
    cache->shpool->log_nomem = 0;

    return NGX_OK;
}


ngx_int_t
ngx_http_wsgate_cache_init_process(ngx_http_wsgate_cache_t *cache,
    ngx_cycle_t *cycle, ngx_http_wsgate_redis_conf_t *rcf,
    ngx_http_wsgate_redis_t *lookup, ngx_http_wsgate_cluster_t *cluster,
    ngx_str_t *key_prefix)
{
    u_char                          *p;
    ngx_uint_t                       i;
    ngx_http_wsgate_cache_sh_t      *sh;
    ngx_http_wsgate_cache_slot_t    *slot;
    ngx_http_wsgate_cache_worker_t  *w;

    w = ngx_pcalloc(cycle->pool, sizeof(ngx_http_wsgate_cache_worker_t));
    if (w == NULL) {
        return NGX_ERROR;
    }

    cache->worker = w;

    w->cache = cache;
    w->cycle = cycle;
    w->log = cycle->log;

    w->prefix.len = ngx_http_wsgate_key_len(NGX_HTTP_WSGATE_KEY_TOKEN,
                                            key_prefix->len, 0);
    w->prefix.data = ngx_pnalloc(cycle->pool, w->prefix.len);
    if (w->prefix.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_http_wsgate_key(w->prefix.data, NGX_HTTP_WSGATE_KEY_TOKEN,
                            key_prefix->data, key_prefix->len,
                            (u_char *) "", 0);
    w->prefix.len = p - w->prefix.data;

    /* a slot among the listening workers: a free one, or a dead worker's */

    sh = cache->sh;

    ngx_shmtx_lock(&cache->shpool->mutex);

    w->generation = sh->generation;

    for (i = 0; i < NGX_HTTP_WSGATE_CACHE_SLOTS; i++) {
        slot = &sh->slots[i];

        if (slot->pid == 0 || !ngx_http_wsgate_cache_alive(slot->pid)) {
            slot->pid = ngx_pid;
            slot->generation = w->generation;
            slot->healthy = 0;
            w->slot = slot;
            break;
        }
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    if (w->slot == NULL) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "wsgate cache: more than %d workers, this one "
                      "does not count as a listener",
                      NGX_HTTP_WSGATE_CACHE_SLOTS);
    }

    w->heartbeat.handler = ngx_http_wsgate_cache_heartbeat_handler;
    w->heartbeat.data = w;
    w->heartbeat.log = cycle->log;
    w->heartbeat.cancelable = 1;

    /* keeps an old worker until a new one listens: not cancelable */
    w->handover.handler = ngx_http_wsgate_cache_handover_handler;
    w->handover.data = w;
    w->handover.log = cycle->log;

    if (cluster) {
        /* a listener for each master's connection, as the cluster opens it */
        ngx_http_wsgate_cluster_watch(cluster, ngx_http_wsgate_cache_watch,
                                      ngx_http_wsgate_cache_event, w);

    } else {
        if (ngx_http_wsgate_cache_listen(w, lookup, rcf, NULL) == NULL) {
            return NGX_ERROR;
        }

        ngx_http_wsgate_redis_set_owner(lookup, ngx_http_wsgate_cache_event,
                                        NULL, &w->listeners[0]);
    }

    ngx_add_timer(&w->heartbeat, NGX_HTTP_WSGATE_CACHE_HEARTBEAT);

    return NGX_OK;
}


void
ngx_http_wsgate_cache_exit_process(ngx_http_wsgate_cache_t *cache)
{
    ngx_uint_t                       i;
    ngx_http_wsgate_cache_worker_t  *w;

    w = cache->worker;

    if (w == NULL) {
        return;
    }

    if (w->heartbeat.timer_set) {
        ngx_del_timer(&w->heartbeat);
    }

    if (w->handover.timer_set) {
        ngx_del_timer(&w->handover);
    }

    for (i = 0; i < w->nlisteners; i++) {
        if (w->listeners[i].sub) {
            ngx_http_wsgate_redis_destroy(w->listeners[i].sub);
            w->listeners[i].sub = NULL;
        }
    }

    if (w->slot) {
        ngx_shmtx_lock(&cache->shpool->mutex);
        w->slot->pid = 0;
        w->slot->healthy = 0;
        ngx_shmtx_unlock(&cache->shpool->mutex);
        w->slot = NULL;
    }

    cache->worker = NULL;
}


ngx_int_t
ngx_http_wsgate_cache_get(ngx_http_wsgate_cache_t *cache, u_char *digest,
    ngx_pool_t *pool, ngx_http_wsgate_cache_value_t *value,
    ngx_http_wsgate_cache_ticket_t *ticket)
{
    ngx_int_t                        rc;
    ngx_http_wsgate_cache_sh_t      *sh;
    ngx_http_wsgate_cache_node_t    *cn;
    ngx_http_wsgate_cache_worker_t  *w;

    w = cache->worker;
    sh = cache->sh;

    ticket->valid = 0;

    if (w == NULL || !w->healthy) {
        return NGX_DECLINED;
    }

    rc = NGX_DECLINED;

    ngx_shmtx_lock(&cache->shpool->mutex);

    ticket->era = sh->era;
    ticket->gen = ngx_http_wsgate_cache_bucket(cache, digest)->gen;
    ticket->valid = 1;

    cn = ngx_http_wsgate_cache_lookup(cache, digest);

    if (cn == NULL) {
        goto done;
    }

    if (cn->era < sh->hard_era) {
        ngx_http_wsgate_cache_delete(cache, cn);
        goto done;
    }

    if (cn->era != sh->era
        || (ngx_msec_int_t) (cn->expires - ngx_current_msec) <= 0)
    {
        /* kept for stale_if_error until Redis answers */
        goto done;
    }

    cn->seen = ngx_current_msec;

    /*
     * Moving an entry to the LRU's head touches its neighbours, two more
     * cache misses: it is moved only once a quarter of the entries were
     * queued after it, long before it could reach the tail.
     */

    if (sh->clock - cn->stamp > sh->count / 4) {
        ngx_queue_remove(&cn->queue);
        ngx_queue_insert_head(&sh->lru, &cn->queue);
        cn->stamp = ++sh->clock;
    }

    rc = ngx_http_wsgate_cache_copy(cn, pool, value);

done:

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return rc;
}


void
ngx_http_wsgate_cache_put(ngx_http_wsgate_cache_t *cache, u_char *digest,
    ngx_http_wsgate_cache_ticket_t *ticket,
    ngx_http_wsgate_cache_value_t *value, int64_t pttl)
{
    size_t                           size;
    ngx_uint_t                       n;
    ngx_msec_t                       ttl;
    ngx_http_wsgate_cache_sh_t      *sh;
    ngx_http_wsgate_cache_node_t    *cn, *node;
    ngx_http_wsgate_cache_worker_t  *w;
    ngx_http_wsgate_cache_bucket_t  *b;

    w = cache->worker;
    sh = cache->sh;

    if (!ticket->valid || w == NULL || !w->healthy
        || value->id.len > NGX_HTTP_WSGATE_CACHE_ID_MAX)
    {
        return;
    }

    ttl = value->kind ? cache->ttl : cache->negative_ttl;

    /* a key that expires (a rotated token's grace) is cached no longer */

    if (value->kind && pttl >= 0 && (uint64_t) pttl < ttl) {
        ttl = (ngx_msec_t) pttl;
    }

    if (ttl == 0) {
        return;
    }

    ngx_shmtx_lock(&cache->shpool->mutex);

    b = ngx_http_wsgate_cache_bucket(cache, digest);

    if (ticket->era != sh->era || ticket->gen != b->gen) {
        goto done;
    }

    cn = ngx_http_wsgate_cache_lookup(cache, digest);

    if (cn) {
        ngx_http_wsgate_cache_delete(cache, cn);
    }

    ngx_http_wsgate_cache_expire(cache, 2);

    size = offsetof(ngx_http_wsgate_cache_node_t, id) + value->id.len;

    node = ngx_slab_alloc_locked(cache->shpool, size);

    for (n = 0; node == NULL && n < NGX_HTTP_WSGATE_CACHE_EVICT; n++) {

        /* full: the least recently used make room */

        if (ngx_queue_empty(&sh->lru)) {
            break;
        }

        cn = ngx_queue_data(ngx_queue_last(&sh->lru),
                            ngx_http_wsgate_cache_node_t, queue);

        ngx_http_wsgate_cache_delete(cache, cn);

        node = ngx_slab_alloc_locked(cache->shpool, size);
    }

    if (node == NULL) {
        goto done;
    }

    cn = node;

    cn->kind = (u_char) value->kind;
    cn->len = (u_char) value->id.len;
    cn->expires = ngx_current_msec + ttl;
    cn->seen = ngx_current_msec;
    cn->era = sh->era;
    ngx_memcpy(cn->digest, digest, NGX_HTTP_WSGATE_CACHE_DIGEST_LEN);
    if (value->id.len) {
        ngx_memcpy(cn->id, value->id.data, value->id.len);
    }

    cn->next = b->chain;
    b->chain = cn;

    ngx_queue_insert_head(&sh->lru, &cn->queue);
    cn->stamp = ++sh->clock;
    sh->count++;

done:

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


ngx_int_t
ngx_http_wsgate_cache_stale(ngx_http_wsgate_cache_t *cache, u_char *digest,
    ngx_pool_t *pool, ngx_http_wsgate_cache_value_t *value)
{
    ngx_int_t                      rc;
    ngx_http_wsgate_cache_node_t  *cn;

    if (cache->stale_if_error == 0) {
        return NGX_DECLINED;
    }

    rc = NGX_DECLINED;

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_wsgate_cache_lookup(cache, digest);

    if (cn != NULL
        && cn->kind != 0
        && cn->era >= cache->sh->hard_era
        && ngx_current_msec - cn->seen <= cache->stale_if_error)
    {
        rc = ngx_http_wsgate_cache_copy(cn, pool, value);
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return rc;
}


/*
 * The digest's bucket: its first bytes, already uniform.  The bucket's
 * count of invalidations (gen) holds an answer out of the cache if
 * one came while it was asked for (it may be about its key); per bucket,
 * so that writes to other tokens do not keep it out.
 */

static ngx_http_wsgate_cache_bucket_t *
ngx_http_wsgate_cache_bucket(ngx_http_wsgate_cache_t *cache, u_char *digest)
{
    uint32_t  hash;

    ngx_memcpy(&hash, digest, sizeof(uint32_t));

    return &cache->sh->buckets[hash & cache->sh->mask];
}


static ngx_http_wsgate_cache_node_t *
ngx_http_wsgate_cache_lookup(ngx_http_wsgate_cache_t *cache, u_char *digest)
{
    ngx_http_wsgate_cache_node_t  *cn;

    for (cn = ngx_http_wsgate_cache_bucket(cache, digest)->chain;
         cn != NULL;
         cn = cn->next)
    {
        if (ngx_memcmp(digest, cn->digest, NGX_HTTP_WSGATE_CACHE_DIGEST_LEN)
            == 0)
        {
            return cn;
        }
    }

    return NULL;
}


static void
ngx_http_wsgate_cache_delete(ngx_http_wsgate_cache_t *cache,
    ngx_http_wsgate_cache_node_t *cn)
{
    ngx_http_wsgate_cache_node_t  **pp;

    for (pp = &ngx_http_wsgate_cache_bucket(cache, cn->digest)->chain;
         *pp != cn;
         pp = &(*pp)->next)
    {
        /* void */
    }

    *pp = cn->next;

    ngx_queue_remove(&cn->queue);
    ngx_slab_free_locked(cache->shpool, cn);

    cache->sh->count--;
}


static ngx_int_t
ngx_http_wsgate_cache_copy(ngx_http_wsgate_cache_node_t *cn, ngx_pool_t *pool,
    ngx_http_wsgate_cache_value_t *value)
{
    value->kind = cn->kind;
    value->id.len = cn->len;

    value->id.data = ngx_pnalloc(pool, cn->len + 1);
    if (value->id.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(value->id.data, cn->id, cn->len);
    value->id.data[cn->len] = '\0';

    return NGX_OK;
}


/* drops up to n of the oldest entries that are of no use any more */

static void
ngx_http_wsgate_cache_expire(ngx_http_wsgate_cache_t *cache, ngx_uint_t n)
{
    ngx_msec_t                     keep;
    ngx_queue_t                   *q;
    ngx_http_wsgate_cache_sh_t    *sh;
    ngx_http_wsgate_cache_node_t  *cn;

    sh = cache->sh;

    while (n--) {

        if (ngx_queue_empty(&sh->lru)) {
            return;
        }

        q = ngx_queue_last(&sh->lru);
        cn = ngx_queue_data(q, ngx_http_wsgate_cache_node_t, queue);

        keep = cn->kind ? cache->stale_if_error : 0;

        if (cn->era >= sh->hard_era
            && ((ngx_msec_int_t) (cn->expires - ngx_current_msec) > 0
                || ngx_current_msec - cn->seen <= keep))
        {
            return;
        }

        ngx_http_wsgate_cache_delete(cache, cn);
    }
}


/* a lookup connection gets a subscriber on the same Redis */

static ngx_http_wsgate_cache_listener_t *
ngx_http_wsgate_cache_listen(ngx_http_wsgate_cache_worker_t *w,
    ngx_http_wsgate_redis_t *lookup, ngx_http_wsgate_redis_conf_t *rcf,
    void *node)
{
    ngx_http_wsgate_cache_listener_t  *l;

    if (w->nlisteners == NGX_HTTP_WSGATE_CACHE_LISTENERS) {
        ngx_log_error(NGX_LOG_ERR, w->log, 0,
                      "wsgate cache: more than %d redis masters, the "
                      "cache is bypassed", NGX_HTTP_WSGATE_CACHE_LISTENERS);
        return NULL;
    }

    l = &w->listeners[w->nlisteners];

    l->worker = w;
    l->lookup = lookup;
    l->node = node;
    l->name = rcf->name;
    l->sub_id = -1;
    l->tracking_id = -1;

    l->sub = ngx_http_wsgate_redis_create(w->cycle, rcf, "wsgate-sub");
    if (l->sub == NULL) {
        return NULL;
    }

    ngx_http_wsgate_redis_set_owner(l->sub, ngx_http_wsgate_cache_event,
                                    ngx_http_wsgate_cache_message, l);

    w->nlisteners++;

    /* one more connection to hear from before the cache is trusted */

    ngx_http_wsgate_cache_health(w);

    return l;
}


/* the cluster opened a connection to a master: its events come here */

static void *
ngx_http_wsgate_cache_watch(void *data, ngx_http_wsgate_redis_t *lookup,
    ngx_http_wsgate_redis_conf_t *rcf, void *node)
{
    ngx_http_wsgate_cache_worker_t *w = data;

    return ngx_http_wsgate_cache_listen(w, lookup, rcf, node);
}


static ngx_int_t
ngx_http_wsgate_cache_event(void *data, ngx_http_wsgate_redis_t *rd,
    ngx_http_wsgate_redis_event_e event)
{
    ngx_http_wsgate_cache_listener_t  *l = data;

    ngx_http_wsgate_cache_worker_t  *w;

    w = l->worker;

    switch (event) {

    case NGX_HTTP_WSGATE_REDIS_READY:

        if (rd == l->sub) {
            ngx_http_wsgate_cache_subscribe(l);

        } else if (l->subscribed) {
            ngx_http_wsgate_cache_track(l);
        }

        return NGX_OK;

    case NGX_HTTP_WSGATE_REDIS_LOST:

        if (rd == l->sub) {
            l->subscribing = 0;
            l->subscribed = 0;
            l->sub_id = -1;
            l->pinging = 0;
        }

        /* either way the lookup connection's tracking is broken */

        l->tracking = 0;

        ngx_http_wsgate_cache_health(w);

        return NGX_OK;

    default: /* NGX_HTTP_WSGATE_REDIS_CLOSING */

        /*
         * A graceful shutdown: keep listening until a newer worker
         * listens, so the entries stay good for it.
         */

        if (!w->healthy || w->handed_over || ngx_terminate) {
            return NGX_OK;
        }

        if (!w->handing_over) {
            w->handing_over = 1;
            w->handover_end = ngx_current_msec
                              + NGX_HTTP_WSGATE_CACHE_HANDOVER;
            ngx_add_timer(&w->handover, NGX_HTTP_WSGATE_CACHE_TICK);
        }

        return NGX_DECLINED;
    }
}


static void
ngx_http_wsgate_cache_subscribe(ngx_http_wsgate_cache_listener_t *l)
{
    ngx_str_t                       argv[2];
    ngx_http_wsgate_redis_status_e  status;

    l->subscribed = 0;
    l->sub_id = -1;

    ngx_str_set(&argv[0], "CLIENT");
    ngx_str_set(&argv[1], "ID");

    if (ngx_http_wsgate_redis_send(l->sub, 2, argv,
                                   ngx_http_wsgate_cache_client_id, l,
                                   &status)
        == NULL)
    {
        return;
    }

    ngx_str_set(&argv[0], "SUBSCRIBE");
    argv[1] = ngx_http_wsgate_cache_channel;

    if (ngx_http_wsgate_redis_send(l->sub, 2, argv,
                                   ngx_http_wsgate_cache_subscribed, l,
                                   &status)
        != NULL)
    {
        l->subscribing = 1;
    }
}


static void
ngx_http_wsgate_cache_client_id(void *data, ngx_http_wsgate_reply_t *reply,
    ngx_http_wsgate_redis_status_e status)
{
    ngx_http_wsgate_cache_listener_t  *l = data;

    if (reply && reply->type == NGX_HTTP_WSGATE_REPLY_INTEGER) {
        l->sub_id = reply->integer;
    }
}


static void
ngx_http_wsgate_cache_subscribed(void *data, ngx_http_wsgate_reply_t *reply,
    ngx_http_wsgate_redis_status_e status)
{
    ngx_http_wsgate_cache_listener_t  *l = data;

    l->subscribing = 0;

    if (reply == NULL) {
        return;
    }

    if (reply->type != NGX_HTTP_WSGATE_REPLY_ARRAY
        || reply->nelts < 1
        || !ngx_http_wsgate_reply_is(reply->elts[0], "subscribe", 9)
        || l->sub_id < 0)
    {
        if (!l->refused_logged) {
            ngx_log_error(NGX_LOG_ERR, l->worker->log, 0,
                          "wsgate cache: %V refused the subscription to "
                          "invalidations%s%V, the cache is bypassed",
                          &l->name,
                          reply->type == NGX_HTTP_WSGATE_REPLY_ERROR
                          ? ": " : "",
                          reply->type == NGX_HTTP_WSGATE_REPLY_ERROR
                          ? &reply->str : &ngx_http_wsgate_cache_channel);
            l->refused_logged = 1;
        }

        return;
    }

    l->subscribed = 1;
    l->refused_logged = 0;

    if (ngx_http_wsgate_redis_is_up(l->lookup)) {
        ngx_http_wsgate_cache_track(l);
    }
}


/*
 * CLIENT TRACKING cannot change its REDIRECT or BCAST while on, so it is
 * turned off first; the lookups sent meanwhile are not cached (the worker
 * is not healthy until the last TRACKING on is answered).
 */

static void
ngx_http_wsgate_cache_track(ngx_http_wsgate_cache_listener_t *l)
{
    ngx_str_t                       argv[8];
    ngx_http_wsgate_redis_status_e  status;
    u_char                          id[NGX_INT64_LEN];

    l->tracking = 0;
    ngx_http_wsgate_cache_health(l->worker);

    ngx_str_set(&argv[0], "CLIENT");
    ngx_str_set(&argv[1], "TRACKING");
    ngx_str_set(&argv[2], "off");

    if (ngx_http_wsgate_redis_send(l->lookup, 3, argv,
                                   ngx_http_wsgate_cache_ignore, l, &status)
        == NULL)
    {
        return;
    }

    ngx_str_set(&argv[2], "on");
    ngx_str_set(&argv[3], "REDIRECT");
    argv[4].data = id;
    argv[4].len = ngx_sprintf(id, "%L", l->sub_id) - id;
    ngx_str_set(&argv[5], "BCAST");
    ngx_str_set(&argv[6], "PREFIX");
    argv[7] = l->worker->prefix;

    if (ngx_http_wsgate_redis_send(l->lookup, 8, argv,
                                   ngx_http_wsgate_cache_tracked, l, &status)
        == NULL)
    {
        return;
    }

    l->tracking_id = l->sub_id;
    l->tracks++;
}


static void
ngx_http_wsgate_cache_tracked(void *data, ngx_http_wsgate_reply_t *reply,
    ngx_http_wsgate_redis_status_e status)
{
    ngx_http_wsgate_cache_listener_t  *l = data;

    l->tracks--;

    if (reply == NULL) {
        return;
    }

    if (reply->type == NGX_HTTP_WSGATE_REPLY_ERROR) {

        if (!l->refused_logged) {
            ngx_log_error(NGX_LOG_ERR, l->worker->log, 0,
                          "wsgate cache: %V refused CLIENT TRACKING: "
                          "\"%V\", the cache is bypassed",
                          &l->name, &reply->str);
            l->refused_logged = 1;
        }

        return;
    }

    /* only the last one sent counts, and only for this subscriber */

    if (l->tracks == 0 && l->tracking_id == l->sub_id && l->subscribed) {
        l->tracking = 1;
        l->refused_logged = 0;
        ngx_http_wsgate_cache_health(l->worker);
    }
}


static void
ngx_http_wsgate_cache_ignore(void *data, ngx_http_wsgate_reply_t *reply,
    ngx_http_wsgate_redis_status_e status)
{
}


static void
ngx_http_wsgate_cache_message(void *data, ngx_http_wsgate_reply_t *msg)
{
    ngx_http_wsgate_cache_listener_t  *l = data;

    size_t                       i, n;
    ngx_str_t                   *channel;
    ngx_http_wsgate_cache_t     *cache;
    ngx_http_wsgate_reply_t    **keys;
    ngx_http_wsgate_cache_sh_t  *sh;

    cache = l->worker->cache;
    sh = cache->sh;
    channel = &ngx_http_wsgate_cache_channel;

    switch (ngx_http_wsgate_reply_invalidation(msg, channel->data,
                                               channel->len, &keys, &n))
    {

    case NGX_HTTP_WSGATE_INVALIDATE_NONE:
        return;

    case NGX_HTTP_WSGATE_INVALIDATE_KEYS:
        for (i = 0; i < n; i++) {
            ngx_http_wsgate_cache_invalidate(cache, keys[i]);
        }

        break;

    default:

        /* nil: FLUSHALL or FLUSHDB, every key is gone */

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, l->worker->log, 0,
                       "wsgate cache: flush");

        ngx_shmtx_lock(&cache->shpool->mutex);
        sh->era++;
        sh->hard_era = sh->era;
        ngx_shmtx_unlock(&cache->shpool->mutex);

        break;
    }
}


static void
ngx_http_wsgate_cache_invalidate(ngx_http_wsgate_cache_t *cache,
    ngx_http_wsgate_reply_t *key)
{
    ngx_http_wsgate_cache_node_t    *cn;
    ngx_http_wsgate_cache_worker_t  *w;
    u_char                           digest[NGX_HTTP_WSGATE_CACHE_DIGEST_LEN];

    w = cache->worker;

    if (ngx_http_wsgate_reply_digest(key, w->prefix.data, w->prefix.len,
                                     digest, sizeof(digest))
        != 0)
    {
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, w->log, 0,
                   "wsgate cache: invalidate \"%V\"", &key->str);

    ngx_shmtx_lock(&cache->shpool->mutex);

    ngx_http_wsgate_cache_bucket(cache, digest)->gen++;

    cn = ngx_http_wsgate_cache_lookup(cache, digest);

    if (cn) {
        ngx_http_wsgate_cache_delete(cache, cn);
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


/* a listener hears its master's changes, or need not (serves no slot) */

static ngx_uint_t
ngx_http_wsgate_cache_heard(ngx_http_wsgate_cache_listener_t *l)
{
    if (l->node && !ngx_http_wsgate_cluster_serves(l->node)) {
        return 1;
    }

    return l->subscribed && l->tracking && l->tracking_id == l->sub_id
           && ngx_http_wsgate_redis_is_up(l->sub)
           && ngx_http_wsgate_redis_is_up(l->lookup);
}


/*
 * healthy: this worker hears of every change to a token key (on a
 * cluster: from every master it asks, once it knows the slot map)
 */

static void
ngx_http_wsgate_cache_health(ngx_http_wsgate_cache_worker_t *w)
{
    ngx_uint_t                   i, healthy, covered;
    ngx_http_wsgate_cache_t     *cache;

    healthy = (w->nlisteners > 0);

    for (i = 0; i < w->nlisteners && healthy; i++) {
        if (!ngx_http_wsgate_cache_heard(&w->listeners[i])) {
            healthy = 0;
            w->unheard = &w->listeners[i].name;
        }
    }

    if (healthy && w->listeners[0].node
        && !ngx_http_wsgate_cluster_mapped(w->listeners[0].node))
    {
        healthy = 0;
    }

    if (healthy == w->healthy) {
        return;
    }

    cache = w->cache;
    covered = 0;

    ngx_shmtx_lock(&cache->shpool->mutex);

    if (healthy) {

        /* nobody listened until now: whatever changed was missed */

        covered = ngx_http_wsgate_cache_covered(w, 0);

        if (!covered) {
            cache->sh->era++;
        }

    } else if (!ngx_exiting) {

        /* what this worker missed may concern any entry */

        cache->sh->era++;
    }

    if (w->slot) {
        w->slot->healthy = healthy;
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    w->healthy = healthy;

    if (healthy) {
        if (w->lost_logged) {
            ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                          "wsgate cache: invalidations from %V resumed%s",
                          w->unheard,
                          covered ? "" : ", cached entries revalidated");
            w->lost_logged = 0;
        }

        return;
    }

    if (!ngx_exiting && !w->lost_logged && w->unheard) {
        ngx_log_error(NGX_LOG_WARN, w->log, 0,
                      "wsgate cache: invalidations from %V lost, "
                      "the cache is bypassed until they resume", w->unheard);
        w->lost_logged = 1;
    }
}


/* another live worker listens (newer: one of a later configuration) */

static ngx_uint_t
ngx_http_wsgate_cache_covered(ngx_http_wsgate_cache_worker_t *w,
    ngx_uint_t newer)
{
    ngx_uint_t                     i;
    ngx_http_wsgate_cache_slot_t  *slot;

    for (i = 0; i < NGX_HTTP_WSGATE_CACHE_SLOTS; i++) {
        slot = &w->cache->sh->slots[i];

        if (slot == w->slot || slot->pid == 0 || !slot->healthy) {
            continue;
        }

        if (newer && slot->generation <= w->generation) {
            continue;
        }

        if (ngx_http_wsgate_cache_alive(slot->pid)) {
            return 1;
        }
    }

    return 0;
}


static ngx_uint_t
ngx_http_wsgate_cache_alive(ngx_pid_t pid)
{
    /* a worker killed by a signal leaves its slot behind */

    return kill(pid, 0) == 0 || ngx_errno == NGX_EPERM;
}


static void
ngx_http_wsgate_cache_heartbeat_handler(ngx_event_t *ev)
{
    ngx_http_wsgate_cache_worker_t  *w = ev->data;

    ngx_str_t                          argv[1];
    ngx_uint_t                         i;
    ngx_http_wsgate_cache_listener_t  *l;
    ngx_http_wsgate_redis_status_e     status;

    if (ngx_exiting) {
        return;
    }

    for (i = 0; i < w->nlisteners; i++) {
        l = &w->listeners[i];

        /* a refused SUBSCRIBE or CLIENT TRACKING (ACLs) is asked again */

        if (ngx_http_wsgate_redis_is_up(l->sub) && !l->subscribed
            && !l->subscribing)
        {
            ngx_http_wsgate_cache_subscribe(l);

        } else if (l->subscribed && !l->tracking && l->tracks == 0
                   && ngx_http_wsgate_redis_is_up(l->lookup))
        {
            ngx_http_wsgate_cache_track(l);
        }

        /* a subscriber that hears nothing may be cut off: ask it */

        if (l->subscribed && !l->pinging) {
            ngx_str_set(&argv[0], "PING");

            if (ngx_http_wsgate_redis_send(l->sub, 1, argv,
                                           ngx_http_wsgate_cache_pong, l,
                                           &status)
                != NULL)
            {
                l->pinging = 1;
            }
        }
    }

    /* a cluster's masters change: which listeners count, too */

    ngx_http_wsgate_cache_health(w);

    ngx_add_timer(ev, NGX_HTTP_WSGATE_CACHE_HEARTBEAT);
}


static void
ngx_http_wsgate_cache_pong(void *data, ngx_http_wsgate_reply_t *reply,
    ngx_http_wsgate_redis_status_e status)
{
    ngx_http_wsgate_cache_listener_t  *l = data;

    l->pinging = 0;
}


static void
ngx_http_wsgate_cache_handover_handler(ngx_event_t *ev)
{
    ngx_http_wsgate_cache_worker_t  *w = ev->data;

    ngx_uint_t  newer;

    newer = 0;

    if (w->healthy && !ngx_terminate
        && (ngx_msec_int_t) (w->handover_end - ngx_current_msec) > 0)
    {
        ngx_shmtx_lock(&w->cache->shpool->mutex);
        newer = ngx_http_wsgate_cache_covered(w, 1);
        ngx_shmtx_unlock(&w->cache->shpool->mutex);

        if (!newer) {
            ngx_add_timer(ev, NGX_HTTP_WSGATE_CACHE_TICK);
            return;
        }
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, w->log, 0,
                   "wsgate cache: handover %s",
                   newer ? "done" : "given up");

    /* the connections close with the worker, in exit_process */

    w->handed_over = 1;
}
