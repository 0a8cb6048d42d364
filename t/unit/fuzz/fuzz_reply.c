
/*
 * Copyright (C) wsgate authors
 *
 * libFuzzer harness for Redis replies: the input's first byte says how
 * the rest, RESP2 bytes as a Redis server would send them, is cut into
 * reads; the reader of ngx_http_wsgate_reply_reader() is fed read by
 * read, and after each read every complete reply is taken out, as
 * ngx_http_wsgate_redis.c does.  The same bytes fed at once must give
 * the same replies.  Every reply then goes through what the features
 * read out of one: the token record, an invalidation message, a key's
 * digest.
 */


#include <stdlib.h>

#include <hiredis/hiredis.h>

#include "fuzz.h"
#include "ngx_http_wsgate_reply.h"
#include "ngx_http_wsgate_uuid.h"


#define FUZZ_REPLIES   64
#define FUZZ_CHANNEL   "__redis__:invalidate"
#define FUZZ_PREFIX    "wsgate:token:"
#define FUZZ_DIGEST    32


typedef struct {
    ngx_http_wsgate_reply_t  *replies[FUZZ_REPLIES];
    size_t                    n;
    int                       error;
} fuzz_stream_t;


/* feeds data chunk bytes at a time (0: at once), taking replies out */

static void
fuzz_read(const u_char *data, size_t size, size_t chunk, fuzz_stream_t *s)
{
    void         *r;
    size_t        len;
    redisReader  *rd;

    s->n = 0;
    s->error = 0;

    rd = ngx_http_wsgate_reply_reader();
    fuzz_assert(rd != NULL);

    while (size) {
        len = (chunk == 0 || chunk > size) ? size : chunk;

        if (redisReaderFeed(rd, (const char *) data, len) != REDIS_OK) {
            s->error = 1;
            break;
        }

        data += len;
        size -= len;

        for ( ;; ) {
            r = NULL;

            if (redisReaderGetReply(rd, &r) != REDIS_OK) {
                fuzz_assert(r == NULL);
                s->error = 1;
                goto done;
            }

            if (r == NULL) {
                break;
            }

            if (s->n == FUZZ_REPLIES) {
                ngx_http_wsgate_reply_free(r);
                goto done;
            }

            s->replies[s->n++] = r;
        }
    }

done:

    redisReaderFree(rd);
}


static void
fuzz_free(fuzz_stream_t *s)
{
    size_t  i;

    for (i = 0; i < s->n; i++) {
        ngx_http_wsgate_reply_free(s->replies[i]);
    }
}


/* the value is well formed; returns its depth */

static size_t
fuzz_walk(ngx_http_wsgate_reply_t *r)
{
    size_t  i, d, depth;

    fuzz_assert(r != NULL);

    switch (r->type) {

    case NGX_HTTP_WSGATE_REPLY_STRING:
    case NGX_HTTP_WSGATE_REPLY_ERROR:
        fuzz_assert(r->str.data != NULL);
        fuzz_assert(r->str.data[r->str.len] == '\0');
        fuzz_assert(r->nelts == 0 && r->integer == 0);
        return 0;

    case NGX_HTTP_WSGATE_REPLY_INTEGER:
    case NGX_HTTP_WSGATE_REPLY_NIL:
        fuzz_assert(r->str.len == 0 && r->str.data == NULL);
        fuzz_assert(r->nelts == 0);
        fuzz_assert(r->type == NGX_HTTP_WSGATE_REPLY_INTEGER
                    || r->integer == 0);
        return 0;

    case NGX_HTTP_WSGATE_REPLY_ARRAY:
        fuzz_assert(r->str.len == 0 && r->integer == 0);
        fuzz_assert(r->nelts == 0 || r->elts != NULL);

        depth = 0;

        for (i = 0; i < r->nelts; i++) {
            d = fuzz_walk(r->elts[i]);

            if (d > depth) {
                depth = d;
            }
        }

        return depth + 1;

    default:
        fuzz_assert(0);
        return 0;
    }
}


static int
fuzz_equal(ngx_http_wsgate_reply_t *a, ngx_http_wsgate_reply_t *b)
{
    size_t  i;

    if (a->type != b->type || a->integer != b->integer
        || a->str.len != b->str.len || a->nelts != b->nelts
        || (a->str.len && memcmp(a->str.data, b->str.data, a->str.len) != 0))
    {
        return 0;
    }

    for (i = 0; i < a->nelts; i++) {
        if (!fuzz_equal(a->elts[i], b->elts[i])) {
            return 0;
        }
    }

    return 1;
}


static void
fuzz_record(ngx_http_wsgate_reply_t *r, int with_pttl)
{
    int                             rc;
    ngx_http_wsgate_reply_t        *ws, *kind, *name;
    ngx_http_wsgate_token_record_t  rec;

    memset(&rec, 0, sizeof(rec));

    rc = ngx_http_wsgate_reply_record(r, with_pttl, &rec);

    if (r->type == NGX_HTTP_WSGATE_REPLY_ERROR) {
        fuzz_assert(rc == NGX_HTTP_WSGATE_RECORD_ERROR);
        return;
    }

    fuzz_assert(rc != NGX_HTTP_WSGATE_RECORD_ERROR);

    if (r->type != NGX_HTTP_WSGATE_REPLY_ARRAY
        || r->nelts != (size_t) (with_pttl ? 4 : 3)
        || (with_pttl && r->elts[3]->type != NGX_HTTP_WSGATE_REPLY_INTEGER))
    {
        fuzz_assert(rc == NGX_HTTP_WSGATE_RECORD_UNEXPECTED);
        return;
    }

    ws = r->elts[0];
    kind = r->elts[1];
    name = r->elts[2];

    fuzz_assert(rec.pttl == (with_pttl ? r->elts[3]->integer : -1));

    switch (rc) {

    case NGX_HTTP_WSGATE_RECORD_UNKNOWN:
        fuzz_assert(kind->type == NGX_HTTP_WSGATE_REPLY_NIL);
        break;

    case NGX_HTTP_WSGATE_RECORD_WORKSPACE:
        fuzz_assert(ngx_http_wsgate_reply_is(kind, "workspace", 9));
        fuzz_assert(ws->type == NGX_HTTP_WSGATE_REPLY_STRING);
        fuzz_assert(rec.id.data == ws->str.data && rec.id.len == ws->str.len);
        fuzz_assert(ngx_http_wsgate_uuid_parse(rec.id.data, rec.id.len, NULL)
                    == 0);
        break;

    case NGX_HTTP_WSGATE_RECORD_SYSTEM:
        fuzz_assert(ngx_http_wsgate_reply_is(kind, "system", 6));
        fuzz_assert(name->type == NGX_HTTP_WSGATE_REPLY_STRING);
        fuzz_assert(rec.id.data == name->str.data
                    && rec.id.len == name->str.len);
        fuzz_assert(rec.id.len > 0);
        break;

    case NGX_HTTP_WSGATE_RECORD_MALFORMED:
        fuzz_assert(kind->type != NGX_HTTP_WSGATE_REPLY_NIL);
        fuzz_assert(!ngx_http_wsgate_reply_is(kind, "system", 6)
                    || name->type != NGX_HTTP_WSGATE_REPLY_STRING
                    || name->str.len == 0);
        break;

    default:
        fuzz_assert(0);
    }
}


static void
fuzz_digest(ngx_http_wsgate_reply_t *key)
{
    u_char  digest[FUZZ_DIGEST], hex[2 * FUZZ_DIGEST];

    if (ngx_http_wsgate_reply_digest(key, (u_char *) FUZZ_PREFIX,
                                     sizeof(FUZZ_PREFIX) - 1, digest,
                                     sizeof(digest))
        != 0)
    {
        return;
    }

    /* the key was the prefix and the digest's hex, in either case */

    fuzz_assert(key->type == NGX_HTTP_WSGATE_REPLY_STRING);
    fuzz_assert(key->str.len == sizeof(FUZZ_PREFIX) - 1 + sizeof(hex));
    fuzz_assert(memcmp(key->str.data, FUZZ_PREFIX, sizeof(FUZZ_PREFIX) - 1)
                == 0);

    ngx_http_wsgate_hex_dump(hex, digest, sizeof(digest));

    fuzz_assert(fuzz_case_mem(key->str.data + sizeof(FUZZ_PREFIX) - 1, hex,
                              sizeof(hex)));
}


static void
fuzz_interpret(ngx_http_wsgate_reply_t *r)
{
    int                        rc;
    size_t                     i, n;
    ngx_http_wsgate_reply_t  **keys;

    fuzz_assert(ngx_http_wsgate_reply_is_loading(r)
                == (r->type == NGX_HTTP_WSGATE_REPLY_ERROR
                    && r->str.len >= 7
                    && memcmp(r->str.data, "LOADING", 7) == 0));

    fuzz_assert(ngx_http_wsgate_reply_is_message(r)
                == (r->type == NGX_HTTP_WSGATE_REPLY_ARRAY && r->nelts == 3
                    && r->elts[0]->type == NGX_HTTP_WSGATE_REPLY_STRING
                    && r->elts[0]->str.len == 7
                    && memcmp(r->elts[0]->str.data, "message", 7) == 0));

    fuzz_record(r, 0);
    fuzz_record(r, 1);

    keys = NULL;
    n = 0;

    rc = ngx_http_wsgate_reply_invalidation(r, (u_char *) FUZZ_CHANNEL,
                                            sizeof(FUZZ_CHANNEL) - 1,
                                            &keys, &n);

    switch (rc) {

    case NGX_HTTP_WSGATE_INVALIDATE_NONE:
        fuzz_assert(!ngx_http_wsgate_reply_is_message(r)
                    || !ngx_http_wsgate_reply_is(r->elts[1], FUZZ_CHANNEL,
                                                 sizeof(FUZZ_CHANNEL) - 1));
        break;

    case NGX_HTTP_WSGATE_INVALIDATE_KEYS:
        fuzz_assert(ngx_http_wsgate_reply_is_message(r));
        fuzz_assert(n == 0 || keys != NULL);

        if (r->elts[2]->type == NGX_HTTP_WSGATE_REPLY_STRING) {
            fuzz_assert(n == 1 && keys[0] == r->elts[2]);

        } else {
            fuzz_assert(r->elts[2]->type == NGX_HTTP_WSGATE_REPLY_ARRAY);
            fuzz_assert(n == r->elts[2]->nelts);
        }

        for (i = 0; i < n; i++) {
            fuzz_assert(keys[i] != NULL);
            fuzz_digest(keys[i]);
        }

        break;

    case NGX_HTTP_WSGATE_INVALIDATE_FLUSH:
        fuzz_assert(ngx_http_wsgate_reply_is_message(r));
        fuzz_assert(r->elts[2]->type != NGX_HTTP_WSGATE_REPLY_STRING
                    && r->elts[2]->type != NGX_HTTP_WSGATE_REPLY_ARRAY);
        break;

    default:
        fuzz_assert(0);
    }

    fuzz_digest(r);

    if (r->type == NGX_HTTP_WSGATE_REPLY_ARRAY) {
        for (i = 0; i < r->nelts && i < 8; i++) {
            fuzz_interpret(r->elts[i]);
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t         i, chunk;
    fuzz_stream_t  whole, cut;

    if (size < 1) {
        return 0;
    }

    /* 0: one read; else reads of 1..255 bytes */

    chunk = data[0];

    fuzz_read(data + 1, size - 1, 0, &whole);
    fuzz_read(data + 1, size - 1, chunk, &cut);

    /* however the bytes come, the same replies (up to an error) */

    fuzz_assert(whole.error == cut.error);
    fuzz_assert(whole.n == cut.n);

    for (i = 0; i < whole.n; i++) {
        fuzz_assert(fuzz_walk(whole.replies[i]) == fuzz_walk(cut.replies[i]));
        fuzz_assert(fuzz_equal(whole.replies[i], cut.replies[i]));

        fuzz_interpret(whole.replies[i]);
    }

    fuzz_free(&whole);
    fuzz_free(&cut);

    return 0;
}
