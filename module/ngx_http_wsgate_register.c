
/*
 * Copyright (C) wsgate authors
 *
 * /registry/register fronting: payload checks, outcome records, state.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_wsgate_module.h"
#include "ngx_http_wsgate_check.h"


ngx_int_t
ngx_http_wsgate_register_access(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx)
{
    return NGX_OK;
}


ngx_int_t
ngx_http_wsgate_register_init(ngx_conf_t *cf)
{
    return NGX_OK;
}


char *
ngx_http_wsgate_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return NGX_CONF_OK;
}
