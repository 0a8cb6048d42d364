
/*
 * Copyright (C) wsgate authors
 *
 * Request helpers shared by the access checks: the whole request body in
 * one buffer, request header rewriting, and JSON answers.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_wsgate_module.h"


static void ngx_http_wsgate_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_wsgate_body_join(ngx_http_request_t *r,
    ngx_http_wsgate_ctx_t *ctx);


/* the request's wsgate context, made on first use */

ngx_http_wsgate_ctx_t *
ngx_http_wsgate_get_ctx(ngx_http_request_t *r)
{
    ngx_http_wsgate_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_wsgate_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_wsgate_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        ctx->request = r;

        ngx_http_set_ctx(r, ctx, ngx_http_wsgate_module);
    }

    return ctx;
}


ngx_int_t
ngx_http_wsgate_read_body(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx)
{
    ngx_int_t  rc;

    if (ctx->body_read) {
        return NGX_OK;
    }

    if (r->request_body == NULL) {

        /* keep the body for proxy_pass after we looked at it */
        r->request_body_in_persistent_file = 1;
        r->request_body_in_clean_file = 1;

        rc = ngx_http_read_client_request_body(r,
                                               ngx_http_wsgate_body_handler);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        /* the read holds a reference of its own until the handler runs */
        ngx_http_finalize_request(r, NGX_DONE);

        return NGX_DONE;
    }

    if (!ctx->body_done) {
        /* still reading: the body handler resumes the phases */
        return NGX_DONE;
    }

    if (ngx_http_wsgate_body_join(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->body_read = 1;

    return NGX_OK;
}


/*
 * The whole body is in (called at once when there is none: then nginx
 * leaves request_body->rest at -1, so only this handler can tell).
 */

static void
ngx_http_wsgate_body_handler(ngx_http_request_t *r)
{
    ngx_http_wsgate_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_wsgate_module);

    if (ctx != NULL) {
        ctx->body_done = 1;
    }

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


static ngx_int_t
ngx_http_wsgate_body_join(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx)
{
    u_char       *p;
    off_t         size;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    size = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        size += b->in_file ? b->file_last - b->file_pos : b->last - b->pos;
    }

    ctx->body.len = (size_t) size;

    if (size == 0) {
        ngx_str_set(&ctx->body, "");
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, (size_t) size);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->body.data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
            if (b->last != b->pos) {
                p = ngx_cpymem(p, b->pos, b->last - b->pos);
            }

            continue;
        }

        if (b->file_last == b->file_pos) {
            continue;
        }

        n = ngx_read_file(b->file, p, (size_t) (b->file_last - b->file_pos),
                          b->file_pos);

        if (n != b->file_last - b->file_pos) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "wsgate: could not read the request body back "
                          "from \"%V\"", &b->file->name);
            return NGX_ERROR;
        }

        p += n;
    }

    return NGX_OK;
}


/*
 * The access phase waits for a Redis reply: the operation is the
 * request's until the reply or the request's cleanup, and a client that
 * leaves meanwhile is noticed (and the request terminated) at once.
 */

ngx_int_t
ngx_http_wsgate_wait(ngx_http_request_t *r, ngx_http_wsgate_ctx_t *ctx,
    ngx_http_wsgate_redis_op_t *op)
{
    ctx->op = op;
    r->read_event_handler = ngx_http_test_reading;

    return NGX_AGAIN;
}


/*
 * The awaited reply came (from another connection's event): go on with
 * the phases, then with whatever they posted, as ngx_http_upstream does.
 * Neither r nor ctx may be touched afterwards.
 */

void
ngx_http_wsgate_resume(ngx_http_request_t *r)
{
    ngx_connection_t  *c;

    c = r->connection;

    r->read_event_handler = ngx_http_block_reading;

    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
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
ngx_http_wsgate_answer(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *body)
{
    ngx_http_finalize_request(r, ngx_http_wsgate_send_json(r, status, body));

    return NGX_DONE;
}


ngx_int_t
ngx_http_wsgate_json_string(ngx_pool_t *pool, ngx_str_t *s, ngx_str_t *out)
{
    u_char      *p, *start, c;
    size_t       len;
    ngx_uint_t   i;

    static u_char  hex[] = "0123456789abcdef";

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
            *p++ = '\\'; *p++ = 'u'; *p++ = '0'; *p++ = '0';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0xf];

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


ngx_uint_t
ngx_http_wsgate_count_header(ngx_http_request_t *r, ngx_str_t *key,
    ngx_table_elt_t **first)
{
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    n = 0;

    if (first) {
        *first = NULL;
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

        if (ngx_http_wsgate_header_is(&h[i], key)) {
            if (n++ == 0 && first) {
                *first = &h[i];
            }
        }
    }

    return n;
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

    if (ngx_http_wsgate_count_header(r, key, NULL)
        && ngx_http_wsgate_remove_headers(r, key, 1) != NGX_OK)
    {
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

    return NGX_OK;
}
