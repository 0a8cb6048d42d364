
/*
 * Copyright (C) wsgate authors
 *
 * Pure Redis Cluster key slots: CRC16 (XMODEM) of the key, or of its hash
 * tag, modulo 16384, exactly as Redis computes CLUSTER KEYSLOT.
 */


#ifndef _NGX_HTTP_WSGATE_SLOT_H_INCLUDED_
#define _NGX_HTTP_WSGATE_SLOT_H_INCLUDED_


#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>


#define NGX_HTTP_WSGATE_SLOTS  16384


/* CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0) */
uint16_t ngx_http_wsgate_crc16(const u_char *p, size_t len);

/*
 * The key's slot: the hash tag is what lies between the first '{' and
 * the first '}' after it, when that is not empty; else the whole key.
 */
uint16_t ngx_http_wsgate_slot(const u_char *key, size_t len);


#endif /* _NGX_HTTP_WSGATE_SLOT_H_INCLUDED_ */
