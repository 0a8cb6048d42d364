
/*
 * Copyright (C) wsgate authors
 */


#ifndef _NGX_HTTP_WSGATE_MODULE_H_INCLUDED_
#define _NGX_HTTP_WSGATE_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_wsgate_redis.h"
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


typedef struct {
    ngx_http_wsgate_redis_conf_t   *redis;
    ngx_str_t                       key_prefix;

    /* per worker, made in init_process */
    ngx_http_wsgate_redis_t        *client;

    ngx_flag_t                      used;
} ngx_http_wsgate_main_conf_t;


typedef struct {
    ngx_flag_t                      auth;
    ngx_http_complex_value_t       *bind;
} ngx_http_wsgate_loc_conf_t;


typedef struct {
    ngx_uint_t                      auth_result;
    ngx_uint_t                      kind;

    ngx_str_t                       workspace;     /* token's workspace */
    ngx_str_t                       name;          /* system token's name */
    u_char                          prefix[NGX_HTTP_WSGATE_PREFIX_LEN];
    size_t                          prefix_len;

    /* the pending Redis lookup; NULL when none */
    ngx_http_wsgate_redis_op_t     *op;
    ngx_http_request_t             *request;

    unsigned                        waiting:1;
} ngx_http_wsgate_ctx_t;


extern ngx_module_t  ngx_http_wsgate_module;


ngx_int_t ngx_http_wsgate_auth_init(ngx_conf_t *cf);
ngx_int_t ngx_http_wsgate_auth_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_wsgate_send_json(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *body);


#endif /* _NGX_HTTP_WSGATE_MODULE_H_INCLUDED_ */
