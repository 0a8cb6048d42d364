
/*
 * Copyright (C) wsgate authors
 *
 * The module's skeleton: directives, configuration, variables, phase
 * registration and the per-worker Redis client's lifetime.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_wsgate_module.h"


#define NGX_HTTP_WSGATE_REDIS_PORT             6379
#define NGX_HTTP_WSGATE_CONNECT_TIMEOUT        1000
#define NGX_HTTP_WSGATE_TIMEOUT                1000


static ngx_int_t ngx_http_wsgate_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_wsgate_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static void *ngx_http_wsgate_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_wsgate_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_wsgate_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_wsgate_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_wsgate_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_wsgate_redis_address(ngx_conf_t *cf,
    ngx_str_t *value, ngx_url_t *u);
static char *ngx_http_wsgate_redis_option(ngx_conf_t *cf,
    ngx_http_wsgate_redis_conf_t *rcf, ngx_str_t *value,
    ngx_str_t *password_file);
static char *ngx_http_wsgate_redis_password_file(ngx_conf_t *cf,
    ngx_http_wsgate_redis_conf_t *rcf, ngx_str_t *file);
static ngx_int_t ngx_http_wsgate_redis_ssl(ngx_conf_t *cf,
    ngx_http_wsgate_redis_conf_t *rcf);
static void ngx_http_wsgate_cleanup_secret(void *data);
static char *ngx_http_wsgate_system_prefixes(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_wsgate_system_namespace(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_wsgate_system_caller(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_wsgate_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_wsgate_init_process(ngx_cycle_t *cycle);
static void ngx_http_wsgate_exit_process(ngx_cycle_t *cycle);


static ngx_command_t  ngx_http_wsgate_commands[] = {

    { ngx_string("wsgate_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_wsgate_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("wsgate_redis_cluster"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_wsgate_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("wsgate_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_wsgate_cache,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("wsgate_key_prefix"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_wsgate_main_conf_t, key_prefix),
      NULL },

    { ngx_string("wsgate_wedge_window"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_wsgate_main_conf_t, wedge_window),
      NULL },

    { ngx_string("wsgate_restart_grace"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_wsgate_main_conf_t, restart_grace),
      NULL },

    { ngx_string("wsgate_system_prefixes"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_wsgate_system_prefixes,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("wsgate_system_namespace"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_wsgate_system_namespace,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("wsgate_system_caller"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_wsgate_system_caller,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("wsgate_auth"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_wsgate_loc_conf_t, auth),
      NULL },

    { ngx_string("wsgate_bind"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_wsgate_loc_conf_t, bind),
      NULL },

    { ngx_string("wsgate_register"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_wsgate_loc_conf_t, reg),
      NULL },

    { ngx_string("wsgate_restart"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_wsgate_loc_conf_t, restart),
      NULL },

    { ngx_string("wsgate_a2a"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_wsgate_loc_conf_t, a2a),
      NULL },

    { ngx_string("wsgate_a2a_validate"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_wsgate_loc_conf_t, a2a_validate),
      NULL },

    { ngx_string("wsgate_resolve_urls"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_wsgate_loc_conf_t, resolve_urls),
      NULL },

    { ngx_string("wsgate_hide_credentials"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_wsgate_loc_conf_t, hide_credentials),
      NULL },

    { ngx_string("wsgate_allow_private_urls"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_wsgate_loc_conf_t, allow_private_urls),
      NULL },

    { ngx_string("wsgate_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_wsgate_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("wsgate_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_wsgate_metrics,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_wsgate_module_ctx = {
    ngx_http_wsgate_add_variables,         /* preconfiguration */
    ngx_http_wsgate_init,                  /* postconfiguration */

    ngx_http_wsgate_create_main_conf,      /* create main configuration */
    ngx_http_wsgate_init_main_conf,        /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_wsgate_create_loc_conf,       /* create location configuration */
    ngx_http_wsgate_merge_loc_conf         /* merge location configuration */
};


ngx_module_t  ngx_http_wsgate_module = {
    NGX_MODULE_V1,
    &ngx_http_wsgate_module_ctx,           /* module context */
    ngx_http_wsgate_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_wsgate_init_process,          /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_wsgate_exit_process,          /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


#define NGX_HTTP_WSGATE_VAR_WORKSPACE     0
#define NGX_HTTP_WSGATE_VAR_KIND          1
#define NGX_HTTP_WSGATE_VAR_PREFIX        2
#define NGX_HTTP_WSGATE_VAR_AUTH_RESULT   3
#define NGX_HTTP_WSGATE_VAR_CALLER_ID     4
#define NGX_HTTP_WSGATE_VAR_CALLER_NAME   5
#define NGX_HTTP_WSGATE_VAR_CALLER_KIND   6
#define NGX_HTTP_WSGATE_VAR_REG_ERROR     7
#define NGX_HTTP_WSGATE_VAR_REG_STATE     8
#define NGX_HTTP_WSGATE_VAR_CACHE_STATUS  9


static ngx_http_variable_t  ngx_http_wsgate_vars[] = {

    { ngx_string("wsgate_workspace_id"), NULL, ngx_http_wsgate_variable,
      NGX_HTTP_WSGATE_VAR_WORKSPACE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("wsgate_token_kind"), NULL, ngx_http_wsgate_variable,
      NGX_HTTP_WSGATE_VAR_KIND, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("wsgate_token_prefix"), NULL, ngx_http_wsgate_variable,
      NGX_HTTP_WSGATE_VAR_PREFIX, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("wsgate_auth_result"), NULL, ngx_http_wsgate_variable,
      NGX_HTTP_WSGATE_VAR_AUTH_RESULT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("wsgate_caller_id"), NULL, ngx_http_wsgate_variable,
      NGX_HTTP_WSGATE_VAR_CALLER_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("wsgate_caller_name"), NULL, ngx_http_wsgate_variable,
      NGX_HTTP_WSGATE_VAR_CALLER_NAME, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("wsgate_caller_kind"), NULL, ngx_http_wsgate_variable,
      NGX_HTTP_WSGATE_VAR_CALLER_KIND, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("wsgate_register_error"), NULL, ngx_http_wsgate_variable,
      NGX_HTTP_WSGATE_VAR_REG_ERROR, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("wsgate_registration_state"), NULL,
      ngx_http_wsgate_variable, NGX_HTTP_WSGATE_VAR_REG_STATE,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("wsgate_cache_status"), NULL, ngx_http_wsgate_variable,
      NGX_HTTP_WSGATE_VAR_CACHE_STATUS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_str_t  ngx_http_wsgate_auth_results[] = {
    ngx_string(""),
    ngx_string("ok"),
    ngx_string("missing"),
    ngx_string("invalid"),
    ngx_string("mismatch"),
    ngx_string("unavailable")
};


static ngx_str_t  ngx_http_wsgate_cache_statuses[] = {
    ngx_null_string,
    ngx_string("HIT"),
    ngx_string("MISS"),
    ngx_string("BYPASS"),
    ngx_string("STALE")
};


static ngx_str_t  ngx_http_wsgate_kinds[] = {
    ngx_string(""),
    ngx_string("workspace"),
    ngx_string("system")
};


static const char  *ngx_http_wsgate_default_prefixes[] = {
    "system:", "webhook:", "channel:", "test:", NULL
};


/* RFC 4122 NameSpace_URL, 6ba7b811-9dad-11d1-80b4-00c04fd430c8 */

static u_char  ngx_http_wsgate_url_namespace[16] = {
    0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
    0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8
};


static ngx_int_t
ngx_http_wsgate_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_wsgate_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_wsgate_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_str_t              *s;
    ngx_http_wsgate_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_wsgate_module);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    switch (data) {

    case NGX_HTTP_WSGATE_VAR_WORKSPACE:
        s = &ctx->workspace;
        break;

    case NGX_HTTP_WSGATE_VAR_KIND:
        s = &ngx_http_wsgate_kinds[ctx->kind];
        break;

    case NGX_HTTP_WSGATE_VAR_PREFIX:
        v->len = ctx->prefix_len;
        v->data = ctx->prefix;
        goto found;

    case NGX_HTTP_WSGATE_VAR_CALLER_ID:
        s = &ctx->caller_id;
        break;

    case NGX_HTTP_WSGATE_VAR_CALLER_NAME:
        s = &ctx->caller_name;
        break;

    case NGX_HTTP_WSGATE_VAR_CALLER_KIND:
        s = &ngx_http_wsgate_kinds[ctx->caller_kind];
        break;

    case NGX_HTTP_WSGATE_VAR_REG_ERROR:
        s = &ctx->register_error;
        break;

    case NGX_HTTP_WSGATE_VAR_CACHE_STATUS:
        s = &ngx_http_wsgate_cache_statuses[ctx->cache_status];
        break;

    case NGX_HTTP_WSGATE_VAR_REG_STATE:
        v->data = (u_char *) ngx_http_wsgate_state_name(ctx->state);
        v->len = ngx_strlen(v->data);
        goto found;

    default: /* NGX_HTTP_WSGATE_VAR_AUTH_RESULT */
        s = &ngx_http_wsgate_auth_results[ctx->auth_result];
        break;
    }

    v->len = s->len;
    v->data = s->data;

found:

    if (v->len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


static void *
ngx_http_wsgate_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_wsgate_main_conf_t  *wmcf;

    wmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_wsgate_main_conf_t));
    if (wmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     wmcf->redis = NULL;
     *     wmcf->key_prefix = { 0, NULL };
     *     wmcf->system_prefixes = NULL;
     *     wmcf->system_namespace_set = 0;
     *     wmcf->system_callers = NULL;
     *     wmcf->client = NULL;
     *     wmcf->cache = NULL;
     *     wmcf->used = 0;
     */

    wmcf->wedge_window = NGX_CONF_UNSET_MSEC;
    wmcf->restart_grace = NGX_CONF_UNSET_MSEC;

    return wmcf;
}


static char *
ngx_http_wsgate_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_wsgate_main_conf_t  *wmcf = conf;

    ngx_uint_t                        i;
    ngx_http_wsgate_system_caller_t  *sc;

    if (wmcf->key_prefix.data == NULL) {
        ngx_str_set(&wmcf->key_prefix, "wsgate:");
    }

    if (wmcf->cache && wmcf->redis == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"wsgate_cache\" needs \"wsgate_redis\"");
        return NGX_CONF_ERROR;
    }


    if (wmcf->redis || wmcf->metrics_used) {
        wmcf->metrics = ngx_http_wsgate_metrics_init_conf(cf);
        if (wmcf->metrics == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    ngx_conf_init_msec_value(wmcf->wedge_window, 5 * 60 * 1000);
    ngx_conf_init_msec_value(wmcf->restart_grace, 2 * 60 * 1000);

    if (wmcf->system_prefixes == NULL) {
        wmcf->system_prefixes = ngx_http_wsgate_default_prefixes;
        wmcf->nsystem_prefixes = 4;
    }

    if (!wmcf->system_namespace_set) {
        ngx_memcpy(wmcf->system_namespace, ngx_http_wsgate_url_namespace, 16);
    }

    if (wmcf->system_callers) {
        sc = wmcf->system_callers->elts;

        for (i = 0; i < wmcf->system_callers->nelts; i++) {
            if (!ngx_http_wsgate_is_system_name(sc[i].name.data,
                                                sc[i].name.len,
                                                wmcf->system_prefixes,
                                                wmcf->nsystem_prefixes))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "system caller \"%V\" has none of "
                                   "the system prefixes", &sc[i].name);
                return NGX_CONF_ERROR;
            }
        }
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_wsgate_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_wsgate_loc_conf_t  *wlcf;

    wlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_wsgate_loc_conf_t));
    if (wlcf == NULL) {
        return NULL;
    }

    wlcf->auth = NGX_CONF_UNSET;
    wlcf->bind = NGX_CONF_UNSET_PTR;
    wlcf->reg = NGX_CONF_UNSET;
    wlcf->restart = NGX_CONF_UNSET_PTR;
    wlcf->a2a = NGX_CONF_UNSET;
    wlcf->a2a_validate = NGX_CONF_UNSET;
    wlcf->allow_private_urls = NGX_CONF_UNSET;
    wlcf->resolve_urls = NGX_CONF_UNSET;
    wlcf->hide_credentials = NGX_CONF_UNSET;

    /*
     * set by ngx_pcalloc():
     *
     *     wlcf->status = NULL;
     */

    return wlcf;
}


static char *
ngx_http_wsgate_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_wsgate_loc_conf_t *prev = parent;
    ngx_http_wsgate_loc_conf_t *conf = child;

    ngx_http_wsgate_main_conf_t  *wmcf;

    ngx_conf_merge_value(conf->auth, prev->auth, 0);
    ngx_conf_merge_ptr_value(conf->bind, prev->bind, NULL);
    ngx_conf_merge_value(conf->reg, prev->reg, 0);
    ngx_conf_merge_ptr_value(conf->restart, prev->restart, NULL);
    ngx_conf_merge_value(conf->a2a, prev->a2a, 0);
    ngx_conf_merge_value(conf->a2a_validate, prev->a2a_validate, 0);
    ngx_conf_merge_value(conf->allow_private_urls, prev->allow_private_urls,
                         0);
    ngx_conf_merge_value(conf->resolve_urls, prev->resolve_urls, 0);
    ngx_conf_merge_value(conf->hide_credentials, prev->hide_credentials, 0);

    if ((conf->reg || conf->a2a) && !conf->auth) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" requires \"wsgate_auth on\"",
                           conf->reg ? "wsgate_register" : "wsgate_a2a");
        return NGX_CONF_ERROR;
    }

    if (conf->reg && conf->a2a) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"wsgate_register\" and \"wsgate_a2a\" "
                           "cannot front the same location");
        return NGX_CONF_ERROR;
    }

    if (conf->auth || conf->restart || conf->status) {
        wmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_wsgate_module);

        if (wmcf->redis == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%s\" requires \"wsgate_redis\" "
                               "in the http block",
                               conf->auth ? "wsgate_auth"
                               : conf->restart ? "wsgate_restart"
                                               : "wsgate_status");
            return NGX_CONF_ERROR;
        }

        wmcf->used = 1;
    }

    return NGX_CONF_OK;
}


/*
 * wsgate_redis <host:port|unix:/path> [db=N] [user=U]
 *     [password=P | password_file=F] [connect_timeout=T] [timeout=T]
 *     [tls] [tls_verify] [tls_name=N] [tls_ca=F];
 */

static char *
ngx_http_wsgate_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_wsgate_main_conf_t  *wmcf = conf;

    char                          *rv;
    u_char                        *name;
    ngx_str_t                     *value, password_file;
    ngx_url_t                      u, seed;
    ngx_uint_t                     i, cluster;
    ngx_addr_t                    *addr;
    ngx_http_wsgate_redis_conf_t  *rcf;
#if (NGX_HAVE_INET6)
    u_char                         inaddr6[16];
#endif

    cluster = (cmd->name.len == sizeof("wsgate_redis_cluster") - 1);

    if (wmcf->redis != NULL) {
        if ((wmcf->redis->seeds != NULL) == cluster) {
            return "is duplicate";
        }

        return cluster ? "cannot be used with \"wsgate_redis\""
                       : "cannot be used with \"wsgate_redis_cluster\"";
    }

    rcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_wsgate_redis_conf_t));
    if (rcf == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    if (ngx_http_wsgate_redis_address(cf, &value[1], &u) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    rcf->addr = &u.addrs[0];
    rcf->name = u.addrs[0].name;
    rcf->db = NGX_CONF_UNSET;
    rcf->connect_timeout = NGX_CONF_UNSET_MSEC;
    rcf->timeout = NGX_CONF_UNSET_MSEC;

    i = 2;

    if (cluster) {

        /* the seeds: every argument up to the first option */

        rcf->seeds = ngx_array_create(cf->pool, 4, sizeof(ngx_addr_t));
        if (rcf->seeds == NULL) {
            return NGX_CONF_ERROR;
        }

        for (i = 1; i < cf->args->nelts; i++) {
            if (ngx_strlchr(value[i].data, value[i].data + value[i].len, '=')
                || ngx_strcmp(value[i].data, "tls") == 0
                || ngx_strcmp(value[i].data, "tls_verify") == 0)
            {
                break;
            }

            if (i > 1
                && ngx_http_wsgate_redis_address(cf, &value[i], &seed)
                   != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            addr = ngx_array_push(rcf->seeds);
            if (addr == NULL) {
                return NGX_CONF_ERROR;
            }

            *addr = (i > 1) ? seed.addrs[0] : u.addrs[0];

            if (addr->sockaddr->sa_family == AF_UNIX) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "redis cluster node \"%V\" is a unix "
                                   "socket: cluster nodes are TCP "
                                   "addresses", &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        rcf->addr = rcf->seeds->elts;
    }

    ngx_str_null(&password_file);

    for ( /* void */ ; i < cf->args->nelts; i++) {
        rv = ngx_http_wsgate_redis_option(cf, rcf, &value[i], &password_file);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    if (password_file.len) {
        if (rcf->password.len) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"password\" and \"password_file\" "
                               "are mutually exclusive");
            return NGX_CONF_ERROR;
        }

        rv = ngx_http_wsgate_redis_password_file(cf, rcf, &password_file);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    if (rcf->user.len && rcf->password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "redis \"user\" needs \"password\" "
                           "or \"password_file\"");
        return NGX_CONF_ERROR;
    }

    if (rcf->tls_verify && !rcf->tls) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "redis \"tls_verify\" needs \"tls\"");
        return NGX_CONF_ERROR;
    }

    if (rcf->tls && rcf->addr->sockaddr->sa_family == AF_UNIX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "redis \"tls\" is not supported on "
                           "a unix socket");
        return NGX_CONF_ERROR;
    }

    if (rcf->db == NGX_CONF_UNSET) {
        rcf->db = 0;
    }

    if (cluster && rcf->db != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "a redis cluster has no \"db\" but 0");
        return NGX_CONF_ERROR;
    }

    if (rcf->connect_timeout == NGX_CONF_UNSET_MSEC) {
        rcf->connect_timeout = NGX_HTTP_WSGATE_CONNECT_TIMEOUT;
    }

    if (rcf->timeout == NGX_CONF_UNSET_MSEC) {
        rcf->timeout = NGX_HTTP_WSGATE_TIMEOUT;
    }

    if (rcf->tls) {
        if (rcf->tls_name.len == 0) {
            rcf->tls_name = u.host;
        }

        name = ngx_pnalloc(cf->pool, rcf->tls_name.len + 1);
        if (name == NULL) {
            return NGX_CONF_ERROR;
        }

        *ngx_cpymem(name, rcf->tls_name.data, rcf->tls_name.len) = '\0';
        rcf->tls_name.data = name;

        rcf->tls_sni = (ngx_inet_addr(name, rcf->tls_name.len) == INADDR_NONE);

#if (NGX_HAVE_INET6)
        if (rcf->tls_sni
            && ngx_inet6_addr(name, rcf->tls_name.len, inaddr6) == NGX_OK)
        {
            rcf->tls_sni = 0;
        }
#endif

        if (ngx_http_wsgate_redis_ssl(cf, rcf) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    wmcf->redis = rcf;

    return NGX_CONF_OK;
}


/* one "host:port" or "unix:/path": its first address */

static ngx_int_t
ngx_http_wsgate_redis_address(ngx_conf_t *cf, ngx_str_t *value, ngx_url_t *u)
{
    ngx_memzero(u, sizeof(ngx_url_t));

    u->url = *value;
    u->default_port = NGX_HTTP_WSGATE_REDIS_PORT;

    if (ngx_parse_url(cf->pool, u) != NGX_OK) {
        if (u->err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in redis address \"%V\"", u->err,
                               &u->url);
        }

        return NGX_ERROR;
    }

    if (u->naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no address for redis \"%V\"", &u->url);
        return NGX_ERROR;
    }

    if (u->naddrs > 1) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "redis \"%V\" resolves to %ui addresses, "
                           "using %V", &u->url, u->naddrs,
                           &u->addrs[0].name);
    }

    return NGX_OK;
}


static char *
ngx_http_wsgate_redis_option(ngx_conf_t *cf, ngx_http_wsgate_redis_conf_t *rcf,
    ngx_str_t *value, ngx_str_t *password_file)
{
    u_char      *eq;
    ngx_str_t    name, s;
    ngx_msec_t  *msp;

    if (ngx_strcmp(value->data, "tls") == 0) {
        rcf->tls = 1;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value->data, "tls_verify") == 0) {
        rcf->tls_verify = 1;
        return NGX_CONF_OK;
    }

    eq = ngx_strlchr(value->data, value->data + value->len, '=');

    if (eq == NULL) {
        goto invalid;
    }

    name.data = value->data;
    name.len = eq - value->data;
    s.data = eq + 1;
    s.len = value->data + value->len - s.data;

    if (s.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "empty value in redis option \"%V\"", value);
        return NGX_CONF_ERROR;
    }

    if (name.len == 2 && ngx_strncmp(name.data, "db", 2) == 0) {
        rcf->db = ngx_atoi(s.data, s.len);

        if (rcf->db == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid redis db \"%V\"", value);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (name.len == 4 && ngx_strncmp(name.data, "user", 4) == 0) {
        rcf->user = s;
        return NGX_CONF_OK;
    }

    if (name.len == 8 && ngx_strncmp(name.data, "password", 8) == 0) {
        rcf->password = s;
        return NGX_CONF_OK;
    }

    if (name.len == 13 && ngx_strncmp(name.data, "password_file", 13) == 0) {
        *password_file = s;
        return NGX_CONF_OK;
    }

    if (name.len == 8 && ngx_strncmp(name.data, "tls_name", 8) == 0) {
        rcf->tls_name = s;
        return NGX_CONF_OK;
    }

    if (name.len == 6 && ngx_strncmp(name.data, "tls_ca", 6) == 0) {
        rcf->tls_ca = s;
        return NGX_CONF_OK;
    }

    if (name.len == 15 && ngx_strncmp(name.data, "connect_timeout", 15) == 0)
    {
        msp = &rcf->connect_timeout;

    } else if (name.len == 7 && ngx_strncmp(name.data, "timeout", 7) == 0) {
        msp = &rcf->timeout;

    } else {
        goto invalid;
    }

    *msp = ngx_parse_time(&s, 0);

    if (*msp == (ngx_msec_t) NGX_ERROR || *msp == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid redis timeout \"%V\"", value);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid redis option \"%V\"", value);
    return NGX_CONF_ERROR;
}


static char *
ngx_http_wsgate_redis_password_file(ngx_conf_t *cf,
    ngx_http_wsgate_redis_conf_t *rcf, ngx_str_t *file)
{
    u_char              *p, *last;
    ssize_t              n;
    ngx_fd_t             fd;
    ngx_file_info_t      fi;
    ngx_pool_cleanup_t  *cln;

    if (ngx_conf_full_name(cf->cycle, file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(file->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", file);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > 4096)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "redis password file \"%V\" is not readable "
                           "or larger than 4096 bytes", file);
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    p = ngx_pnalloc(cf->pool, 4096);
    if (p == NULL) {
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_wsgate_cleanup_secret;
    cln->data = &rcf->password;

    n = ngx_read_fd(fd, p, 4096);

    ngx_close_file(fd);

    if (n == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%V\" failed", file);
        return NGX_CONF_ERROR;
    }

    last = p + n;

    while (last > p && (last[-1] == LF || last[-1] == CR)) {
        last--;
    }

    if (last == p) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "redis password file \"%V\" is empty", file);
        return NGX_CONF_ERROR;
    }

    rcf->password.data = p;
    rcf->password.len = last - p;

    return NGX_CONF_OK;
}


static void
ngx_http_wsgate_cleanup_secret(void *data)
{
    ngx_str_t  *s = data;

    if (s->len) {
        ngx_explicit_memzero(s->data, s->len);
    }
}


static ngx_int_t
ngx_http_wsgate_redis_ssl(ngx_conf_t *cf, ngx_http_wsgate_redis_conf_t *rcf)
{
    ngx_pool_cleanup_t  *cln;

    rcf->ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (rcf->ssl == NULL) {
        return NGX_ERROR;
    }

    rcf->ssl->log = cf->log;

    if (ngx_ssl_create(rcf->ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(rcf->ssl);
        return NGX_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = rcf->ssl;

    if (!rcf->tls_verify) {
        return NGX_OK;
    }

    if (rcf->tls_ca.len == 0) {
        if (SSL_CTX_set_default_verify_paths(rcf->ssl->ctx) == 0) {
            ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                          "SSL_CTX_set_default_verify_paths() failed");
            return NGX_ERROR;
        }
    }

    return ngx_ssl_trusted_certificate(cf, rcf->ssl, &rcf->tls_ca, 4);
}


static char *
ngx_http_wsgate_system_prefixes(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_wsgate_main_conf_t  *wmcf = conf;

    ngx_str_t    *value;
    ngx_uint_t    i;
    const char  **p;

    if (wmcf->system_prefixes != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    p = ngx_palloc(cf->pool, cf->args->nelts * sizeof(char *));
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "empty system caller prefix");
            return NGX_CONF_ERROR;
        }

        /* cf->args strings end with '\0' */
        p[i - 1] = (const char *) value[i].data;
    }

    p[cf->args->nelts - 1] = NULL;

    wmcf->system_prefixes = p;
    wmcf->nsystem_prefixes = cf->args->nelts - 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_wsgate_system_namespace(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_wsgate_main_conf_t  *wmcf = conf;

    ngx_str_t  *value;

    if (wmcf->system_namespace_set) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_wsgate_uuid_parse(value[1].data, value[1].len,
                                   wmcf->system_namespace)
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid namespace UUID \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    wmcf->system_namespace_set = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_wsgate_system_caller(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_wsgate_main_conf_t  *wmcf = conf;

    u_char                            uuid[16];
    ngx_str_t                        *value;
    ngx_uint_t                        i;
    ngx_http_wsgate_system_caller_t  *sc;

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "empty system caller name");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_wsgate_uuid_parse(value[2].data, value[2].len, uuid) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid UUID \"%V\" for system caller \"%V\"",
                           &value[2], &value[1]);
        return NGX_CONF_ERROR;
    }

    if (wmcf->system_callers == NULL) {
        wmcf->system_callers = ngx_array_create(cf->pool, 4,
                                       sizeof(ngx_http_wsgate_system_caller_t));
        if (wmcf->system_callers == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    sc = wmcf->system_callers->elts;

    for (i = 0; i < wmcf->system_callers->nelts; i++) {
        if (sc[i].name.len == value[1].len
            && ngx_strncmp(sc[i].name.data, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate system caller \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    sc = ngx_array_push(wmcf->system_callers);
    if (sc == NULL) {
        return NGX_CONF_ERROR;
    }

    sc->name = value[1];
    ngx_http_wsgate_uuid_format(uuid, sc->uuid);

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_wsgate_init(ngx_conf_t *cf)
{
    ngx_http_wsgate_main_conf_t  *wmcf;

    wmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_wsgate_module);

    if (!wmcf->used) {
        return NGX_OK;
    }

    if (ngx_http_wsgate_access_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_wsgate_outcome_init(cf);
}


static ngx_int_t
ngx_http_wsgate_init_process(ngx_cycle_t *cycle)
{
    ngx_http_wsgate_main_conf_t  *wmcf;

    if (cycle->conf_ctx[ngx_http_module.index] == NULL) {
        return NGX_OK;
    }

    wmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_wsgate_module);

    if (wmcf && wmcf->metrics) {
        ngx_http_wsgate_metrics_init_process(cycle, wmcf->metrics);
    }

    if (wmcf == NULL || wmcf->redis == NULL || !wmcf->used) {
        return NGX_OK;
    }

    if (wmcf->redis->seeds) {
        wmcf->cluster = ngx_http_wsgate_cluster_create(cycle, wmcf->redis);
        if (wmcf->cluster == NULL) {
            return NGX_ERROR;
        }

    } else {
        wmcf->client = ngx_http_wsgate_redis_create(cycle, wmcf->redis,
                                                    "wsgate");
        if (wmcf->client == NULL) {
            return NGX_ERROR;
        }

        ngx_http_wsgate_redis_set_gauge(wmcf->client);
    }

    if (wmcf->cache
        && ngx_http_wsgate_cache_init_process(wmcf->cache, cycle, wmcf->redis,
                                              wmcf->client, wmcf->cluster,
                                              &wmcf->key_prefix)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_wsgate_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_wsgate_main_conf_t  *wmcf;

    if (cycle->conf_ctx[ngx_http_module.index] == NULL) {
        return;
    }

    wmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_wsgate_module);

    if (wmcf != NULL && wmcf->cache != NULL) {
        ngx_http_wsgate_cache_exit_process(wmcf->cache);
    }

    if (wmcf != NULL && wmcf->client != NULL) {
        ngx_http_wsgate_redis_destroy(wmcf->client);
        wmcf->client = NULL;
    }

    if (wmcf != NULL && wmcf->cluster != NULL) {
        ngx_http_wsgate_cluster_destroy(wmcf->cluster);
        wmcf->cluster = NULL;
    }

    ngx_http_wsgate_metrics_exit_process();
}
