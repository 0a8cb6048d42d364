
/*
 * Copyright (C) wsgate authors
 *
 * wsgate_metrics: counters in one shared memory zone, summed over all
 * workers as nginx's stub_status sums its own (an atomic add each), and
 * shown in Prometheus's text format (0.0.4).
 *
 * The zone is made whenever wsgate is configured and keeps its counters
 * across a reload, as long as their layout is the same.  Each worker has
 * a slot with its pid and whether its Redis connection is ready.  Only
 * workers count: a worker sets the zone's address when it starts.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_wsgate_module.h"


#define NGX_HTTP_WSGATE_METRICS_WORKERS  256
#define NGX_HTTP_WSGATE_METRICS_BUCKETS  13


typedef struct {
    ngx_atomic_t                    pid;
    ngx_atomic_t                    up;
} ngx_http_wsgate_metrics_worker_t;


typedef struct {
    size_t                          size;       /* the layout's */
    ngx_atomic_t                    counters[NGX_HTTP_WSGATE_M_COUNTERS];

    /* a count per bucket (not cumulative), the last one is +Inf */
    ngx_atomic_t                    latency[NGX_HTTP_WSGATE_METRICS_BUCKETS
                                            + 1];
    ngx_atomic_t                    latency_usec;

    ngx_http_wsgate_metrics_worker_t
                                    workers[NGX_HTTP_WSGATE_METRICS_WORKERS];
} ngx_http_wsgate_metrics_sh_t;


/* a metric family: its counters are consecutive */
typedef struct {
    char                           *name;
    char                           *help;
    char                           *label;     /* NULL: no label */
    char                          **values;
    ngx_uint_t                      first;
    ngx_uint_t                      n;
} ngx_http_wsgate_family_t;


static ngx_int_t ngx_http_wsgate_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_wsgate_metrics_handler(ngx_http_request_t *r);
static u_char *ngx_http_wsgate_metrics_label(u_char *p, ngx_str_t *value);


static ngx_str_t  ngx_http_wsgate_metrics_zone_name =
    ngx_string("wsgate:metrics");

/* this worker's view of the zone; NULL in the master and without wsgate */
static ngx_http_wsgate_metrics_sh_t      *ngx_http_wsgate_metrics_sh;
static ngx_http_wsgate_metrics_worker_t  *ngx_http_wsgate_metrics_slot;


/* upper bounds, microseconds and as printed */

static uint64_t  ngx_http_wsgate_buckets[NGX_HTTP_WSGATE_METRICS_BUCKETS] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
    250000, 500000, 1000000
};

static char  *ngx_http_wsgate_bucket_names[NGX_HTTP_WSGATE_METRICS_BUCKETS] = {
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
    "0.025", "0.05", "0.1", "0.25", "0.5", "1"
};


static char  *ngx_http_wsgate_auth_results[] = {
    "ok", "missing", "invalid", "mismatch", "unavailable"
};

static char  *ngx_http_wsgate_cache_results[] = {
    "hit", "miss", "bypass", "stale"
};

static char  *ngx_http_wsgate_redis_errors[] = {
    "down", "timeout", "busy", "loading", "reply"
};

static char  *ngx_http_wsgate_sources[] = {
    "gateway", "backend"
};


static ngx_http_wsgate_family_t  ngx_http_wsgate_families[] = {

    { "wsgate_auth_requests_total",
      "Requests wsgate_auth decided, by result.",
      "result", ngx_http_wsgate_auth_results,
      NGX_HTTP_WSGATE_M_AUTH_OK, 5 },

    { "wsgate_cache_lookups_total",
      "Token lookups answered by the token cache (hit, stale), or not "
      "(miss: asked Redis; bypass: the cache was not trusted).",
      "result", ngx_http_wsgate_cache_results,
      NGX_HTTP_WSGATE_M_CACHE_HIT, 4 },

    { "wsgate_redis_commands_total",
      "Commands sent to Redis, connection setup included.",
      NULL, NULL,
      NGX_HTTP_WSGATE_M_REDIS_COMMANDS, 1 },

    { "wsgate_redis_errors_total",
      "Redis commands that got no answer (down, timeout, busy: too many "
      "queued, loading), or an error reply.",
      "kind", ngx_http_wsgate_redis_errors,
      NGX_HTTP_WSGATE_M_REDIS_DOWN, 5 },

    { "wsgate_redis_reconnects_total",
      "Connections to Redis made ready again after one was lost.",
      NULL, NULL,
      NGX_HTTP_WSGATE_M_REDIS_RECONNECTS, 1 },

    { "wsgate_register_failures_recorded_total",
      "Register failure records written to Redis, by source.",
      "source", ngx_http_wsgate_sources,
      NGX_HTTP_WSGATE_M_REGFAIL_GATEWAY, 2 },

    { "wsgate_register_recoveries_total",
      "Good registers that cleared a failure record or a restart window.",
      NULL, NULL,
      NGX_HTTP_WSGATE_M_RECOVERIES, 1 },

    { "wsgate_a2a_system_rewrites_total",
      "A2A requests passed with a system caller rewritten to its UUID.",
      NULL, NULL,
      NGX_HTTP_WSGATE_M_A2A_REWRITES, 1 },

    { "wsgate_a2a_forged_callers_total",
      "A2A requests refused for claiming a system caller.",
      NULL, NULL,
      NGX_HTTP_WSGATE_M_A2A_FORGED, 1 }
};


ngx_shm_zone_t *
ngx_http_wsgate_metrics_init_conf(ngx_conf_t *cf)
{
    ngx_shm_zone_t  *shm_zone;

    shm_zone = ngx_shared_memory_add(cf, &ngx_http_wsgate_metrics_zone_name,
                                     8 * ngx_pagesize,
                                     &ngx_http_wsgate_module);
    if (shm_zone == NULL) {
        return NULL;
    }

    shm_zone->init = ngx_http_wsgate_metrics_init_zone;

    return shm_zone;
}


static ngx_int_t
ngx_http_wsgate_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_wsgate_metrics_sh_t  *osh = data;

    ngx_slab_pool_t               *shpool;
    ngx_http_wsgate_metrics_sh_t  *sh;

    if (osh && osh->size == sizeof(ngx_http_wsgate_metrics_sh_t)) {
        /* a reload: the counters go on */
        shm_zone->data = osh;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (osh == NULL && shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    /*
     * A new zone, or one whose old workers still count in another layout
     * (a new module binary): that one is left to them.
     */

    sh = ngx_slab_calloc(shpool, sizeof(ngx_http_wsgate_metrics_sh_t));
    if (sh == NULL) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "wsgate metrics: no room for new counters in the "
                      "\"%V\" zone, restart nginx",
                      &shm_zone->shm.name);
        return NGX_ERROR;
    }

    sh->size = sizeof(ngx_http_wsgate_metrics_sh_t);

    shpool->data = sh;
    shm_zone->data = sh;

    return NGX_OK;
}


void
ngx_http_wsgate_metrics_init_process(ngx_cycle_t *cycle, ngx_shm_zone_t *zone)
{
    ngx_uint_t                         i;
    ngx_http_wsgate_metrics_sh_t      *sh;
    ngx_http_wsgate_metrics_worker_t  *w;

    sh = zone->data;

    ngx_http_wsgate_metrics_sh = sh;

    /* a free slot, or one a killed worker left behind */

    for (i = 0; i < NGX_HTTP_WSGATE_METRICS_WORKERS; i++) {
        w = &sh->workers[i];

        if (w->pid != 0
            && (kill((ngx_pid_t) w->pid, 0) == 0 || ngx_errno != NGX_ESRCH))
        {
            continue;
        }

        if (ngx_atomic_cmp_set(&w->pid, w->pid, (ngx_atomic_uint_t) ngx_pid)) {
            w->up = 0;
            ngx_http_wsgate_metrics_slot = w;
            return;
        }
    }

    ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                  "wsgate metrics: no slot left for this worker, "
                  "its wsgate_redis_up is not shown");
}


void
ngx_http_wsgate_metrics_exit_process(void)
{
    if (ngx_http_wsgate_metrics_slot) {
        ngx_http_wsgate_metrics_slot->up = 0;
        ngx_http_wsgate_metrics_slot->pid = 0;
        ngx_http_wsgate_metrics_slot = NULL;
    }

    ngx_http_wsgate_metrics_sh = NULL;
}


void
ngx_http_wsgate_metrics_count(ngx_http_wsgate_counter_e counter)
{
    if (ngx_http_wsgate_metrics_sh) {
        (void) ngx_atomic_fetch_add(
                             &ngx_http_wsgate_metrics_sh->counters[counter], 1);
    }
}


void
ngx_http_wsgate_metrics_latency(uint64_t usec)
{
    ngx_uint_t  i;

    if (ngx_http_wsgate_metrics_sh == NULL) {
        return;
    }

    for (i = 0; i < NGX_HTTP_WSGATE_METRICS_BUCKETS; i++) {
        if (usec <= ngx_http_wsgate_buckets[i]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&ngx_http_wsgate_metrics_sh->latency[i], 1);
    (void) ngx_atomic_fetch_add(&ngx_http_wsgate_metrics_sh->latency_usec,
                                (ngx_atomic_int_t) usec);
}


void
ngx_http_wsgate_metrics_redis_up(ngx_uint_t up)
{
    if (ngx_http_wsgate_metrics_slot) {
        ngx_http_wsgate_metrics_slot->up = up;
    }
}


uint64_t
ngx_http_wsgate_metrics_usec(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


char *
ngx_http_wsgate_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t     *clcf;
    ngx_http_wsgate_main_conf_t  *wmcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == ngx_http_wsgate_metrics_handler) {
        return "is duplicate";
    }

    clcf->handler = ngx_http_wsgate_metrics_handler;

    wmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_wsgate_module);
    wmcf->metrics_used = 1;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_wsgate_metrics_handler(ngx_http_request_t *r)
{
    u_char                            *p;
    size_t                             len;
    ngx_int_t                          rc;
    ngx_buf_t                         *b;
    ngx_str_t                          value;
    ngx_uint_t                         i, j;
    ngx_chain_t                        out;
    ngx_atomic_uint_t                  sum;
    ngx_http_wsgate_family_t          *f;
    ngx_http_wsgate_metrics_sh_t      *sh;
    ngx_http_wsgate_metrics_worker_t  *w;
    u_char                             pid[NGX_ATOMIC_T_LEN];

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    sh = ngx_http_wsgate_metrics_sh;

    if (sh == NULL) {
        /* no wsgate_redis in this configuration: nothing is counted */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "wsgate metrics: wsgate is not configured "
                      "(no \"wsgate_redis\")");
        return NGX_HTTP_NOT_FOUND;
    }

    /* an upper bound of the length */

    len = 0;

    for (i = 0; i < sizeof(ngx_http_wsgate_families)
                    / sizeof(ngx_http_wsgate_family_t); i++)
    {
        f = &ngx_http_wsgate_families[i];

        len += sizeof("# HELP  \n# TYPE  counter\n") - 1
               + 2 * ngx_strlen(f->name) + ngx_strlen(f->help)
               + f->n * (ngx_strlen(f->name) + sizeof("{=\"\"} \n") - 1
                         + (f->label ? ngx_strlen(f->label) + 16 : 0)
                         + NGX_ATOMIC_T_LEN);
    }

    len += sizeof("# HELP wsgate_redis_latency_seconds \n"
                  "# TYPE wsgate_redis_latency_seconds histogram\n") + 128
           + (NGX_HTTP_WSGATE_METRICS_BUCKETS + 1)
             * (sizeof("wsgate_redis_latency_seconds_bucket{le=\"0.00025\"} \n")
                + NGX_ATOMIC_T_LEN)
           + sizeof("wsgate_redis_latency_seconds_sum .000000\n")
           + sizeof("wsgate_redis_latency_seconds_count \n")
           + 2 * NGX_ATOMIC_T_LEN;

    len += sizeof("# HELP wsgate_redis_up \n# TYPE wsgate_redis_up gauge\n")
           + 128
           + NGX_HTTP_WSGATE_METRICS_WORKERS
             * (sizeof("wsgate_redis_up{pid=\"\"} 1\n") + NGX_ATOMIC_T_LEN);

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;

    for (i = 0; i < sizeof(ngx_http_wsgate_families)
                    / sizeof(ngx_http_wsgate_family_t); i++)
    {
        f = &ngx_http_wsgate_families[i];

        p = ngx_sprintf(p, "# HELP %s %s\n# TYPE %s counter\n",
                        f->name, f->help, f->name);

        for (j = 0; j < f->n; j++) {
            p = ngx_sprintf(p, "%s", f->name);

            if (f->label) {
                value.data = (u_char *) f->values[j];
                value.len = ngx_strlen(f->values[j]);

                p = ngx_sprintf(p, "{%s=", f->label);
                p = ngx_http_wsgate_metrics_label(p, &value);
                *p++ = '}';
            }

            p = ngx_sprintf(p, " %uA\n", sh->counters[f->first + j]);
        }
    }

    p = ngx_sprintf(p, "# HELP wsgate_redis_latency_seconds Time from a "
                    "command queued to its reply.\n"
                    "# TYPE wsgate_redis_latency_seconds histogram\n");

    sum = 0;

    for (i = 0; i <= NGX_HTTP_WSGATE_METRICS_BUCKETS; i++) {
        sum += sh->latency[i];

        p = ngx_sprintf(p, "wsgate_redis_latency_seconds_bucket{le=\"%s\"} "
                        "%uA\n",
                        i < NGX_HTTP_WSGATE_METRICS_BUCKETS
                        ? ngx_http_wsgate_bucket_names[i] : "+Inf",
                        sum);
    }

    p = ngx_sprintf(p, "wsgate_redis_latency_seconds_sum %uA.%06uA\n"
                    "wsgate_redis_latency_seconds_count %uA\n",
                    sh->latency_usec / 1000000, sh->latency_usec % 1000000,
                    sum);

    p = ngx_sprintf(p, "# HELP wsgate_redis_up Whether a worker's Redis "
                    "connection is ready (1) or not (0).\n"
                    "# TYPE wsgate_redis_up gauge\n");

    for (i = 0; i < NGX_HTTP_WSGATE_METRICS_WORKERS; i++) {
        w = &sh->workers[i];

        if (w->pid == 0
            || (kill((ngx_pid_t) w->pid, 0) == -1 && ngx_errno == NGX_ESRCH))
        {
            continue;
        }

        value.data = pid;
        value.len = ngx_sprintf(pid, "%uA", w->pid) - pid;

        p = ngx_sprintf(p, "wsgate_redis_up{pid=");
        p = ngx_http_wsgate_metrics_label(p, &value);
        p = ngx_sprintf(p, "} %d\n", w->up ? 1 : 0);
    }

    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* a label value, quoted and escaped as the text format wants: \\ \" \n */

static u_char *
ngx_http_wsgate_metrics_label(u_char *p, ngx_str_t *value)
{
    u_char  *s, *end;

    *p++ = '"';

    end = value->data + value->len;

    for (s = value->data; s < end; s++) {

        switch (*s) {

        case '\\':
        case '"':
            *p++ = '\\';
            *p++ = *s;
            break;

        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;

        default:
            *p++ = *s;
        }
    }

    *p++ = '"';

    return p;
}
