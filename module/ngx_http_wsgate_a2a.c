
/*
 * Copyright (C) wsgate authors
 *
 * A2A fronting: caller verification and system-caller rewriting.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_wsgate_module.h"


ngx_int_t
ngx_http_wsgate_a2a_access(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx)
{
    return NGX_OK;
}
