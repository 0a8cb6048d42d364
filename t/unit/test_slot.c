
/*
 * Copyright (C) wsgate authors
 *
 * Cluster key slots, against what Redis 7's CLUSTER KEYSLOT answered.
 */


#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "ngx_http_wsgate_slot.h"


static const struct {
    const char  *key;
    unsigned     slot;
} slots[] = {
    { "123456789", 12739 },
    { "foo{}{bar}", 8363 },                 /* empty tag: the whole key */
    { "foo{{bar}}zap", 4015 },              /* tag "{bar" */
    { "foo{bar}{zap}", 5061 },              /* the first tag only */
    { "{a}", 15495 },
    { "a", 15495 },
    { "{}", 15257 },
    { "a{b", 13340 },                       /* no closing brace */
    { "}{", 12793 },
    { "", 0 },
    { "user1000", 3443 },
    { "{user1000}.following", 3443 },
    { "wsgate:token:000000000000000000000000000000000000000000000000000"
      "0000000000000", 8929 },
    { "wsgate:ws:{0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01}:regfail", 12985 },
};


void
test_slot(void)
{
    size_t   i, len;
    u_char  *key;

    CHECK_INT(ngx_http_wsgate_crc16((u_char *) "123456789", 9), 0x31c3);
    CHECK_INT(ngx_http_wsgate_crc16((u_char *) "", 0), 0);

    for (i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
        unit_case("slot of \"%s\"", slots[i].key);

        len = strlen(slots[i].key);
        key = unit_dup(slots[i].key, len);

        CHECK_INT(ngx_http_wsgate_slot(key, len), slots[i].slot);

        free(key);
    }

    /* the same tag, the same slot, whatever is around it */

    CHECK_INT(ngx_http_wsgate_slot((u_char *) "wsgate:ws:{x}:restart", 21),
              ngx_http_wsgate_slot((u_char *) "wsgate:ws:{x}:regfail", 21));
}
