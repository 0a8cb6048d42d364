
/*
 * Copyright (C) wsgate authors
 */


#include "ngx_http_wsgate_slot.h"


uint16_t
ngx_http_wsgate_crc16(const u_char *p, size_t len)
{
    uint16_t    crc;
    unsigned    i;

    crc = 0;

    while (len--) {
        crc ^= (uint16_t) (*p++ << 8);

        for (i = 0; i < 8; i++) {
            crc = (crc & 0x8000) ? (uint16_t) ((crc << 1) ^ 0x1021)
                                 : (uint16_t) (crc << 1);
        }
    }

    return crc;
}


uint16_t
ngx_http_wsgate_slot(const u_char *key, size_t len)
{
    size_t  s, e;

    for (s = 0; s < len; s++) {
        if (key[s] == '{') {
            break;
        }
    }

    if (s < len) {
        for (e = s + 1; e < len; e++) {
            if (key[e] == '}') {
                break;
            }
        }

        if (e < len && e != s + 1) {
            key += s + 1;
            len = e - s - 1;
        }
    }

    return ngx_http_wsgate_crc16(key, len) & (NGX_HTTP_WSGATE_SLOTS - 1);
}
