# vi:filetype=perl
#
# Hardening (issue 11): push-URL host names (wsgate_resolve_urls, names
# refused by name, the cloud metadata addresses whatever
# wsgate_allow_private_urls says), wsgate_hide_credentials, caller headers
# stripped in every wsgate_auth location, ambiguous paths under
# wsgate_bind, JSON that could mean something else to the platform, and
# client bytes escaped in wsgate's log lines.
#
# A private DNS server (t/lib/WsgateDns.pm, needs libnet-dns-perl) answers
# nginx's resolver; the platform is lua-free-config/demo-backend.pl, or a
# --- tcp_listen backend where the raw header lines it received matter.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use WsgateTest;
use WsgateHttp;
use WsgateDns;

our $WS    = '0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01';
our $WS_B  = '5d0f8a4e-1c2b-4a6d-8e9f-0a1b2c3d4e5f';
our $TOK   = 'tA3vQm9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';
our $TOK_B = 'tBxK2m9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNcE';
our $TOK_X = 'unKnoWn9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNc';

sub seed {
    redis_flush();
    seed_token($TOK, ws => $WS, kind => 'workspace');
    seed_token($TOK_B, ws => $WS_B, kind => 'workspace');
}

seed();
http_backend();
dns_start();

# a register request for $url on location $path
sub reg_body {
    my $url = shift;
    return qq({"id":"$WS","url":"$url","agent_card":{"name":"agent-1"}});
}

sub reg {
    my ($path, $url) = @_;
    return "POST $path\n" . reg_body($url);
}

our $URL400 = qr/\A\{"error":"invalid register payload","field":"url","reason":"[^"]+"\}\z/;
our $REG400 = qr/\A\{"error":"invalid register payload"(?:,|\})/;
our $A2A400 = qr/\A\{"error":"invalid A2A request"(?:,|\})/;
our $AMBIG  = '{"error":"ambiguous request path"}';

# nginx's own debug lines carry the Authorization header
log_level('info');

our $HttpConfig = <<"_EOC_";
    wsgate_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} timeout=2s;
_EOC_

# push URLs: every register location has a resolver; only the -resolve
# ones may use it
our $RegConfig = <<"_EOC_";
    location = /registry/register {
        wsgate_auth on;
        wsgate_register on;
        resolver 127.0.0.1:$ENV{TEST_NGINX_DNS_PORT} valid=1s;
        resolver_timeout 1s;
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT};
    }

    location = /registry/register-private {
        wsgate_auth on;
        wsgate_register on;
        wsgate_allow_private_urls on;
        wsgate_resolve_urls off;
        resolver 127.0.0.1:$ENV{TEST_NGINX_DNS_PORT} valid=1s;
        resolver_timeout 1s;
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT};
    }

    location = /registry/register-resolve {
        wsgate_auth on;
        wsgate_register on;
        wsgate_resolve_urls on;
        resolver 127.0.0.1:$ENV{TEST_NGINX_DNS_PORT} valid=1s;
        resolver_timeout 1s;
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT};
    }

    location = /registry/register-resolve-private {
        wsgate_auth on;
        wsgate_register on;
        wsgate_resolve_urls on;
        wsgate_allow_private_urls on;
        resolver 127.0.0.1:$ENV{TEST_NGINX_DNS_PORT} valid=1s;
        resolver_timeout 1s;
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT};
    }

    location = /a2a {
        wsgate_auth on;
        wsgate_a2a on;
        wsgate_a2a_validate on;
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT};
    }

    # what the DNS server was asked since dns_clear()
    location = /dns-log {
        default_type text/plain;
        alias $ENV{TEST_NGINX_DNS_LOG};
    }

    location ~ ^/workspaces/(?<ws>[^/]+)/state\$ {
        wsgate_status \$ws;
    }
_EOC_

# a backend recording the raw request (--- tcp_listen, --- tcp_query)
our $RawConfig = <<'_EOC_';
    underscores_in_headers on;

    location = /hide {
        wsgate_auth on;
        wsgate_hide_credentials on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/backend;
    }

    location = /keep {
        wsgate_auth on;
        wsgate_hide_credentials off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/backend;
    }

    location = /default {
        wsgate_auth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/backend;
    }

    location = /plain {
        wsgate_auth on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/backend;
    }

    location ~ ^/workspaces/(?<ws>[^/]+)/ {
        wsgate_auth on;
        wsgate_bind $ws;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location = /registry/register {
        wsgate_auth on;
        wsgate_register on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
_EOC_

our $RawReply = "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n";

# the raw request has no X-Caller-Kind / X-Caller-Name line in any
# spelling, still has X-Other, and ends with $tail
sub no_caller_headers {
    my $tail = shift;
    $tail = "\r\n\r\n" unless defined $tail;
    return qr/\A(?!(?si:.*\nx[-_]caller[-_](?:kind|name)[ \t]*:))(?=(?s:.*)\r\nX-Other: kept\r\n)(?s:.*)\Q$tail\E\z/;
}

# paths: the backend is this nginx's /backend/ location, so the access
# log shows whether anything reached it
our $PathConfig = <<'_EOC_';
    location ~ ^/workspaces/(?<ws>[^/]+)/ {
        wsgate_auth on;
        wsgate_bind $ws;
        proxy_pass http://127.0.0.1:$server_port/backend$request_uri;
    }

    location /plain/ {
        wsgate_auth on;
        proxy_pass http://127.0.0.1:$server_port/backend$request_uri;
    }

    location = /a2a {
        wsgate_auth on;
        wsgate_a2a on;
        proxy_pass http://127.0.0.1:$server_port/backend$request_uri;
    }

    location ^~ /backend/ {
        return 200 "backend saw $request_uri\n";
    }
_EOC_

# one ambiguous path sent four times: with W's token, with another
# workspace's token, with no token and with an unknown token
sub ambiguous {
    my $path = shift;
    return [("GET $path") x 4];
}

our $AmbiguousHeaders = ["Authorization: Bearer $TOK",
                         "Authorization: Bearer $TOK_B", "",
                         "Authorization: Bearer $TOK_X"];
our $AmbiguousCodes   = [400, 400, 400, 400];
our $AmbiguousBodies  = [($AMBIG) x 4];
our $AmbiguousTypes   = [("Content-Type: application/json") x 4];

no_shuffle();
run_tests();

__DATA__

=== TEST 1: wsgate_resolve_urls on: a name resolving to a public address is forwarded, after asking the DNS
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- init
dns_clear();
--- request eval
[main::reg('/registry/register-resolve', 'http://public.test:8000/a2a'),
 "GET /dns-log"]
--- more_headers eval
["Authorization: Bearer $::TOK", ""]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"path":"\/registry\/register-resolve"/, qr/^public\.test A$/m]
--- no_error_log
[error]



=== TEST 2: wsgate_resolve_urls on: a name resolving to the metadata address is refused
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register-resolve', 'http://meta.test/a2a')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like eval
qr/\A\{"error":"invalid register payload","field":"url","reason":"address in a blocked range \((?:metadata|link-local)\)"\}\z/



=== TEST 3: wsgate_resolve_urls on: one private answer among public ones is enough to refuse
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register-resolve', 'http://both.test/a2a')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::URL400



=== TEST 4: wsgate_resolve_urls on: every answer is checked like a literal (RFC 1918 passes with wsgate_allow_private_urls on)
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register-resolve-private', 'http://both.test/a2a')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 200
--- response_body_like: "path":"/registry/register-resolve-private"



=== TEST 5: wsgate_resolve_urls on: an AAAA answer of ::1 is refused even with wsgate_allow_private_urls on
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register-resolve-private', 'http://mixed6.test/a2a')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::URL400



=== TEST 6: wsgate_resolve_urls on: a name that does not resolve is a 400
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register-resolve', 'http://nx.test/a2a')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body chomp
{"error":"invalid register payload","field":"url","reason":"host does not resolve"}



=== TEST 7: wsgate_resolve_urls on: a resolver that never answers is a 503, and nothing is recorded
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- init
main::seed();
--- request eval
[main::reg('/registry/register-resolve', 'http://slow.test/a2a'),
 "GET /workspaces/$::WS/state"]
--- more_headers eval
["Authorization: Bearer $::TOK", ""]
--- timeout: 5
--- wait: 0.3
--- error_code eval
[503, 200]
--- response_headers eval
["Content-Type: application/json", ""]
--- response_body_like eval
[qr/\A\{"error":"resolver unavailable"\}\z/,
 qr/\A\{"workspace_id":"\Q$::WS\E","state":"online","last_failure":null,"restart_at_ms":null\}\z/]



=== TEST 8: wsgate_resolve_urls on: a 400 for a name is recorded like any gateway 400
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- init
main::seed();
--- request eval
[main::reg('/registry/register-resolve', 'http://nx.test/a2a'),
 "GET /workspaces/$::WS/state"]
--- more_headers eval
["Authorization: Bearer $::TOK", ""]
--- wait: 0.3
--- error_code eval
[400, 200]
--- response_body_like eval
[$::URL400,
 qr/"state":"degraded","last_failure":\{"at_ms":\d{13},"status":400,"reason":"[^"]*","source":"gateway"\}/]



=== TEST 9: wsgate_resolve_urls off (the default): a name passes without any DNS query, though a resolver is configured
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- init
dns_clear();
--- request eval
[main::reg('/registry/register', 'http://public.test:8000/a2a'),
 "GET /dns-log"]
--- more_headers eval
["Authorization: Bearer $::TOK", ""]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"path":"\/registry\/register"/, qr/\A\z/]



=== TEST 10: refused by name even with wsgate_allow_private_urls on: metadata
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register-private', 'http://metadata/computeMetadata/v1/')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::URL400



=== TEST 11: refused by name even with wsgate_allow_private_urls on: metadata.google.internal
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register-private', 'http://metadata.google.internal/computeMetadata/v1/')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::URL400



=== TEST 12: refused by name even with wsgate_allow_private_urls on: a .internal name
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register-private', 'http://foo.internal/')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::URL400



=== TEST 13: refused by name even with wsgate_allow_private_urls on: a .local name
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register-private', 'http://printer.local/')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::URL400



=== TEST 14: refused by name in any case and with a final dot: Metadata.Google.Internal.
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register-private', 'http://Metadata.Google.Internal./')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::URL400



=== TEST 15: refused by name with wsgate_resolve_urls on too, though the DNS answers a public address
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register-resolve-private', 'http://metadata.google.internal/')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::URL400



=== TEST 16: localhost by name is refused without wsgate_allow_private_urls
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register', 'http://localhost:6379/')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::URL400



=== TEST 17: a *.localhost name is refused without wsgate_allow_private_urls
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register', 'http://x.localhost/')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::URL400



=== TEST 18: localhost by name is accepted with wsgate_allow_private_urls on
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register-private', 'http://localhost:6379/')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 200
--- response_body_like: "path":"/registry/register-private"



=== TEST 19: a *.localhost name is accepted with wsgate_allow_private_urls on
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register-private', 'http://x.localhost/')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 200
--- response_body_like: "path":"/registry/register-private"



=== TEST 20: metadata always refused, even with wsgate_allow_private_urls on: 169.254.169.254
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register-private', 'http://169.254.169.254/')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval
qr/\A\{"error":"invalid register payload","field":"url","reason":"address in a blocked range \((?:metadata|link-local)\)"\}\z/



=== TEST 21: metadata always refused, even with wsgate_allow_private_urls on: AWS fd00:ec2::254
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register-private', 'http://[fd00:ec2::254]/')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::URL400



=== TEST 22: metadata always refused, even with wsgate_allow_private_urls on: GCP fd20:ce::254
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register-private', 'http://[fd20:ce::254]/')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::URL400



=== TEST 23: metadata always refused, even with wsgate_allow_private_urls on: Alibaba 100.100.100.200
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register-private', 'http://100.100.100.200/')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::URL400



=== TEST 24: metadata always refused, even with wsgate_allow_private_urls on: Azure 168.63.129.16
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register-private', 'http://168.63.129.16/')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::URL400



=== TEST 25: a Teredo address is refused
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register', 'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::URL400



=== TEST 26: a Teredo address is refused with wsgate_allow_private_urls on too
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
main::reg('/registry/register-private', 'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/')
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::URL400



=== TEST 27: wsgate_hide_credentials on: the backend gets no Authorization line at all
--- http_config eval: $::HttpConfig
--- config eval: $::RawConfig
--- raw_request eval
"GET /hide HTTP/1.0\r
Host: localhost\r
Authorization: Bearer $::TOK\r
X-Other: kept\r
\r
"
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query_auto_timeout: 0.2
--- tcp_reply eval: $::RawReply
--- tcp_query eval
qr/\A(?!(?si:.*\nauthorization[ \t]*:))(?=(?s:.*)\r\nX-Other: kept\r\n)GET \/backend HTTP\/1\.[01]\r\n(?s:.*)\r\n\r\n\z/
--- response_body
ok



=== TEST 28: wsgate_hide_credentials on: auth still works (401 without a token or with an unknown one)
--- http_config eval: $::HttpConfig
--- config eval: $::RawConfig
--- request eval
["GET /hide", "GET /hide"]
--- more_headers eval
["", "Authorization: Bearer $::TOK_X"]
--- error_code eval
[401, 401]
--- response_body eval
['{"error":"missing workspace auth token"}',
 '{"error":"invalid workspace auth token"}']



=== TEST 29: wsgate_hide_credentials off: the backend gets the Authorization line unchanged
--- http_config eval: $::HttpConfig
--- config eval: $::RawConfig
--- raw_request eval
"GET /keep HTTP/1.0\r
Host: localhost\r
Authorization: bEARer   $::TOK\r
X-Other: kept\r
\r
"
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query_auto_timeout: 0.2
--- tcp_reply eval: $::RawReply
--- tcp_query eval
qr/\A(?!(?si:.*\nauthorization:.*\nauthorization:))(?s:.*)\r\nAuthorization: bEARer   \Q$::TOK\E\r\n(?s:.*)\r\n\r\n\z/
--- response_body
ok



=== TEST 30: wsgate_hide_credentials is off by default
--- http_config eval: $::HttpConfig
--- config eval: $::RawConfig
--- raw_request eval
"GET /default HTTP/1.0\r
Host: localhost\r
Authorization: Bearer $::TOK\r
\r
"
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query_auto_timeout: 0.2
--- tcp_reply eval: $::RawReply
--- tcp_query eval
qr/\r\nAuthorization: Bearer \Q$::TOK\E\r\n/
--- response_body
ok



=== TEST 31: wsgate_hide_credentials off: auth still works (401 without a token)
--- http_config eval: $::HttpConfig
--- config eval: $::RawConfig
--- request
GET /keep
--- error_code: 401
--- response_body chomp
{"error":"missing workspace auth token"}



=== TEST 32: a plain wsgate_auth location: client X-Caller-Kind / X-Caller-Name, in any spelling, never reach the backend
--- http_config eval: $::HttpConfig
--- config eval: $::RawConfig
--- raw_request eval
"GET /plain HTTP/1.0\r
Host: localhost\r
X-Caller-Kind: system\r
Authorization: Bearer $::TOK\r
x-caller-name: system:restart-context\r
X-CALLER-KIND: system\r
X-Other: kept\r
X_Caller_Kind: system\r
X_Caller_Name: system:scheduler\r
x_CALLER_name: system:scheduler\r
\r
"
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query_auto_timeout: 0.2
--- tcp_reply eval: $::RawReply
--- tcp_query eval
main::no_caller_headers()
--- response_body
ok



=== TEST 33: a wsgate_bind location: the caller headers never reach the backend
--- http_config eval: $::HttpConfig
--- config eval: $::RawConfig
--- raw_request eval
"GET /workspaces/$::WS/files HTTP/1.0\r
Host: localhost\r
Authorization: Bearer $::TOK\r
X-Caller-Name: system:restart-context\r
X-Other: kept\r
x_caller_kind: system\r
\r
"
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query_auto_timeout: 0.2
--- tcp_reply eval: $::RawReply
--- tcp_query eval
main::no_caller_headers()
--- response_body
ok



=== TEST 34: a register location: the caller headers never reach the backend, the body does
--- http_config eval: $::HttpConfig
--- config eval: $::RawConfig
--- raw_request eval
my $b = main::reg_body('https://agent.example.com/a2a');
"POST /registry/register HTTP/1.0\r
Host: localhost\r
Authorization: Bearer $::TOK\r
X-Caller-Kind: system\r
X-Other: kept\r
X_Caller_Name: system:restart-context\r
Content-Length: " . length($b) . "\r
\r
$b"
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query_auto_timeout: 0.2
--- tcp_reply eval: $::RawReply
--- tcp_query eval
main::no_caller_headers("\r\n\r\n" . main::reg_body('https://agent.example.com/a2a'))
--- response_body
ok



=== TEST 35: wsgate_bind path with an encoded slash after two dots: 400 for every caller, before any token check; nothing reaches the backend
--- http_config eval: $::HttpConfig
--- config eval: $::PathConfig
--- request eval
main::ambiguous("/workspaces/$::WS/..%2F$::WS_B/x")
--- more_headers eval: $::AmbiguousHeaders
--- error_code eval: $::AmbiguousCodes
--- response_headers eval: $::AmbiguousTypes
--- response_body eval: $::AmbiguousBodies
--- no_access_log
GET /backend/
--- no_error_log
unknown token



=== TEST 36: wsgate_bind path with an encoded slash in lower case after two dots: 400
--- http_config eval: $::HttpConfig
--- config eval: $::PathConfig
--- request eval
main::ambiguous("/workspaces/$::WS/..%2f$::WS_B/x")
--- more_headers eval: $::AmbiguousHeaders
--- error_code eval: $::AmbiguousCodes
--- response_body eval: $::AmbiguousBodies
--- no_access_log
GET /backend/



=== TEST 37: wsgate_bind path with an encoded slash and no dots: 400
--- http_config eval: $::HttpConfig
--- config eval: $::PathConfig
--- request eval
main::ambiguous("/workspaces/$::WS/a%2Fb")
--- more_headers eval: $::AmbiguousHeaders
--- error_code eval: $::AmbiguousCodes
--- response_body eval: $::AmbiguousBodies
--- no_access_log
GET /backend/



=== TEST 38: wsgate_bind path with an encoded backslash after two dots: 400
--- http_config eval: $::HttpConfig
--- config eval: $::PathConfig
--- request eval
main::ambiguous("/workspaces/$::WS/..%5C$::WS_B/x")
--- more_headers eval: $::AmbiguousHeaders
--- error_code eval: $::AmbiguousCodes
--- response_body eval: $::AmbiguousBodies
--- no_access_log
GET /backend/



=== TEST 39: wsgate_bind path with both dots of a dot-dot segment encoded: 400
--- http_config eval: $::HttpConfig
--- config eval: $::PathConfig
--- request eval
main::ambiguous("/workspaces/$::WS/%2e%2e/$::WS_B/x")
--- more_headers eval: $::AmbiguousHeaders
--- error_code eval: $::AmbiguousCodes
--- response_body eval: $::AmbiguousBodies
--- no_access_log
GET /backend/



=== TEST 40: wsgate_bind path with one dot of a dot-dot segment encoded (upper case): 400
--- http_config eval: $::HttpConfig
--- config eval: $::PathConfig
--- request eval
main::ambiguous("/workspaces/$::WS/x/.%2E/y")
--- more_headers eval: $::AmbiguousHeaders
--- error_code eval: $::AmbiguousCodes
--- response_body eval: $::AmbiguousBodies
--- no_access_log
GET /backend/



=== TEST 41: wsgate_bind path with a ;parameter: 400
--- http_config eval: $::HttpConfig
--- config eval: $::PathConfig
--- request eval
main::ambiguous("/workspaces/$::WS/x;y=1")
--- more_headers eval: $::AmbiguousHeaders
--- error_code eval: $::AmbiguousCodes
--- response_body eval: $::AmbiguousBodies
--- no_access_log
GET /backend/



=== TEST 42: wsgate_bind path with ..; (Tomcat's parent segment): 400
--- http_config eval: $::HttpConfig
--- config eval: $::PathConfig
--- request eval
main::ambiguous("/workspaces/$::WS/..;/$::WS_B/x")
--- more_headers eval: $::AmbiguousHeaders
--- error_code eval: $::AmbiguousCodes
--- response_body eval: $::AmbiguousBodies
--- no_access_log
GET /backend/



=== TEST 43: wsgate_bind path with a plain .. segment, even back into the same workspace: 400
--- http_config eval: $::HttpConfig
--- config eval: $::PathConfig
--- request eval
main::ambiguous("/workspaces/$::WS/../$::WS/x")
--- more_headers eval: $::AmbiguousHeaders
--- error_code eval: $::AmbiguousCodes
--- response_body eval: $::AmbiguousBodies
--- no_access_log
GET /backend/



=== TEST 44: an ambiguous path is refused before any Redis lookup: 400 with Redis unreachable (a lookup would be 503)
--- http_config
    wsgate_redis 127.0.0.1:1 connect_timeout=200ms timeout=200ms;
--- config eval: $::PathConfig
--- request eval
["GET /workspaces/$::WS/..%2F$::WS_B/x", "GET /workspaces/$::WS/x;y=1",
 "GET /workspaces/$::WS/x"]
--- more_headers eval
["Authorization: Bearer $::TOK", "Authorization: Bearer $::TOK",
 "Authorization: Bearer $::TOK"]
--- error_code eval
[400, 400, 503]
--- response_body eval
[$::AMBIG, $::AMBIG, '{"error":"auth backend unavailable"}']



=== TEST 45: not ambiguous: two dots inside a segment
--- http_config eval: $::HttpConfig
--- config eval: $::PathConfig
--- request eval
["GET /workspaces/$::WS/a..b", "GET /workspaces/$::WS/a..b"]
--- more_headers eval
["Authorization: Bearer $::TOK", ""]
--- error_code eval
[200, 401]
--- response_body eval
["backend saw /backend/workspaces/$::WS/a..b\n",
 '{"error":"missing workspace auth token"}']



=== TEST 46: not ambiguous: a segment starting with a dot
--- http_config eval: $::HttpConfig
--- config eval: $::PathConfig
--- request eval
["GET /workspaces/$::WS/.well-known/x", "GET /workspaces/$::WS/.well-known/x"]
--- more_headers eval
["Authorization: Bearer $::TOK", "Authorization: Bearer $::TOK_B"]
--- error_code eval
[200, 401]
--- response_body eval
["backend saw /backend/workspaces/$::WS/.well-known/x\n",
 '{"error":"invalid workspace auth token"}']



=== TEST 47: not ambiguous: an encoded slash, ; and .. in the query string
--- http_config eval: $::HttpConfig
--- config eval: $::PathConfig
--- request eval
["GET /workspaces/$::WS/x?q=%2F;..", "GET /workspaces/$::WS/x?q=%2F;.."]
--- more_headers eval
["Authorization: Bearer $::TOK", ""]
--- error_code eval
[200, 401]
--- response_body eval
["backend saw /backend/workspaces/$::WS/x?q=%2F;..\n",
 '{"error":"missing workspace auth token"}']



=== TEST 48: a wsgate_auth location without wsgate_bind is not affected: ; and an encoded slash pass there
--- http_config eval: $::HttpConfig
--- config eval: $::PathConfig
--- request eval
["GET /plain/x;y=1", "GET /plain/a%2Fb", "GET /plain/x;y=1"]
--- more_headers eval
["Authorization: Bearer $::TOK", "Authorization: Bearer $::TOK", ""]
--- error_code eval
[200, 200, 401]
--- response_body eval
["backend saw /backend/plain/x;y=1\n", "backend saw /backend/plain/a%2Fb\n",
 '{"error":"missing workspace auth token"}']



=== TEST 49: register payload: id and ID (equal under case folding) are ambiguous
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
"POST /registry/register\n"
. qq({"id":"$::WS","url":"https://agent.example.com/a2a","agent_card":{"name":"a"},"ID":"$::WS_B"})
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::REG400



=== TEST 50: register payload: name and NAME in agent_card are ambiguous
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
"POST /registry/register\n"
. qq({"id":"$::WS","url":"https://agent.example.com/a2a","agent_card":{"name":"a","NAME":"b"}})
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::REG400



=== TEST 51: register payload: a key containing \u0000
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
"POST /registry/register\n"
. qq({"id":"$::WS","url":"https://agent.example.com/a2a","agent_card":{"name":"a"},"id\\u0000x":"$::WS_B"})
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::REG400



=== TEST 52: register payload: a checked string (agent_card.name) containing \u0000
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
"POST /registry/register\n"
. qq({"id":"$::WS","url":"https://agent.example.com/a2a","agent_card":{"name":"agent\\u0000-1"}})
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::REG400



=== TEST 53: A2A envelope: jsonrpc and JSONRPC are ambiguous
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request
POST /a2a
{"jsonrpc":"2.0","JSONRPC":"1.0","method":"m","id":1}
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::A2A400



=== TEST 54: A2A envelope: jsonrpc and j\u017Fonrpc (LATIN SMALL LETTER LONG S folds to s) are ambiguous
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
"POST /a2a\n" . '{"jsonrpc":"2.0","j' . "\xc5\xbf" . 'onrpc":"1.0","method":"m","id":1}'
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::A2A400



=== TEST 55: A2A envelope: a method containing \u0000
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request
POST /a2a
{"jsonrpc":"2.0","method":"m\u0000x","id":1}
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::A2A400



=== TEST 56: A2A envelope: k and \u212A (KELVIN SIGN) in params are ambiguous
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request eval
"POST /a2a\n" . '{"jsonrpc":"2.0","method":"m","id":1,"params":{"k":1,"' . "\xe2\x84\xaa" . '":2}}'
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::A2A400



=== TEST 57: A2A envelope: a key containing \u0000 in params
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request
POST /a2a
{"jsonrpc":"2.0","method":"m","id":1,"params":{"a\u0000b":1}}
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400
--- response_body_like eval: $::A2A400



=== TEST 58: A2A envelope: \u0000 inside an ordinary payload value is allowed
--- http_config eval: $::HttpConfig
--- config eval: $::RegConfig
--- request
POST /a2a
{"jsonrpc":"2.0","method":"m","id":1,"params":{"text":"a\u0000b"}}
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 200
--- response_body_like: "path":"/a2a"



=== TEST 59: log escaping: a forged A2A claim with " and \ is logged as \x22 and \x5C
--- http_config eval: $::HttpConfig
--- config eval: $::PathConfig
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK\nX-Workspace-ID: system:a\"b\\c"
--- error_code: 403
--- error_log eval
qr/wsgate a2a: forged caller "system:a\\x22b\\x5Cc" refused/
--- no_error_log eval
[qr/system:a"b/, qr/b\\c/]



=== TEST 60: log escaping: a forged A2A claim with a raw ESC byte is logged as \x1B
--- http_config eval: $::HttpConfig
--- config eval: $::PathConfig
--- raw_request eval
"POST /a2a HTTP/1.0\r
Host: localhost\r
Authorization: Bearer $::TOK\r
X-Workspace-ID: system:x\x1by\r
Content-Length: 2\r
\r
{}"
--- error_code: 403
--- error_log eval
qr/wsgate a2a: forged caller "system:x\\x1By" refused/
--- no_error_log eval
qr/\x1b/



=== TEST 61: log escaping: an A2A claim that is no caller at all, with ESC and ", is logged escaped
--- http_config eval: $::HttpConfig
--- config eval: $::PathConfig
--- raw_request eval
"POST /a2a HTTP/1.0\r
Host: localhost\r
Authorization: Bearer $::TOK\r
X-Workspace-ID: ab\x1bc\"d\r
Content-Length: 2\r
\r
{}"
--- error_code: 401
--- error_log eval
qr/wsgate a2a: .*"ab\\x1Bc\\x22d"/
--- no_error_log eval
[qr/\x1b/, qr/c"d/]



=== TEST 62: log escaping: a wsgate_bind value with an encoded ESC from the path is logged as \x1B
--- http_config eval: $::HttpConfig
--- config eval: $::PathConfig
--- request
GET /workspaces/x%1By/files
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 401
--- error_log eval
qr/wsgate auth: .*"x\\x1By"/
--- no_error_log eval
qr/\x1b/



=== TEST 63: log escaping: a wsgate_bind value with an encoded double quote from the path is logged as \x22
--- http_config eval: $::HttpConfig
--- config eval: $::PathConfig
--- request
GET /workspaces/x%22y/files
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 401
--- error_log eval
qr/wsgate auth: .*"x\\x22y"/
--- no_error_log eval
qr/x"y/
