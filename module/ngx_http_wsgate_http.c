
/*
 * Copyright (C) wsgate authors
 *
 * Request helpers shared by the driver and the steps: commands, keys and
 * times for Redis, request header rewriting, and JSON answers.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_wsgate_module.h"


static ngx_uint_t ngx_http_wsgate_has_header(ngx_http_request_t *r,
    ngx_str_t *names, ngx_uint_t n);


void *
ngx_http_wsgate_send(ngx_http_wsgate_main_conf_t *wmcf, ngx_uint_t argc,
    ngx_str_t *argv, ngx_http_wsgate_redis_handler_pt handler, void *data,
    ngx_http_wsgate_redis_status_e *status)
{
    if (wmcf->cluster) {
        return ngx_http_wsgate_cluster_send(wmcf->cluster, argc, argv,
                                            handler, data, status);
    }

    return ngx_http_wsgate_redis_send(wmcf->client, argc, argv, handler, data,
                                      status);
}


void
ngx_http_wsgate_cancel(ngx_http_wsgate_main_conf_t *wmcf, void *op)
{
    if (wmcf->cluster) {
        ngx_http_wsgate_cluster_cancel(op);

    } else {
        ngx_http_wsgate_redis_cancel(op);
    }
}


void
ngx_http_wsgate_push(ngx_http_wsgate_main_conf_t *wmcf)
{
    if (wmcf->cluster) {
        ngx_http_wsgate_cluster_push(wmcf->cluster);

    } else {
        ngx_http_wsgate_redis_push(wmcf->client);
    }
}


ngx_msec_t
ngx_http_wsgate_now_ms(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (ngx_msec_t) tp->sec * 1000 + tp->msec;
}


ngx_msec_t
ngx_http_wsgate_atoms(ngx_str_t *s)
{
    off_t  n;

    n = ngx_atoof(s->data, s->len);

    return (n == NGX_ERROR) ? 0 : (ngx_msec_t) n;
}


ngx_int_t
ngx_http_wsgate_make_key(ngx_http_request_t *r, ngx_http_wsgate_key_e kind,
    ngx_str_t *id, ngx_str_t *key)
{
    size_t                        len;
    ngx_http_wsgate_main_conf_t  *wmcf;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_wsgate_module);

    len = ngx_http_wsgate_key_len(kind, wmcf->key_prefix.len, id->len);

    key->data = ngx_pnalloc(r->pool, len);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    key->len = ngx_http_wsgate_key(key->data, kind, wmcf->key_prefix.data,
                                   wmcf->key_prefix.len, id->data, id->len)
               - key->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_wsgate_log_escape(ngx_pool_t *pool, ngx_str_t *src, ngx_str_t *dst)
{
    u_char      *p, *start, c;
    size_t       n;
    ngx_uint_t   i;

    n = 0;

    for (i = 0; i < src->len; i++) {
        c = src->data[i];

        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
            n++;
        }
    }

    if (n == 0) {
        *dst = *src;
        return NGX_OK;
    }

    start = ngx_pnalloc(pool, src->len + n * 3);
    if (start == NULL) {
        return NGX_ERROR;
    }

    p = start;

    for (i = 0; i < src->len; i++) {
        c = src->data[i];

        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
            p = ngx_sprintf(p, "\\x%02Xd", (int) c);

        } else {
            *p++ = c;
        }
    }

    /* dst may be src itself */

    dst->data = start;
    dst->len = p - start;

    return NGX_OK;
}


ngx_int_t
ngx_http_wsgate_send_json(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = body->len;

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_wsgate_json_string(ngx_pool_t *pool, ngx_str_t *s, ngx_str_t *out)
{
    u_char      *p, *start, c;
    size_t       len;
    ngx_uint_t   i;

    len = 2;

    for (i = 0; i < s->len; i++) {
        c = s->data[i];
        len += (c == '"' || c == '\\') ? 2 : (c < 0x20) ? 6 : 1;
    }

    start = ngx_pnalloc(pool, len);
    if (start == NULL) {
        return NGX_ERROR;
    }

    p = start;

    *p++ = '"';

    for (i = 0; i < s->len; i++) {
        c = s->data[i];

        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = c;

        } else if (c < 0x20) {
            p = ngx_cpymem(p, "\\u00", sizeof("\\u00") - 1);
            p = ngx_http_wsgate_hex_dump(p, &c, 1);

        } else {
            *p++ = c;
        }
    }

    *p = '"';

    /* out may be s itself */

    out->data = start;
    out->len = len;

    return NGX_OK;
}


/*
 * 1 if a request header line has one of the n names; runs for every
 * request, so the lengths are compared first
 */

static ngx_uint_t
ngx_http_wsgate_has_header(ngx_http_request_t *r, ngx_str_t *names,
    ngx_uint_t n)
{
    ngx_uint_t        i, k;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return 0;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        for (k = 0; k < n; k++) {
            if (h[i].key.len == names[k].len
                && ngx_http_wsgate_header_is(&h[i], &names[k]))
            {
                return 1;
            }
        }
    }
}


/*
 * proxy_pass forwards every line of headers_in.headers, so removing lines
 * means rebuilding the list without them, in one pass for all the names.
 * The typed pointers in headers_in (host, authorization, ...) keep pointing
 * at the old lines, which stay in r->pool with the same values.
 */

ngx_int_t
ngx_http_wsgate_remove_headers(ngx_http_request_t *r, ngx_str_t *names,
    ngx_uint_t n)
{
    ngx_uint_t        i, k;
    ngx_list_t        headers;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *nh;

    if (!ngx_http_wsgate_has_header(r, names, n)) {
        /* the usual case: nothing to remove, no copy */
        return NGX_OK;
    }

    if (ngx_list_init(&headers, r->pool, 20, sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        for (k = 0; k < n; k++) {
            if (ngx_http_wsgate_header_is(&h[i], &names[k])) {
                break;
            }
        }

        if (k < n) {
            continue;
        }

        nh = ngx_list_push(&headers);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        *nh = h[i];
    }

    r->headers_in.headers = headers;

    /* a one-part list's "last" pointed into the local copy */

    if (headers.last == &headers.part) {
        r->headers_in.headers.last = &r->headers_in.headers.part;
    }

    return NGX_OK;
}


/*
 * The line's name is name in any case, "_" standing for "-": with
 * underscores_in_headers on, nginx's own $http_x_workspace_id reads
 * X_Workspace_ID too, so it must count as the same header.
 */

ngx_uint_t
ngx_http_wsgate_header_is(ngx_table_elt_t *h, ngx_str_t *name)
{
    u_char      a, b;
    ngx_uint_t  i;

    if (h->key.len != name->len) {
        return 0;
    }

    for (i = 0; i < name->len; i++) {
        a = ngx_tolower(h->key.data[i]);
        b = ngx_tolower(name->data[i]);

        if (a == '_') {
            a = '-';
        }

        if (a != b) {
            return 0;
        }
    }

    return 1;
}


ngx_int_t
ngx_http_wsgate_set_header(ngx_http_request_t *r, ngx_str_t *key,
    ngx_str_t *value)
{
    u_char           *p;
    ngx_table_elt_t  *h;

    if (ngx_http_wsgate_remove_headers(r, key, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    h = ngx_list_push(&r->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, key->len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h->key = *key;
    h->value = *value;
    h->lowcase_key = p;
    ngx_strlow(p, key->data, key->len);
    h->hash = ngx_hash_key(p, key->len);
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}
