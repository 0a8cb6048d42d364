
/*
 * Copyright (C) wsgate authors
 */


#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "unit.h"
#include "ngx_http_wsgate_check.h"


/*
 * The reasons are spelled out here, not taken from the header's macros:
 * they are the HTTP contract, and a changed macro must fail these tests.
 */

#define OK            NULL
#define INVALID       "not a valid URL"
#define SCHEME        "scheme must be http or https"
#define NO_HOST       "missing host"
#define USERINFO      "userinfo not allowed"
#define PORT          "invalid port"
#define HOST          "invalid host"
#define NUMERIC       "non-canonical IP address"
#define UNSPECIFIED   "address in a blocked range (unspecified)"
#define LOOPBACK      "address in a blocked range (loopback)"
#define LINK_LOCAL    "address in a blocked range (link-local)"
#define MULTICAST     "address in a blocked range (multicast)"
#define PRIVATE       "address in a blocked range (private)"
#define UNIQUE_LOCAL  "address in a blocked range (unique-local)"
#define DOCUMENTATION "address in a blocked range (documentation)"
#define CGNAT         "address in a blocked range (cgnat)"
#define RESERVED      "address in a blocked range (reserved)"
#define TEREDO        "address in a blocked range (teredo)"
#define METADATA      "address in a blocked range (metadata)"
#define INTERNAL      "internal host name"


typedef struct {
    int          line;
    const char  *url;
    size_t       len;
    const char  *want;          /* allow_private off */
    const char  *want_private;  /* allow_private on */
} url_case_t;


/* the same answer either way, different answers, and a shorter length */
#define URL(url, want)          { __LINE__, url, sizeof(url) - 1, want, want }
#define URL2(url, want, priv)   { __LINE__, url, sizeof(url) - 1, want, priv }
#define URLN(url, len, want)    { __LINE__, url, len, want, want }


static const url_case_t  url_cases[] = {

    /* acceptable */
    URL("http://example.com", OK),
    URL("https://example.com/", OK),
    URL("HTTP://EXAMPLE.COM/path?q=1#frag", OK),
    URL("HtTpS://example.com:8443/a2a", OK),
    URL("http://agent-1.internals:8000/push", OK),
    URL("http://ws_abc_1:8000/", OK),
    URL("http://a/", OK),
    URL("http://a", OK),
    URL("http://example.com.", OK),
    URL("http://example.com.:80/", OK),
    URL("http://xn--bcher-kva.example/", OK),
    URL("http://example.com/%41%62%7e", OK),
    URL("http://example.com/a;b=c,d!$&'()*+~-._:@/", OK),
    URL("http://example.com?", OK),
    URL("http://example.com#", OK),
    URL("http://example.com/@127.0.0.1", OK),
    URL("http://example.com?@127.0.0.1", OK),
    URL("http://example.com#@127.0.0.1", OK),
    URL("http://example.com:1", OK),
    URL("http://example.com:65535/", OK),
    URL("http://example.com:0080", OK),
    URL("http://example.com:08080", OK),

    /* localhost by name is the loopback: local development only */
    URL2("http://localhost:8080/", LOOPBACK, OK),
    URL2("http://LOCALHOST/", LOOPBACK, OK),
    URL2("http://LocalHost./", LOOPBACK, OK),
    URL2("http://agent.localhost/", LOOPBACK, OK),
    URL2("http://a.b.LOCALHOST.:80/", LOOPBACK, OK),
    URL2("http://127.0.0.1.localhost/", LOOPBACK, OK),
    URL("http://localhost.example.com/", OK),
    URL("http://mylocalhost/", OK),
    URL("http://localhosts/", OK),
    URL("http://agent-localhost/", OK),

    /* internal names: refused whatever allow_private says */
    URL("http://metadata/computeMetadata/v1/", INTERNAL),
    URL("http://METADATA./", INTERNAL),
    URL("http://metadata.google.internal/computeMetadata/v1/", INTERNAL),
    URL("http://Metadata.Google.Internal./", INTERNAL),
    URL("http://metadata.google.internal:80/", INTERNAL),
    URL("http://agent-1.internal:8000/push", INTERNAL),
    URL("http://x.INTERNAL", INTERNAL),
    URL("http://a.b.c.internal./", INTERNAL),
    URL("http://printer.local/", INTERNAL),
    URL("http://Printer.LOCAL.:631/", INTERNAL),
    URL("http://a.b.local", INTERNAL),
    URL("http://metadata.example.com/", OK),
    URL("http://x.metadata/", OK),
    URL("http://google.metadata./", OK),
    URL("http://metadata-1/", OK),
    URL("http://my-metadata/", OK),
    URL("http://internal/", OK),
    URL("http://local/", OK),
    URL("http://a.internal.example.com/", OK),
    URL("http://a.local.example.com/", OK),
    URL("http://a.xinternal/", OK),
    URL("http://a.xlocal/", OK),
    URL("http://a.localdomain/", OK),
    URL("http://a.internal-x/", OK),
    URL("http://metadata.google.internal.example/", OK),

    /* a name whose last label is not a number is a name */
    URL("http://1e100.net/", OK),
    URL("http://0xg.example/", OK),
    URL("http://example.123abc/", OK),
    URL("http://123.example/", OK),
    URL("http://1.2.3.4.example/", OK),
    URL("http://0xgg/", OK),

    /* public IPv4 and the edges of the blocked ranges */
    URL("http://8.8.8.8/", OK),
    URL("https://1.1.1.1:443", OK),
    URL("http://1.0.0.0/", OK),
    URL("http://9.255.255.255/", OK),
    URL("http://11.0.0.0/", OK),
    URL("http://100.63.255.255/", OK),
    URL("http://100.128.0.0/", OK),
    URL("http://126.255.255.255/", OK),
    URL("http://128.0.0.0/", OK),
    URL("http://169.253.255.255/", OK),
    URL("http://169.255.0.0/", OK),
    URL("http://172.15.255.255/", OK),
    URL("http://172.32.0.0/", OK),
    URL("http://191.255.255.255/", OK),
    URL("http://192.0.1.255/", OK),
    URL("http://192.0.3.0/", OK),
    URL("http://192.167.255.255/", OK),
    URL("http://192.169.0.0/", OK),
    URL("http://198.17.255.255/", OK),
    URL("http://198.20.0.0/", OK),
    URL("http://198.51.99.255/", OK),
    URL("http://198.51.101.0/", OK),
    URL("http://203.0.112.255/", OK),
    URL("http://203.0.114.0/", OK),
    URL("http://223.255.255.255/", OK),

    /* public IPv6 */
    URL("http://[2606:4700:4700::1111]/", OK),
    URL("http://[2606:4700:4700::1111]:8443/x", OK),
    URL("http://[2606:4700:4700:0:0:0:0:1111]", OK),
    URL("http://[2001:db9::1]/", OK),
    URL("http://[2001:db7:ffff::1]/", OK),
    URL("http://[2001:3::1]/", OK),
    URL("http://[fbff::1]/", OK),
    URL("http://[fe7f::1]/", OK),
    URL("http://[fe00::1]/", OK),
    URL("http://[100:0:0:1::1]/", OK),
    URL("http://[::ffff:8.8.8.8]/", OK),
    URL("http://[::ffff:808:808]/", OK),
    URL("http://[64:ff9b::8.8.8.8]/", OK),
    URL("http://[64:ff9b::808:808]/", OK),
    URL("http://[2002:808:808::1]/", OK),
    URL("http://[1:2:3:4:5:6:7:8]/", OK),

    /* not RFC 3986 characters, anywhere */
    URL("", INVALID),
    URL(" http://example.com", INVALID),
    URL("http://exa mple.com", INVALID),
    URL("http://example.com/ a", INVALID),
    URL("http://example.com ", INVALID),
    URL("http://example.com\t", INVALID),
    URL("http://example.com\n", INVALID),
    URL("http://example.com\r\n", INVALID),
    URL("http://127.0.0.\t1/", INVALID),
    URL("http://example.com\0", INVALID),
    URL("http://example.com\0@127.0.0.1", INVALID),
    URL("http://example.com/\x7f", INVALID),
    URL("http://example.com/\xc3\xa9", INVALID),
    URL("http://b\xc3\xbc" "cher.de/", INVALID),
    URL("http://example.com\\@127.0.0.1/", INVALID),
    URL("http:\\\\127.0.0.1/", INVALID),
    URL("http:/\\127.0.0.1/", INVALID),
    URL("http://example.com/<script>", INVALID),
    URL("http://example.com/\"", INVALID),
    URL("http://example.com/{x}", INVALID),
    URL("http://example.com/a|b", INVALID),
    URL("http://example.com/a^b", INVALID),
    URL("http://example.com/`", INVALID),
    URL("http://example.com/%", INVALID),
    URL("http://example.com/%4", INVALID),
    URL("http://example.com/%zz", INVALID),
    URL("http://example.com/%4g", INVALID),
    URL("http://example.com/%%41", INVALID),
    URL("http://example.com/[x]", INVALID),
    URL("http://example.com/?a[]=1", INVALID),
    URL("http://example.com#]", INVALID),

    /* the scheme */
    URL("http", INVALID),
    URL("example.com", INVALID),
    URL("//example.com/", INVALID),
    URL("://example.com", INVALID),
    URL("1http://example.com", INVALID),
    URL("-http://example.com", INVALID),
    URL("ht_tp://example.com", INVALID),
    URL("ftp://example.com", SCHEME),
    URL("ws://example.com", SCHEME),
    URL("wss://example.com", SCHEME),
    URL("file:///etc/passwd", SCHEME),
    URL("gopher://127.0.0.1:6379/_", SCHEME),
    URL("javascript:alert(1)", SCHEME),
    URL("data:text/plain,x", SCHEME),
    URL("httpx://example.com", SCHEME),
    URL("htt://example.com", SCHEME),
    URL("http+unix://x", SCHEME),
    URL("https1://x", SCHEME),
    URL("httpss://x", SCHEME),
    URL("hxxp://x", SCHEME),
    URL("example.com:80", SCHEME),
    URL("localhost:8080", SCHEME),

    /* the authority */
    URL("http:", NO_HOST),
    URL("http:/", NO_HOST),
    URL("http:/example.com", NO_HOST),
    URL("http:example.com", NO_HOST),
    URL("https:example.com:443", NO_HOST),
    URL("http://", NO_HOST),
    URL("http:///path", NO_HOST),
    URL("http:///example.com", NO_HOST),
    URL("http://:80/", NO_HOST),
    URL("http://?x", NO_HOST),
    URL("http://#x", NO_HOST),
    URL("http://::1/", NO_HOST),

    /* userinfo, before anything else in the authority */
    URL("http://user@example.com", USERINFO),
    URL("http://user:pass@example.com/", USERINFO),
    URL("http://@example.com", USERINFO),
    URL("http://example.com@127.0.0.1", USERINFO),
    URL("http://127.0.0.1:80@example.com/", USERINFO),
    URL("http://[::1]@example.com", USERINFO),
    URL("http://%40@example.com", USERINFO),
    URL("http://@", USERINFO),

    /* the port */
    URL("http://example.com:", PORT),
    URL("http://example.com:/", PORT),
    URL("http://example.com:0", PORT),
    URL("http://example.com:00000", PORT),
    URL("http://example.com:65536", PORT),
    URL("http://example.com:99999", PORT),
    URL("http://example.com:000080", PORT),
    URL("http://example.com:123456", PORT),
    URL("http://example.com:99999999999999999999", PORT),
    URL("http://example.com:8a", PORT),
    URL("http://example.com:0x50", PORT),
    URL("http://example.com:-1", PORT),
    URL("http://example.com:+80", PORT),
    URL("http://example.com:80:80", PORT),
    URL("http://example.com:80:", PORT),
    URL("http://example.com::80", PORT),
    URL("http://example.com:http", PORT),
    URL("http://example.com:%38%30", PORT),
    URL("http://[2606:4700::1111]:0/", PORT),
    URL("http://[2606:4700::1111]:", PORT),
    URL("http://[::1]:65536", PORT),

    /* host characters and labels */
    URL("http://exa%6dple.com/", HOST),
    URL("http://%31%32%37.0.0.1/", HOST),
    URL("http://example..com", HOST),
    URL("http://.example.com", HOST),
    URL("http://example.com..", HOST),
    URL("http://.", HOST),
    URL("http://..", HOST),
    URL("http://exa!mple.com", HOST),
    URL("http://exa$mple.com", HOST),
    URL("http://exa*mple.com", HOST),
    URL("http://exa(mple).com", HOST),
    URL("http://exa,mple.com", HOST),
    URL("http://exa;mple.com", HOST),
    URL("http://exa=mple.com", HOST),
    URL("http://exa'mple.com", HOST),
    URL("http://exa+mple.com", HOST),
    URL("http://exa&mple.com", HOST),
    URL("http://a~b/", HOST),
    URL("http://ex]ample/", HOST),
    URL("http://ex[ample/", HOST),
    URL("http://example.com]/", HOST),

    /* IPv6 literals */
    URL("http://[::1", HOST),
    URL("http://[2606:4700:4700::1111/", HOST),
    URL("http://[]/", HOST),
    URL("http://[]:80/", HOST),
    URL("http://[::1]x/", HOST),
    URL("http://[::1]]/", HOST),
    URL("http://[::1][::1]/", HOST),
    URL("http://[[::1]]/", HOST),
    URL("http://[fe80::1%25eth0]/", HOST),
    URL("http://[fe80::1%eth0]/", INVALID),
    URL("http://[v1.fe80::a+en1]/", HOST),
    URL("http://[127.0.0.1]/", HOST),
    URL("http://[::ffff:0127.0.0.1]/", HOST),
    URL("http://[::ffff:1.2.3]/", HOST),
    URL("http://[1:2:3:4:5:6:7:8:9]/", HOST),
    URL("http://[1::2::3]/", HOST),
    URL("http://[12345::]/", HOST),
    URL("http://[:::]/", HOST),
    URL("http://[g::1]/", HOST),
    URL("http://[0000:0000:0000:0000:0000:0000:0000:0000:0000]/", HOST),
    URL("http://[0000:0000:0000:0000:0000:0000:0000:0000:00001]/", HOST),

    /* numeric hosts other than the canonical dotted quad */
    URL("http://127.1/", NUMERIC),
    URL("http://127.0.1/", NUMERIC),
    URL("http://2130706433/", NUMERIC),
    URL("http://0x7f000001/", NUMERIC),
    URL("http://0X7F000001/", NUMERIC),
    URL("http://0x7f.1/", NUMERIC),
    URL("http://0x7f.0.0.1/", NUMERIC),
    URL("http://0177.0.0.1/", NUMERIC),
    URL("http://017700000001/", NUMERIC),
    URL("http://127.000.000.001/", NUMERIC),
    URL("http://127.0.0.01/", NUMERIC),
    URL("http://00.0.0.0/", NUMERIC),
    URL("http://010.0.0.1/", NUMERIC),
    URL("http://127.0.0.1./", NUMERIC),
    URL("http://8.8.8.8./", NUMERIC),
    URL("http://1.2.3.4.5/", NUMERIC),
    URL("http://256.0.0.1/", NUMERIC),
    URL("http://1.2.3.256/", NUMERIC),
    URL("http://1.2.3.4444/", NUMERIC),
    URL("http://8.8.8.08/", NUMERIC),
    URL("http://example.0x/", NUMERIC),
    URL("http://example.0X1F/", NUMERIC),
    URL("http://example.123/", NUMERIC),
    URL("http://example.123.:80/", NUMERIC),
    URL("http://0/", NUMERIC),
    URL("http://0x/", NUMERIC),
    URL("http://99999999999999999999/", NUMERIC),
    URL("http://0x100000000/", NUMERIC),
    URL("http://0x7f.0x0.0x0.0x1/", NUMERIC),
    URL("http://169.254.43518/", NUMERIC),
    URL("http://1.1.1.1.1.1.1.1.1.1/", NUMERIC),

    /* blocked IPv4 */
    URL("http://0.0.0.0/", UNSPECIFIED),
    URL("http://0.1.2.3:8080/", UNSPECIFIED),
    URL("http://0.255.255.255/", UNSPECIFIED),
    URL("http://127.0.0.1/", LOOPBACK),
    URL("http://127.0.0.1:8080/x", LOOPBACK),
    URL("http://127.255.255.255/", LOOPBACK),
    URL("http://127.1.2.3/", LOOPBACK),
    URL("http://169.254.169.254/latest/meta-data/", METADATA),
    URL("http://169.254.169.253/", LINK_LOCAL),
    URL("http://169.254.169.255/", LINK_LOCAL),
    URL("http://169.254.170.2/", LINK_LOCAL),
    URL("http://100.100.100.200/", METADATA),
    URL("http://100.100.100.199/", CGNAT),
    URL("http://100.100.100.201/", CGNAT),
    URL("http://168.63.129.16/", METADATA),
    URL("http://168.63.129.15/", OK),
    URL("http://168.63.129.17/", OK),
    URL("http://169.254.0.1/", LINK_LOCAL),
    URL("http://169.254.255.255/", LINK_LOCAL),
    URL("http://224.0.0.1/", MULTICAST),
    URL("http://239.255.255.250:1900/", MULTICAST),
    URL("http://240.0.0.1/", RESERVED),
    URL("http://254.255.255.255/", RESERVED),
    URL("http://255.255.255.255/", RESERVED),
    URL("http://192.0.0.8/", RESERVED),
    URL("http://198.18.0.1/", RESERVED),
    URL("http://198.19.255.255/", RESERVED),
    URL("http://192.0.2.1/", DOCUMENTATION),
    URL("http://198.51.100.7/", DOCUMENTATION),
    URL("http://203.0.113.255/", DOCUMENTATION),
    URL("http://100.64.0.1/", CGNAT),
    URL("http://100.127.255.255/", CGNAT),
    URL2("http://10.0.0.1/", PRIVATE, OK),
    URL2("http://10.255.255.255:9000/", PRIVATE, OK),
    URL2("http://172.16.0.1/", PRIVATE, OK),
    URL2("http://172.31.255.255/", PRIVATE, OK),
    URL2("http://192.168.0.1/", PRIVATE, OK),
    URL2("https://192.168.255.255:8443/a2a", PRIVATE, OK),

    /* blocked IPv6 */
    URL("http://[::]/", UNSPECIFIED),
    URL("http://[0:0:0:0:0:0:0:0]/", UNSPECIFIED),
    URL("http://[0000:0000:0000:0000:0000:0000:0000:0000]/", UNSPECIFIED),
    URL("http://[::1]/", LOOPBACK),
    URL("http://[::1]:8080/", LOOPBACK),
    URL("http://[0:0:0:0:0:0:0:1]/", LOOPBACK),
    URL("http://[::0001]/", LOOPBACK),
    URL("http://[fe80::1]/", LINK_LOCAL),
    URL("http://[FE80::1]/", LINK_LOCAL),
    URL("http://[fe80::a9fe:a9fe]/", LINK_LOCAL),
    URL("http://[febf:ffff::1]/", LINK_LOCAL),
    URL("http://[fec0::1]/", RESERVED),
    URL("http://[feff:ffff::1]/", RESERVED),
    URL("http://[ff02::1]/", MULTICAST),
    URL("http://[ff00::]/", MULTICAST),
    URL("http://[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]/", MULTICAST),
    URL("http://[fc00::1]/", UNIQUE_LOCAL),
    URL("http://[fcff:ffff::1]/", UNIQUE_LOCAL),
    URL2("http://[fd00::1]/", UNIQUE_LOCAL, OK),
    URL2("http://[fd12:3456:789a::1]:8000/", UNIQUE_LOCAL, OK),
    URL2("http://[FDFF:FFFF::1]/", UNIQUE_LOCAL, OK),
    URL("http://[2001:db8::1]/", DOCUMENTATION),
    URL("http://[2001:db8::1]:8080/", DOCUMENTATION),
    URL("http://[2001:0db8:ffff:ffff::]/", DOCUMENTATION),
    URL("http://[2001:2::1]/", RESERVED),
    URL("http://[100::1]/", RESERVED),
    URL("http://[100::ffff:ffff:ffff:ffff]/", RESERVED),
    URL("http://[64:ff9b:1::1]/", RESERVED),
    URL("http://[2001::1]/", TEREDO),
    URL("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", TEREDO),
    URL("http://[2001:0:ffff:ffff:ffff:ffff:ffff:ffff]/", TEREDO),
    URL("http://[2001::]/", TEREDO),
    URL("http://[2001:1::1]/", OK),
    URL("http://[2000:ffff:ffff:ffff::1]/", OK),

    /* the cloud metadata addresses over IPv6, even in fd00::/8 */
    URL("http://[fd00:ec2::254]/", METADATA),
    URL("http://[FD00:0EC2:0000:0000:0000:0000:0000:0254]:80/", METADATA),
    URL("http://[fd20:ce::254]/", METADATA),
    URL2("http://[fd00:ec2::253]/", UNIQUE_LOCAL, OK),
    URL2("http://[fd00:ec2::255]/", UNIQUE_LOCAL, OK),
    URL2("http://[fd20:ce::254:0]/", UNIQUE_LOCAL, OK),
    URL2("http://[fd00:ec2::1:254]/", UNIQUE_LOCAL, OK),
    URL2("http://[fd20:ce::255]/", UNIQUE_LOCAL, OK),
    URL("http://[fe80::a9fe:a9fe]:80/", LINK_LOCAL),

    /* IPv4 inside IPv6: mapped, translated, NAT64, 6to4, compatible */
    URL("http://[::ffff:127.0.0.1]/", LOOPBACK),
    URL("http://[::ffff:7f00:1]/", LOOPBACK),
    URL("http://[0:0:0:0:0:ffff:7f00:1]/", LOOPBACK),
    URL("http://[::FFFF:169.254.169.254]/", METADATA),
    URL("http://[::ffff:a9fe:a9fe]/", METADATA),
    URL("http://[::ffff:a9fe:a9fd]/", LINK_LOCAL),
    URL("http://[::ffff:168.63.129.16]/", METADATA),
    URL("http://[::ffff:0:100.100.100.200]/", METADATA),
    URL("http://[::ffff:0.0.0.0]/", UNSPECIFIED),
    URL("http://[::ffff:0:0]/", UNSPECIFIED),
    URL("http://[::ffff:224.0.0.1]/", MULTICAST),
    URL("http://[::ffff:100.64.0.1]/", CGNAT),
    URL2("http://[::ffff:10.0.0.1]/", PRIVATE, OK),
    URL2("http://[::ffff:c0a8:101]/", PRIVATE, OK),
    URL("http://[::ffff:0:127.0.0.1]/", LOOPBACK),
    URL("http://[::ffff:0:8.8.8.8]/", OK),
    URL("http://[64:ff9b::127.0.0.1]/", LOOPBACK),
    URL("http://[64:ff9b::7f00:1]/", LOOPBACK),
    URL("http://[64:ff9b::a9fe:a9fe]/", METADATA),
    URL("http://[64:ff9b::a83f:8110]/", METADATA),
    URL2("http://[64:ff9b::10.0.0.1]/", PRIVATE, OK),
    URL("http://[2002:7f00:1::]/", LOOPBACK),
    URL("http://[2002:a9fe:a9fe::1]/", METADATA),
    URL("http://[2002:a83f:8110::]/", METADATA),
    URL("http://[2002:a9fe:1::1]/", LINK_LOCAL),
    URL2("http://[2002:a00:1::1]/", PRIVATE, OK),
    URL("http://[::127.0.0.1]/", LOOPBACK),
    URL("http://[::169.254.169.254]/", METADATA),
    URL("http://[::168.63.129.16]/", METADATA),
    URL("http://[::169.254.0.1]/", LINK_LOCAL),
    URL("http://[::8.8.8.8]/", RESERVED),
    URL("http://[::2]/", UNSPECIFIED),
    URL2("http://[::10.0.0.1]/", PRIVATE, RESERVED),

    /* only len bytes count */
    URLN("http://example.com@127.0.0.1", 18, OK),
    URLN("http://example.com/ space", 19, OK),
    URLN("http://8.8.8.8x", 14, OK),
    URLN("http://127.0.0.1", 15, NUMERIC),
    URLN("http://[::1]", 11, HOST),
    URLN("http://example.com:8080", 19, PORT),
    URLN("http://example.com:80800", 23, OK),
    URLN("https://example.com", 4, INVALID),
    URLN("https://example.com", 6, NO_HOST),
    URLN("http://example.com/%41", 21, INVALID),
    URLN("http://example.com", 0, INVALID),
};


static void
test_url_table(void)
{
    size_t             i;
    u_char            *buf;
    const url_case_t  *t;

    for (i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
        t = &url_cases[i];
        UNIT_ROW(t->line);

        buf = unit_dup(t->url, t->len);

        CHECK_STR(ngx_http_wsgate_url_check(buf, t->len, 0), t->want);
        CHECK_STR(ngx_http_wsgate_url_check(buf, t->len, 1), t->want_private);

        free(buf);
    }

    UNIT_ROW_END();
}


static void
test_url_lengths(void)
{
    size_t   n;
    u_char  *url;

    /* labels up to 63, names up to 253 (254 with the trailing dot) */

    url = malloc(7 + 300);
    memcpy(url, "http://", 7);

    memset(url + 7, 'a', 63);
    CHECK_STR(ngx_http_wsgate_url_check(url, 7 + 63, 0), OK);

    memset(url + 7, 'a', 64);
    CHECK_STR(ngx_http_wsgate_url_check(url, 7 + 64, 0), HOST);

    /* "aaa...a.aaa...a." with 63-character labels */

    for (n = 0; n < 300; n++) {
        url[7 + n] = (n % 64 == 63) ? '.' : 'a';
    }

    /* 3 labels and a 61-character one: 64 * 3 + 61 = 253 */
    CHECK_STR(ngx_http_wsgate_url_check(url, 7 + 253, 0), OK);
    CHECK_STR(ngx_http_wsgate_url_check(url, 7 + 254, 0), HOST);

    url[7 + 253] = '.';
    CHECK_STR(ngx_http_wsgate_url_check(url, 7 + 254, 0), OK);

    free(url);

    /* a long path is fine */

    n = 7 + 11 + 10000;
    url = malloc(n);
    memcpy(url, "http://example.com/", 19);
    memset(url + 19, 'p', n - 19);
    CHECK_STR(ngx_http_wsgate_url_check(url, n, 0), OK);

    url[n - 1] = ' ';
    CHECK_STR(ngx_http_wsgate_url_check(url, n, 0), INVALID);

    free(url);

    CHECK_STR(ngx_http_wsgate_url_check(NULL, 0, 0), INVALID);
}


/*
 * Resolved addresses are judged as literals are: the table gives the
 * address as text (parsed here with inet_pton), then every literal host
 * of url_cases must get the same answer from addr_check() as from
 * url_check(), for both allow_private values.
 */

typedef struct {
    int          line;
    int          family;
    const char  *addr;
    const char  *want;
    const char  *want_private;
} addr_case_t;


#define A4(addr, want)          { __LINE__, AF_INET, addr, want, want }
#define A4P(addr, want, priv)   { __LINE__, AF_INET, addr, want, priv }
#define A6(addr, want)          { __LINE__, AF_INET6, addr, want, want }
#define A6P(addr, want, priv)   { __LINE__, AF_INET6, addr, want, priv }


static const addr_case_t  addr_cases[] = {
    A4("8.8.8.8", OK),
    A4("169.254.169.254", METADATA),
    A4("100.100.100.200", METADATA),
    A4("168.63.129.16", METADATA),
    A4("169.254.1.1", LINK_LOCAL),
    A4("127.0.0.53", LOOPBACK),
    A4("0.0.0.0", UNSPECIFIED),
    A4("100.64.1.1", CGNAT),
    A4("198.18.0.1", RESERVED),
    A4("255.255.255.255", RESERVED),
    A4("224.0.0.251", MULTICAST),
    A4("203.0.113.1", DOCUMENTATION),
    A4P("10.0.0.1", PRIVATE, OK),
    A4P("172.16.5.4", PRIVATE, OK),
    A4P("192.168.1.1", PRIVATE, OK),
    A6("2606:4700:4700::1111", OK),
    A6("fd00:ec2::254", METADATA),
    A6("fd20:ce::254", METADATA),
    A6("::ffff:169.254.169.254", METADATA),
    A6("64:ff9b::168.63.129.16", METADATA),
    A6("2002:6464:64c8::", METADATA),
    A6("2001::1", TEREDO),
    A6("2001:0:53aa:64c:0:0:0:1", TEREDO),
    A6("::1", LOOPBACK),
    A6("::", UNSPECIFIED),
    A6("fe80::1", LINK_LOCAL),
    A6("fc00::1", UNIQUE_LOCAL),
    A6("ff02::fb", MULTICAST),
    A6("2001:db8::1", DOCUMENTATION),
    A6P("fd00::1", UNIQUE_LOCAL, OK),
    A6P("::ffff:10.0.0.1", PRIVATE, OK),
    A6P("::10.0.0.1", PRIVATE, RESERVED),
};


static void
test_addr_table(void)
{
    size_t              i;
    u_char              a[16], *buf;
    const addr_case_t  *t;

    for (i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
        t = &addr_cases[i];
        UNIT_ROW(t->line);

        CHECK_INT(inet_pton(t->family, t->addr, a), 1);

        /* exactly 4 or 16 bytes: ASan sees a read beyond them */
        buf = unit_dup(a, t->family == AF_INET ? 4 : 16);

        CHECK_STR(ngx_http_wsgate_addr_check(t->family, buf, 0), t->want);
        CHECK_STR(ngx_http_wsgate_addr_check(t->family, buf, 1),
                  t->want_private);

        free(buf);
    }

    UNIT_ROW_END();

    memset(a, 0, sizeof(a));
    CHECK_STR(ngx_http_wsgate_addr_check(AF_UNIX, a, 0), HOST);
    CHECK_STR(ngx_http_wsgate_addr_check(AF_UNSPEC, a, 1), HOST);
}


/* the host of a URL row when it is an IP literal, as text; else 0 */

static int
url_literal(const char *url, size_t len, char *text, size_t size,
    int *family)
{
    size_t       n;
    const char  *p, *last, *end;

    p = memchr(url, '/', len);

    if (p == NULL || len - (p - url) < 3 || p[1] != '/' || p[-1] != ':') {
        return 0;
    }

    p += 2;
    last = url + len;

    if (p < last && *p == '[') {
        p++;
        end = memchr(p, ']', last - p);
        *family = AF_INET6;

    } else {
        for (end = p; end < last; end++) {
            if (*end == '/' || *end == ':' || *end == '?' || *end == '#') {
                break;
            }
        }

        *family = AF_INET;
    }

    if (end == NULL || (size_t) (end - p) >= size) {
        return 0;
    }

    n = end - p;
    memcpy(text, p, n);
    text[n] = '\0';

    return 1;
}


static void
test_addr_same(void)
{
    int                family;
    char               text[64];
    size_t             i, n;
    u_char             a[16];
    const char        *want;
    const url_case_t  *t;

    n = 0;

    for (i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
        t = &url_cases[i];

        /* literals that reached the address check, as inet_pton reads */

        want = t->want;

        if ((want != NULL
             && strncmp(want, "address in a blocked range", 26) != 0)
            || !url_literal(t->url, t->len, text, sizeof(text), &family)
            || inet_pton(family, text, a) != 1)
        {
            continue;
        }

        UNIT_ROW(t->line);
        n++;

        CHECK_STR(ngx_http_wsgate_addr_check(family, a, 0), t->want);
        CHECK_STR(ngx_http_wsgate_addr_check(family, a, 1), t->want_private);
    }

    UNIT_ROW_END();

    /* the comparison ran over most of the literal rows */
    CHECK(n > 150);
}


typedef struct {
    int          line;
    const char  *url;
    const char  *host;          /* NULL: nothing to resolve */
} url_host_case_t;


#define UHOST(url, host)  { __LINE__, url, host }


static const url_host_case_t  url_host_cases[] = {
    UHOST("http://example.com", "example.com"),
    UHOST("https://Agent-1.Example.COM.:8443/a2a?x#y", "Agent-1.Example.COM"),
    UHOST("http://a/", "a"),
    UHOST("http://ws_abc_1:8000/", "ws_abc_1"),
    UHOST("http://metadata.example.com/", "metadata.example.com"),
    UHOST("http://internal/", "internal"),

    /* literals */
    UHOST("http://8.8.8.8/", NULL),
    UHOST("http://10.0.0.1:80/", NULL),
    UHOST("http://[2606:4700:4700::1111]/", NULL),
    UHOST("http://[::1]/", NULL),

    /* localhost is not resolved, ever */
    UHOST("http://localhost/", NULL),
    UHOST("http://LOCALHOST./", NULL),
    UHOST("http://agent.localhost:8000/", NULL),

    /* not accepted URLs: nothing to resolve */
    UHOST("http://metadata.google.internal/", NULL),
    UHOST("http://printer.local/", NULL),
    UHOST("http://metadata/", NULL),
    UHOST("http://2130706433/", NULL),
    UHOST("http://127.1/", NULL),
    UHOST("http://example.com:0/", NULL),
    UHOST("http://user@example.com/", NULL),
    UHOST("ftp://example.com/", NULL),
    UHOST("http://exa mple.com/", NULL),
    UHOST("http://example..com/", NULL),
    UHOST("http://", NULL),
    UHOST("", NULL),
};


static void
test_url_host(void)
{
    int                     rc;
    size_t                  i, n, host_len;
    u_char                 *buf;
    const u_char           *host;
    const url_host_case_t  *t;

    for (i = 0; i < sizeof(url_host_cases) / sizeof(url_host_cases[0]); i++) {
        t = &url_host_cases[i];
        UNIT_ROW(t->line);

        n = strlen(t->url);
        buf = unit_dup(t->url, n);
        host = NULL;
        host_len = 12345;

        rc = ngx_http_wsgate_url_host(buf, n, &host, &host_len);

        if (t->host == NULL) {
            CHECK_INT(rc, 0);
            CHECK(host == NULL);
            CHECK_INT(host_len, 12345);

        } else if (rc != 1) {
            CHECK_INT(rc, 1);

        } else {
            CHECK(host > buf && host < buf + n);
            CHECK_MEM(host, host_len, t->host, strlen(t->host));

            /* a name to resolve is one url_check() accepted */
            CHECK_STR(ngx_http_wsgate_url_check(buf, n, 0), OK);
        }

        free(buf);
    }

    UNIT_ROW_END();

    CHECK_INT(ngx_http_wsgate_url_host(NULL, 0, &host, &host_len), 0);
}


/* bodies are written with ' for " and turned back before the check */

#define UUID1     "123e4567-e89b-12d3-a456-426614174000"
#define UUID1_UP  "123E4567-E89B-12D3-A456-426614174000"
#define GOOD_URL  "'url':'https://agent.example.com/a2a'"
#define GOOD_CARD "'agent_card':{'name':'agent'}"
#define GOOD_ID   "'id':'" UUID1 "'"


typedef struct {
    int          line;
    const char  *body;
    size_t       len;
    int          allow_private;
    const char  *field;         /* NULL: valid */
    const char  *reason;
} register_case_t;


#define REG(body, field, reason)                                              \
    { __LINE__, body, sizeof(body) - 1, 0, field, reason }
#define REG_PRIV(body, field, reason)                                         \
    { __LINE__, body, sizeof(body) - 1, 1, field, reason }
#define REG_LEN(body, len, field, reason)                                     \
    { __LINE__, body, len, 0, field, reason }


static const register_case_t  register_cases[] = {

    /* valid */
    REG("{" GOOD_ID "," GOOD_URL "," GOOD_CARD "}", NULL, NULL),
    REG("{" GOOD_CARD "," GOOD_URL "," GOOD_ID "}", NULL, NULL),
    REG("{'id':'" UUID1_UP "'," GOOD_URL "," GOOD_CARD "}", NULL, NULL),
    REG(" \r\n\t{" GOOD_ID "," GOOD_URL "," GOOD_CARD "} \r\n\t ", NULL, NULL),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'name':'a','skills':[],"
        "'version':'1.0'},'extra':{'id':1,'url':null},'x':[1,2.5,true]}",
        NULL, NULL),
    REG_PRIV("{" GOOD_ID ",'url':'http://localhost:8000/'," GOOD_CARD "}",
             NULL, NULL),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'name':' '}}", NULL, NULL),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'name':'\\u00e9\\u0001'}}",
        NULL, NULL),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'name':'a\\\\u0000'}}",
        NULL, NULL),
    REG("{" GOOD_ID ",'url':'http:\\/\\/example.com\\/'," GOOD_CARD "}",
        NULL, NULL),
    REG("{'ID':1," GOOD_ID "," GOOD_URL "," GOOD_CARD "}", "id",
        "duplicate key"),

    /* the body */
    REG("", "body", "not valid JSON"),
    REG(" ", "body", "not valid JSON"),
    REG("{", "body", "not valid JSON"),
    REG("{'id':}", "body", "not valid JSON"),
    REG("{" GOOD_ID "," GOOD_URL "," GOOD_CARD "", "body", "not valid JSON"),
    REG("{" GOOD_ID "," GOOD_URL "," GOOD_CARD "} x", "body",
        "not valid JSON"),
    REG("{" GOOD_ID "," GOOD_URL "," GOOD_CARD "}{}", "body",
        "not valid JSON"),
    REG("{" GOOD_ID "," GOOD_URL "," GOOD_CARD "}\0", "body",
        "not valid JSON"),
    REG("{" GOOD_ID "," GOOD_URL "," GOOD_CARD "}\x0b", "body",
        "not valid JSON"),
    REG("\x01{" GOOD_ID "," GOOD_URL "," GOOD_CARD "}", "body",
        "not valid JSON"),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'name':'a\x01'}}", "body",
        "not valid JSON"),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'name':'a\tb'}}", "body",
        "not valid JSON"),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'name':'a\0b'}}", "body",
        "not valid JSON"),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'name':'\\ud800'}}", "body",
        "not valid JSON"),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'name':'\\", "body",
        "not valid JSON"),
    REG("{'id':'" UUID1 "\\", "body", "not valid JSON"),
    REG("{'id':'" UUID1 "\\u00", "body", "not valid JSON"),
    REG("null", "body", "not a JSON object"),
    REG("[]", "body", "not a JSON object"),
    REG("[{" GOOD_ID "," GOOD_URL "," GOOD_CARD "}]", "body",
        "not a JSON object"),
    REG("'x'", "body", "not a JSON object"),
    REG("1", "body", "not a JSON object"),
    REG("1e999", "body", "not a JSON object"),
    REG("true", "body", "not a JSON object"),
    REG("{}", "id", "missing"),

    /* \u0000 would cut cJSON's copy of a string short */
    REG("{'id':'" UUID1 "\\u0000x'," GOOD_URL "," GOOD_CARD "}", "body",
        "NUL character not allowed"),
    REG("{" GOOD_ID ",'url':'https://a.example\\u0000@127.0.0.1/',"
        GOOD_CARD "}", "body", "NUL character not allowed"),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'name':'\\u0000'}}", "body",
        "NUL character not allowed"),
    REG("{'id\\u0000x':1," GOOD_ID "," GOOD_URL "," GOOD_CARD "}", "body",
        "NUL character not allowed"),
    REG("{" GOOD_ID "," GOOD_URL "," GOOD_CARD ",'x':'\\\\\\u0000'}", "body",
        "NUL character not allowed"),
    REG("[\"\\u0000\"]", "body", "not a JSON object"),

    /* "id" */
    REG("{" GOOD_URL "," GOOD_CARD "}", "id", "missing"),
    REG("{'Id':'" UUID1 "'," GOOD_URL "," GOOD_CARD "}", "id", "missing"),
    REG("{'id':null," GOOD_URL "," GOOD_CARD "}", "id", "not a string"),
    REG("{'id':123," GOOD_URL "," GOOD_CARD "}", "id", "not a string"),
    REG("{'id':true," GOOD_URL "," GOOD_CARD "}", "id", "not a string"),
    REG("{'id':{}," GOOD_URL "," GOOD_CARD "}", "id", "not a string"),
    REG("{'id':['" UUID1 "']," GOOD_URL "," GOOD_CARD "}", "id",
        "not a string"),
    REG("{'id':''," GOOD_URL "," GOOD_CARD "}", "id", "not a UUID"),
    REG("{'id':'system:restart-context'," GOOD_URL "," GOOD_CARD "}", "id",
        "not a UUID"),
    REG("{'id':'{" UUID1 "}'," GOOD_URL "," GOOD_CARD "}", "id",
        "not a UUID"),
    REG("{'id':'" UUID1 " '," GOOD_URL "," GOOD_CARD "}", "id", "not a UUID"),
    REG("{'id':'123e4567e89b12d3a456426614174000'," GOOD_URL "," GOOD_CARD
        "}", "id", "not a UUID"),
    REG("{'id':'123e4567-e89b-12d3-a456-42661417400g'," GOOD_URL ","
        GOOD_CARD "}", "id", "not a UUID"),
    REG("{" GOOD_ID "," GOOD_ID "," GOOD_URL "," GOOD_CARD "}", "id",
        "duplicate key"),
    REG("{" GOOD_ID ",'ID':'" UUID1 "'," GOOD_URL "," GOOD_CARD "}", "id",
        "duplicate key"),
    REG("{" GOOD_ID ",'iD':null," GOOD_URL "," GOOD_CARD "}", "id",
        "duplicate key"),

    /* "url" */
    REG("{" GOOD_ID "," GOOD_CARD "}", "url", "missing"),
    REG("{" GOOD_ID ",'URL':'http://example.com/'," GOOD_CARD "}", "url",
        "missing"),
    REG("{" GOOD_ID ",'url':null," GOOD_CARD "}", "url", "not a string"),
    REG("{" GOOD_ID ",'url':1," GOOD_CARD "}", "url", "not a string"),
    REG("{" GOOD_ID ",'url':{'host':'x'}," GOOD_CARD "}", "url",
        "not a string"),
    REG("{" GOOD_ID ",'url':''," GOOD_CARD "}", "url", "not a valid URL"),
    REG("{" GOOD_ID ",'url':'ftp://example.com/'," GOOD_CARD "}", "url",
        "scheme must be http or https"),
    REG("{" GOOD_ID ",'url':'http://'," GOOD_CARD "}", "url",
        "missing host"),
    REG("{" GOOD_ID ",'url':'http://u:p@example.com/'," GOOD_CARD "}", "url",
        "userinfo not allowed"),
    REG("{" GOOD_ID ",'url':'http://example.com\\u0040127.0.0.1/',"
        GOOD_CARD "}", "url", "userinfo not allowed"),
    REG("{" GOOD_ID ",'url':'http://example.com:0/'," GOOD_CARD "}", "url",
        "invalid port"),
    REG("{" GOOD_ID ",'url':'http://exa_mple!/'," GOOD_CARD "}", "url",
        "invalid host"),
    REG("{" GOOD_ID ",'url':'http://2130706433/'," GOOD_CARD "}", "url",
        "non-canonical IP address"),
    REG("{" GOOD_ID ",'url':'http://127.0.0.1:8000/'," GOOD_CARD "}", "url",
        "address in a blocked range (loopback)"),
    REG("{" GOOD_ID ",'url':'http:\\/\\/127.0.0.1\\/'," GOOD_CARD "}", "url",
        "address in a blocked range (loopback)"),
    REG("{" GOOD_ID ",'url':'http://169.254.169.254/'," GOOD_CARD "}", "url",
        "address in a blocked range (metadata)"),
    REG_PRIV("{" GOOD_ID ",'url':'http://169.254.169.254/'," GOOD_CARD "}",
             "url", "address in a blocked range (metadata)"),
    REG_PRIV("{" GOOD_ID ",'url':'http://[fd00:ec2::254]/'," GOOD_CARD "}",
             "url", "address in a blocked range (metadata)"),
    REG("{" GOOD_ID ",'url':'http://168.63.129.16/'," GOOD_CARD "}", "url",
        "address in a blocked range (metadata)"),
    REG("{" GOOD_ID ",'url':'http://[2001::1]/'," GOOD_CARD "}", "url",
        "address in a blocked range (teredo)"),
    REG("{" GOOD_ID ",'url':'http://localhost:8000/'," GOOD_CARD "}", "url",
        "address in a blocked range (loopback)"),
    REG_PRIV("{" GOOD_ID ",'url':'http://Metadata.Google.Internal./',"
             GOOD_CARD "}", "url", "internal host name"),
    REG("{" GOOD_ID ",'url':'http:\\/\\/metadata\\/'," GOOD_CARD "}", "url",
        "internal host name"),
    REG("{" GOOD_ID ",'url':'http://\\u006detadata/'," GOOD_CARD "}", "url",
        "internal host name"),
    REG("{" GOOD_ID ",'url':'http://[fd00::1]/'," GOOD_CARD "}", "url",
        "address in a blocked range (unique-local)"),
    REG_PRIV("{" GOOD_ID ",'url':'http://[fd00::1]/'," GOOD_CARD "}",
             NULL, NULL),
    REG("{" GOOD_ID ",'url':'http://10.1.2.3:8000/'," GOOD_CARD "}", "url",
        "address in a blocked range (private)"),
    REG_PRIV("{" GOOD_ID ",'url':'http://10.1.2.3:8000/'," GOOD_CARD "}",
             NULL, NULL),
    REG_PRIV("{" GOOD_ID ",'url':'http://127.0.0.1/'," GOOD_CARD "}",
             "url", "address in a blocked range (loopback)"),
    REG("{" GOOD_ID "," GOOD_URL "," GOOD_URL "," GOOD_CARD "}", "url",
        "duplicate key"),
    REG("{" GOOD_ID "," GOOD_URL ",'Url':'http://127.0.0.1/'," GOOD_CARD "}",
        "url", "duplicate key"),

    /* "agent_card" */
    REG("{" GOOD_ID "," GOOD_URL "}", "agent_card", "missing"),
    REG("{" GOOD_ID "," GOOD_URL ",'agentCard':{'name':'a'}}", "agent_card",
        "missing"),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':null}", "agent_card",
        "not an object"),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':'agent'}", "agent_card",
        "not an object"),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':[{'name':'a'}]}",
        "agent_card", "not an object"),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':1}", "agent_card",
        "not an object"),
    REG("{" GOOD_ID "," GOOD_URL "," GOOD_CARD "," GOOD_CARD "}",
        "agent_card", "duplicate key"),
    REG("{" GOOD_ID "," GOOD_URL "," GOOD_CARD ",'AGENT_CARD':1}",
        "agent_card", "duplicate key"),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{}}", "agent_card.name",
        "missing"),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'Name':'a'}}",
        "agent_card.name", "missing"),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'card':{'name':'a'}}}",
        "agent_card.name", "missing"),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'name':null}}",
        "agent_card.name", "not a string"),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'name':1}}",
        "agent_card.name", "not a string"),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'name':['a']}}",
        "agent_card.name", "not a string"),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'name':''}}",
        "agent_card.name", "empty"),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'name':'a','name':'b'}}",
        "agent_card.name", "duplicate key"),
    REG("{" GOOD_ID "," GOOD_URL ",'agent_card':{'name':'a','NAME':''}}",
        "agent_card.name", "duplicate key"),

    /* the order: body, id, url, agent_card */
    REG("{'id':1,'url':1,'agent_card':1}", "id", "not a string"),
    REG("{'url':1,'agent_card':1}", "id", "missing"),
    REG("{" GOOD_ID ",'url':1,'agent_card':1}", "url", "not a string"),
    REG("{'agent_card':1," GOOD_URL "," GOOD_ID "}", "agent_card",
        "not an object"),
    REG("{'id':'x','id':'y'}", "id", "duplicate key"),

    /* only len bytes count */
    REG_LEN("{" GOOD_ID "," GOOD_URL "," GOOD_CARD "}garbage",
            sizeof("{" GOOD_ID "," GOOD_URL "," GOOD_CARD "}") - 1,
            NULL, NULL),
    REG_LEN("{" GOOD_ID "," GOOD_URL "," GOOD_CARD "}",
            sizeof("{" GOOD_ID "," GOOD_URL "," GOOD_CARD "}") - 2,
            "body", "not valid JSON"),
    REG_LEN("{" GOOD_ID "," GOOD_URL "," GOOD_CARD "}", 0,
            "body", "not valid JSON"),
    REG_LEN("{}", 1, "body", "not valid JSON"),
    REG_LEN("'abc'", 3, "body", "not valid JSON"),
    REG_LEN("{'id':'\\u0000'}", 11, "body", "not valid JSON"),
};


static u_char *
json_dup(const char *body, size_t len)
{
    size_t   i;
    u_char  *p;

    p = unit_dup(body, len);

    for (i = 0; i < len; i++) {
        if (p[i] == '\'') {
            p[i] = '"';
        }
    }

    return p;
}


static void
test_register_table(void)
{
    int                     rc;
    size_t                  i;
    u_char                 *buf, id[NGX_HTTP_WSGATE_UUID_LEN + 1];
    const register_case_t  *t;

    ngx_http_wsgate_verdict_t  v;

    for (i = 0; i < sizeof(register_cases) / sizeof(register_cases[0]); i++) {
        t = &register_cases[i];
        UNIT_ROW(t->line);

        buf = json_dup(t->body, t->len);
        memset(id, '#', sizeof(id));
        v.field = "unset";
        v.reason = "unset";

        rc = ngx_http_wsgate_register_check(buf, t->len, t->allow_private,
                                            &v, id);

        if (t->field == NULL) {
            CHECK_INT(rc, 0);
            CHECK(ngx_http_wsgate_uuid_parse(id, 36, NULL) == 0);
            CHECK(ngx_http_wsgate_uuid_equal(id, 36,
                                             (const u_char *) UUID1, 36));

        } else if (strcmp(t->field, "body") == 0
                   || strcmp(t->field, "id") == 0)
        {
            /* no valid "id" yet: id is left alone */
            CHECK_INT(rc, -1);
            CHECK_STR(v.field, t->field);
            CHECK_STR(v.reason, t->reason);
            CHECK_INT(id[0], '#');

        } else {
            /* a later field failed: the valid "id" is reported */
            CHECK_INT(rc, -1);
            CHECK_STR(v.field, t->field);
            CHECK_STR(v.reason, t->reason);
            CHECK(ngx_http_wsgate_uuid_parse(id, 36, NULL) == 0);
        }

        CHECK_INT(id[NGX_HTTP_WSGATE_UUID_LEN], '#');

        free(buf);
    }

    UNIT_ROW_END();
}


typedef struct {
    int          line;
    const char  *body;
    int          allow_private;
    int          rc;
    const char  *host;          /* NULL: host_len is 0 */
} register_host_case_t;


#define RHOST(body, priv, rc, host)  { __LINE__, body, priv, rc, host }


/* the name the caller must resolve, copied out of the payload */

static const register_host_case_t  register_host_cases[] = {
    RHOST("{" GOOD_ID "," GOOD_URL "," GOOD_CARD "}", 0, 0,
          "agent.example.com"),
    RHOST("{" GOOD_ID ",'url':'HTTP:\\/\\/Agent.Example.\\/x'," GOOD_CARD
          "}", 1, 0, "Agent.Example"),
    RHOST("{" GOOD_ID ",'url':'http://\\u0061.example:80'," GOOD_CARD "}",
          0, 0, "a.example"),
    RHOST("{" GOOD_ID ",'url':'http://8.8.8.8/'," GOOD_CARD "}", 0, 0, NULL),
    RHOST("{" GOOD_ID ",'url':'http://[2606:4700::1111]/'," GOOD_CARD "}",
          0, 0, NULL),
    RHOST("{" GOOD_ID ",'url':'http://localhost/'," GOOD_CARD "}", 1, 0,
          NULL),

    /* refused: nothing to resolve, even when the URL was fine */
    RHOST("{" GOOD_ID ",'url':'http://localhost/'," GOOD_CARD "}", 0, -1,
          NULL),
    RHOST("{" GOOD_ID "," GOOD_URL "}", 0, -1, NULL),
    RHOST("{" GOOD_ID "," GOOD_URL ",'agent_card':{'name':''}}", 0, -1,
          NULL),
    RHOST("{" GOOD_ID "," GOOD_URL "," GOOD_CARD ",'x':{'a':1,'A':1}}", 0,
          -1, NULL),
    RHOST("{" GOOD_ID ",'url':'http://a.local/'," GOOD_CARD "}", 1, -1, NULL),
};


static void
test_register_host(void)
{
    int                          rc;
    size_t                       i, n;
    u_char                      *buf, id[NGX_HTTP_WSGATE_UUID_LEN];
    const register_host_case_t  *t;

    ngx_http_wsgate_verdict_t  v;

    for (i = 0;
         i < sizeof(register_host_cases) / sizeof(register_host_cases[0]);
         i++)
    {
        t = &register_host_cases[i];
        UNIT_ROW(t->line);

        n = strlen(t->body);
        buf = json_dup(t->body, n);
        memset(&v, 0x5a, sizeof(v));

        rc = ngx_http_wsgate_register_check(buf, n, t->allow_private, &v, id);

        CHECK_INT(rc, t->rc);

        if (t->host == NULL) {
            CHECK_INT(v.host_len, 0);

        } else {
            CHECK_MEM(v.host, v.host_len, t->host, strlen(t->host));
        }

        free(buf);
    }

    UNIT_ROW_END();

    /* the longest name fills v.host exactly: 253 and a trailing dot */

    n = sizeof("{" GOOD_ID ",'url':'http://") - 1;
    buf = malloc(n + 254 + sizeof("/'," GOOD_CARD "}") - 1);
    memcpy(buf, "{" GOOD_ID ",'url':'http://", n);

    for (i = 0; i < 254; i++) {
        buf[n + i] = (i % 64 == 63) ? '.' : 'a';
    }

    buf[n + 253] = '.';
    memcpy(buf + n + 254, "/'," GOOD_CARD "}", sizeof("/'," GOOD_CARD "}") - 1);
    n += 254 + sizeof("/'," GOOD_CARD "}") - 1;

    for (i = 0; i < n; i++) {
        if (buf[i] == '\'') {
            buf[i] = '"';
        }
    }

    CHECK_INT(ngx_http_wsgate_register_check(buf, n, 0, &v, id), 0);
    CHECK_INT(v.host_len, 253);
    CHECK_INT(v.host[0], 'a');
    CHECK_INT(v.host[252], 'a');

    free(buf);
}


static void
test_register_misc(void)
{
    size_t   i, n, depth;
    u_char   id[NGX_HTTP_WSGATE_UUID_LEN], *buf;

    ngx_http_wsgate_verdict_t  v;

    static const char  body[] = "{" GOOD_ID "," GOOD_URL "," GOOD_CARD "}";
    static const char  upper[] =
        "{'id':'" UUID1_UP "'," GOOD_URL "," GOOD_CARD "}";

    /* the id is copied as sent, and id may be NULL */

    buf = json_dup(upper, sizeof(upper) - 1);
    CHECK_INT(ngx_http_wsgate_register_check(buf, sizeof(upper) - 1, 0, &v,
                                             id), 0);
    CHECK_MEM(id, 36, UUID1_UP, 36);
    free(buf);

    buf = json_dup(body, sizeof(body) - 1);
    CHECK_INT(ngx_http_wsgate_register_check(buf, sizeof(body) - 1, 0, &v,
                                             NULL), 0);
    free(buf);

    CHECK_INT(ngx_http_wsgate_register_check(NULL, 0, 0, &v, id), -1);
    CHECK_STR(v.reason, "not valid JSON");
    CHECK_INT(v.host_len, 0);

    test_register_host();

    /* nesting deeper than cJSON's limit is refused, not a crash */

    depth = 5000;
    n = 2 * depth;
    buf = malloc(n);
    memset(buf, '[', depth);
    memset(buf + depth, ']', depth);

    CHECK_INT(ngx_http_wsgate_register_check(buf, n, 0, &v, id), -1);
    CHECK_STR(v.field, "body");
    CHECK_STR(v.reason, "not valid JSON");
    CHECK_STR(ngx_http_wsgate_a2a_check(buf, n), "not valid JSON");

    free(buf);

    /* within the limit: a valid payload with a deep agent card */

    depth = 500;
    n = sizeof(body) - 2 + 5 + 2 * depth + 1;
    buf = malloc(n);
    memcpy(buf, body, sizeof(body) - 2);
    memcpy(buf + sizeof(body) - 2, ",'d':", 5);
    memset(buf + sizeof(body) + 3, '[', depth);
    memset(buf + sizeof(body) + 3 + depth, ']', depth);
    buf[n - 1] = '}';

    for (i = 0; i < n; i++) {
        if (buf[i] == '\'') {
            buf[i] = '"';
        }
    }

    CHECK_INT(ngx_http_wsgate_register_check(buf, n, 0, &v, id), 0);

    free(buf);
}


typedef struct {
    int          line;
    const char  *body;
    size_t       len;
    const char  *want;
} a2a_case_t;


#define A2A(body, want)            { __LINE__, body, sizeof(body) - 1, want }
#define A2A_LEN(body, len, want)   { __LINE__, body, len, want }

#define NOT_JSON    "not valid JSON"
#define NOT_OBJECT  "not a JSON object"
#define JSONRPC     "jsonrpc must be \"2.0\""
#define METHOD      "method must be a string"
#define ID          "id must be a string or a number"


static const a2a_case_t  a2a_cases[] = {

    /* valid */
    A2A("{'jsonrpc':'2.0','method':'message/send','id':1,'params':{}}", OK),
    A2A("{'id':'abc','method':'message/send','jsonrpc':'2.0'}", OK),
    A2A("{'jsonrpc':'2.0','method':'tasks/get','id':''}", OK),
    A2A("{'jsonrpc':'2.0','method':'','id':0}", OK),
    A2A("{'jsonrpc':'2.0','method':'m','id':-1}", OK),
    A2A("{'jsonrpc':'2.0','method':'m','id':1.5}", OK),
    A2A("{'jsonrpc':'2.0','method':'m','id':1e3}", OK),
    A2A(" \n{'jsonrpc':'2.0','method':'m','id':1}\r\n", OK),
    A2A("{'jsonrpc':'2.0','method':'m','id':1,'params':{'text':'a\\u0000b'}}",
        OK),
    A2A("{'jsonrpc':'2.0','method':'m','id':1,'params':{'id':null}}", OK),

    /* not JSON */
    A2A("", NOT_JSON),
    A2A("{", NOT_JSON),
    A2A("{'jsonrpc':'2.0','method':'m','id':1", NOT_JSON),
    A2A("{'jsonrpc':'2.0','method':'m','id':1} x", NOT_JSON),
    A2A("{'jsonrpc':'2.0','method':'m','id':1}{}", NOT_JSON),
    A2A("{'jsonrpc':'2.0','method':'m','id':1}\0", NOT_JSON),
    A2A("{'jsonrpc':'2.0','method':'m\x1f','id':1}", NOT_JSON),
    A2A("\x0c{'jsonrpc':'2.0','method':'m','id':1}", NOT_JSON),
    A2A("{'jsonrpc':'2.0','method':'m','id':01x}", NOT_JSON),
    A2A("{jsonrpc:'2.0'}", NOT_JSON),

    /* not an object: batches too */
    A2A("[{'jsonrpc':'2.0','method':'m','id':1}]", NOT_OBJECT),
    A2A("[]", NOT_OBJECT),
    A2A("null", NOT_OBJECT),
    A2A("'2.0'", NOT_OBJECT),
    A2A("42", NOT_OBJECT),
    A2A("false", NOT_OBJECT),

    /* "jsonrpc" */
    A2A("{}", JSONRPC),
    A2A("{'method':'m','id':1}", JSONRPC),
    A2A("{'jsonrpc':'1.0','method':'m','id':1}", JSONRPC),
    A2A("{'jsonrpc':2.0,'method':'m','id':1}", JSONRPC),
    A2A("{'jsonrpc':2,'method':'m','id':1}", JSONRPC),
    A2A("{'jsonrpc':'2.0 ','method':'m','id':1}", JSONRPC),
    A2A("{'jsonrpc':'2.00','method':'m','id':1}", JSONRPC),
    A2A("{'jsonrpc':'2','method':'m','id':1}", JSONRPC),
    A2A("{'jsonrpc':'','method':'m','id':1}", JSONRPC),
    A2A("{'jsonrpc':null,'method':'m','id':1}", JSONRPC),
    A2A("{'jsonrpc':['2.0'],'method':'m','id':1}", JSONRPC),
    A2A("{'JSONRPC':'2.0','method':'m','id':1}", JSONRPC),
    A2A("{'jsonrpc':'2.0','jsonrpc':'2.0','method':'m','id':1}",
        "duplicate jsonrpc member"),
    A2A("{'jsonrpc':'2.0','JsonRpc':'1.0','method':'m','id':1}",
        "duplicate jsonrpc member"),

    /* "method" */
    A2A("{'jsonrpc':'2.0','id':1}", METHOD),
    A2A("{'jsonrpc':'2.0','method':1,'id':1}", METHOD),
    A2A("{'jsonrpc':'2.0','method':null,'id':1}", METHOD),
    A2A("{'jsonrpc':'2.0','method':{},'id':1}", METHOD),
    A2A("{'jsonrpc':'2.0','method':['m'],'id':1}", METHOD),
    A2A("{'jsonrpc':'2.0','method':true,'id':1}", METHOD),
    A2A("{'jsonrpc':'2.0','Method':'m','id':1}", METHOD),
    A2A("{'jsonrpc':'2.0','method':'m','method':'n','id':1}",
        "duplicate method member"),
    A2A("{'jsonrpc':'2.0','method':'m','METHOD':1,'id':1}",
        "duplicate method member"),

    /* "id": notifications are refused */
    A2A("{'jsonrpc':'2.0','method':'m'}", ID),
    A2A("{'jsonrpc':'2.0','method':'m','id':null}", ID),
    A2A("{'jsonrpc':'2.0','method':'m','id':true}", ID),
    A2A("{'jsonrpc':'2.0','method':'m','id':false}", ID),
    A2A("{'jsonrpc':'2.0','method':'m','id':{}}", ID),
    A2A("{'jsonrpc':'2.0','method':'m','id':[1]}", ID),
    A2A("{'jsonrpc':'2.0','method':'m','ID':1}", ID),
    A2A("{'jsonrpc':'2.0','method':'m','id':1,'id':2}",
        "duplicate id member"),
    A2A("{'jsonrpc':'2.0','method':'m','id':1,'Id':null}",
        "duplicate id member"),

    /* the order: jsonrpc, method, id */
    A2A("{'jsonrpc':'1.0','method':1,'id':null}", JSONRPC),
    A2A("{'jsonrpc':'2.0','method':1,'id':null}", METHOD),
    A2A("{'id':null,'method':'m','jsonrpc':'2.0'}", ID),

    /* only len bytes count */
    A2A_LEN("{'jsonrpc':'2.0','method':'m','id':1}junk", 37, OK),
    A2A_LEN("{'jsonrpc':'2.0','method':'m','id':12}", 36, NOT_JSON),
    A2A_LEN("{'jsonrpc':'2.0','method':'m','id':1}", 0, NOT_JSON),
};


static void
test_a2a_table(void)
{
    size_t             i;
    u_char            *buf;
    const a2a_case_t  *t;

    for (i = 0; i < sizeof(a2a_cases) / sizeof(a2a_cases[0]); i++) {
        t = &a2a_cases[i];
        UNIT_ROW(t->line);

        buf = json_dup(t->body, t->len);
        CHECK_STR(ngx_http_wsgate_a2a_check(buf, t->len), t->want);
        free(buf);
    }

    UNIT_ROW_END();

    CHECK_STR(ngx_http_wsgate_a2a_check(NULL, 0), NOT_JSON);
}


void
test_check(void)
{
    test_url_table();
    test_url_lengths();
    test_addr_table();
    test_addr_same();
    test_url_host();
    test_register_table();
    test_register_misc();
    test_a2a_table();
}
