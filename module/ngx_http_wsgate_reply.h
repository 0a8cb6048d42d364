
/*
 * Copyright (C) wsgate authors
 *
 * Redis replies: hiredis's redisReader parses RESP and builds wsgate's
 * own reply values with the functions here, and what a feature reads
 * out of a reply (a token record, an invalidation message) is decided
 * here too.  Pure: no nginx types, plain malloc() and free(), so that
 * t/unit and the fuzzers feed it raw bytes without nginx running.
 */


#ifndef _NGX_HTTP_WSGATE_REPLY_H_INCLUDED_
#define _NGX_HTTP_WSGATE_REPLY_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/read.h>


/* a decoded reply */
typedef enum {
    NGX_HTTP_WSGATE_REPLY_NIL = 0,
    NGX_HTTP_WSGATE_REPLY_STRING,     /* a bulk string or a status */
    NGX_HTTP_WSGATE_REPLY_INTEGER,
    NGX_HTTP_WSGATE_REPLY_ARRAY,
    NGX_HTTP_WSGATE_REPLY_ERROR       /* str is the error text */
} ngx_http_wsgate_reply_type_e;


/*
 * A reply's string: an ngx_str_t in the module, the same members in the
 * same order here (so the two are one type to the compiler: C11 6.2.7).
 */
#if (defined _NGX_STRING_H_INCLUDED_)

typedef ngx_str_t  ngx_http_wsgate_reply_str_t;

#else

typedef struct {
    size_t      len;
    u_char     *data;
} ngx_http_wsgate_reply_str_t;

#endif


typedef struct ngx_http_wsgate_reply_s  ngx_http_wsgate_reply_t;

struct ngx_http_wsgate_reply_s {
    ngx_http_wsgate_reply_type_e     type;
    ngx_http_wsgate_reply_str_t      str;         /* STRING, ERROR; the
                                                     bytes are followed
                                                     by a NUL */
    int64_t                          integer;     /* INTEGER */
    size_t                           nelts;       /* ARRAY */
    ngx_http_wsgate_reply_t        **elts;        /* never NULL entries */
};


/* what ngx_http_wsgate_reply_record() found */
#define NGX_HTTP_WSGATE_RECORD_ERROR       0    /* an -ERR reply */
#define NGX_HTTP_WSGATE_RECORD_UNEXPECTED  1    /* not the lookup's shape */
#define NGX_HTTP_WSGATE_RECORD_UNKNOWN     2    /* no such token */
#define NGX_HTTP_WSGATE_RECORD_MALFORMED   3    /* a record, but unusable */
#define NGX_HTTP_WSGATE_RECORD_WORKSPACE   4    /* id: a workspace UUID */
#define NGX_HTTP_WSGATE_RECORD_SYSTEM      5    /* id: a system name */


typedef struct {
    ngx_http_wsgate_reply_str_t      id;          /* inside the reply */
    int64_t                          pttl;        /* -1 without with_pttl */
} ngx_http_wsgate_token_record_t;


/* what ngx_http_wsgate_reply_invalidation() found */
#define NGX_HTTP_WSGATE_INVALIDATE_NONE    0    /* not that channel's */
#define NGX_HTTP_WSGATE_INVALIDATE_KEYS    1
#define NGX_HTTP_WSGATE_INVALIDATE_FLUSH   2    /* every key is gone */


/* A reader whose replies are ngx_http_wsgate_reply_t; NULL: no memory. */
redisReader *ngx_http_wsgate_reply_reader(void);

/* Frees a reply the reader handed out, and everything in it. */
void ngx_http_wsgate_reply_free(void *reply);

/* 1 if the reply is a string equal to s (len bytes), else 0 */
int ngx_http_wsgate_reply_is(ngx_http_wsgate_reply_t *reply, const char *s,
    size_t len);

/* 1 if the reply is an -ERR starting "LOADING", else 0 */
int ngx_http_wsgate_reply_is_loading(ngx_http_wsgate_reply_t *reply);

/* 1 if the reply is a subscriber's ["message", channel, payload], else 0 */
int ngx_http_wsgate_reply_is_message(ngx_http_wsgate_reply_t *reply);

/*
 * The token lookup's reply: HMGET ws kind name, three strings or nils,
 * and with with_pttl the key's PTTL, an integer, after them.  Returns
 * NGX_HTTP_WSGATE_RECORD_*; rec->pttl is set from UNKNOWN on, rec->id
 * for WORKSPACE (ws, a UUID as parsed by ngx_http_wsgate_uuid_parse())
 * and SYSTEM (name, not empty).  kind nil is UNKNOWN; kind "workspace"
 * without a UUID, "system" without a name, or any other kind MALFORMED.
 */
int ngx_http_wsgate_reply_record(ngx_http_wsgate_reply_t *reply,
    int with_pttl, ngx_http_wsgate_token_record_t *rec);

/*
 * A subscriber's message (ngx_http_wsgate_reply_is_message()) on the
 * invalidation channel: NONE when it is another channel's (or no
 * message), KEYS with *keys and *nkeys set to the keys invalidated (a
 * string payload is one key, an array payload's elements, of any type,
 * are the keys), FLUSH for any other payload (nil: FLUSHALL, FLUSHDB).
 */
int ngx_http_wsgate_reply_invalidation(ngx_http_wsgate_reply_t *msg,
    const u_char *channel, size_t channel_len,
    ngx_http_wsgate_reply_t ***keys, size_t *nkeys);

/*
 * An invalidated key: 0 when it is a string of prefix and then exactly
 * 2 * len hex digits (either case), their len bytes written into digest;
 * else -1 (digest may have been written to).
 */
int ngx_http_wsgate_reply_digest(ngx_http_wsgate_reply_t *key,
    const u_char *prefix, size_t prefix_len, u_char *digest, size_t len);


#endif /* _NGX_HTTP_WSGATE_REPLY_H_INCLUDED_ */
