
/*
 * Copyright (C) wsgate authors
 *
 * The Redis data model in one place: every key wsgate and its operator
 * CLI read or write (their shapes are in ngx_http_wsgate_schema.c, and
 * nowhere else), the registration state rule and the system-caller name
 * rule.  Pure: no nginx types, no allocation, so that the module,
 * wsgate-token and t/unit share it.
 */


#ifndef _NGX_HTTP_WSGATE_SCHEMA_H_INCLUDED_
#define _NGX_HTTP_WSGATE_SCHEMA_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>


typedef enum {
    NGX_HTTP_WSGATE_KEY_TOKEN = 0,    /* id: the token's sha256 hex */
    NGX_HTTP_WSGATE_KEY_WS_TOKENS,    /* id: a workspace UUID */
    NGX_HTTP_WSGATE_KEY_SYS_TOKENS,   /* id: a system caller's name */
    NGX_HTTP_WSGATE_KEY_REGFAIL,      /* id: a workspace UUID */
    NGX_HTTP_WSGATE_KEY_RESTART,      /* id: a workspace UUID */
    NGX_HTTP_WSGATE_KEY_WS_LOCK,      /* id: a workspace UUID */
    NGX_HTTP_WSGATE_KEY_SYS_LOCK      /* id: a system caller's name */
} ngx_http_wsgate_key_e;


/* the registration state ($wsgate_registration_state, wsgate_status) */
#define NGX_HTTP_WSGATE_STATE_NONE        0
#define NGX_HTTP_WSGATE_STATE_ONLINE      1
#define NGX_HTTP_WSGATE_STATE_RESTARTING  2
#define NGX_HTTP_WSGATE_STATE_DEGRADED    3


/* the length of the key of that kind for an id of id_len bytes */
size_t ngx_http_wsgate_key_len(ngx_http_wsgate_key_e kind, size_t prefix_len,
    size_t id_len);

/*
 * Writes the key (no NUL) into dst, which holds key_len() bytes, and
 * returns the end.  A workspace UUID is written in lowercase, as the
 * platform writes it; digests and names are written as given.
 */
u_char *ngx_http_wsgate_key(u_char *dst, ngx_http_wsgate_key_e kind,
    const u_char *prefix, size_t prefix_len, const u_char *id, size_t id_len);

/*
 * The state rule.  failed: a failure record exists, written at at_ms;
 * restart_ms: the start of the open restart window, 0 when none is open.
 * online without a failure; restarting when the failure happened at or
 * after the open window's start; degraded otherwise.
 */
int ngx_http_wsgate_state(int failed, uint64_t at_ms, uint64_t restart_ms);

/* "online", "restarting", "degraded"; "" for NGX_HTTP_WSGATE_STATE_NONE */
const char *ngx_http_wsgate_state_name(int state);

/*
 * 1 if name is a system caller's name: it starts with one of the n
 * prefixes compared without regard to ASCII case ("SYSTEM:x" is as much a
 * system name as "system:x", so neither can pass as a workspace), else 0.
 * NULL entries are skipped; an empty prefix matches every name.
 */
int ngx_http_wsgate_is_system_name(const u_char *name, size_t len,
    const char *const *prefixes, size_t n);


#endif /* _NGX_HTTP_WSGATE_SCHEMA_H_INCLUDED_ */
