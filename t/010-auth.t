# vi:filetype=perl
#
# Bearer-token authentication against Redis: who gets in, and the exact
# 401 answers for everyone else.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use WsgateTest;

our $WS_A  = '0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01';
our $WS_B  = '5d0f8a4e-1c2b-4a6d-8e9f-0a1b2c3d4e5f';
our $TOK_A = 'tA3vQm9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';
our $TOK_B = 'tBxK2m9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNcE';
our $TOK_S = 'sYs2m9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNcEx';
our $TOK_X = 'unKnoWn9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNc';
our $TOK_P = 'pReFiX9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNcE';
# a key prefix too long for the key to be built in the request context
our $LONG_PREFIX = 'acme-' . ('x' x 100) . ':';
our $TOK_LP = 'lOnGpReFiX9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5b';
our $TOK_M = 'mAlFoRm9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNc';
our $TOK_L = 'L' x 512;
# on a cluster (WSGATE_TEST_CLUSTER=1): a workspace on the third master
our $WS_C  = '7e1d2c3b-4a59-4687-9a0b-1c2d3e4f5001';
our $TOK_C = 'tCmAsTr902QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5b';

redis_flush();
seed_token($TOK_A, ws => $WS_A, kind => 'workspace');
seed_token($TOK_B, ws => $WS_B, kind => 'workspace');
seed_token($TOK_S, name => 'system:scheduler', kind => 'system');
seed_token($TOK_P, ws => $WS_B, kind => 'workspace', prefix => 'acme:');
seed_token($TOK_LP, ws => $WS_C, kind => 'workspace', prefix => $LONG_PREFIX);
seed_token($TOK_L, ws => $WS_A, kind => 'workspace');
seed_token($TOK_C, ws => $WS_C, kind => 'workspace');
redis_cmd('HSET', 'wsgate:token:' . sha256_hex($TOK_M),
          'ws', 'not-a-uuid', 'kind', 'workspace');
cluster_spread_ok();

our $HttpConfig = <<"_EOC_";
    @{[redis_conf(timeout => '2s')]}
    @{[cache_conf()]}
_EOC_

our $Config = <<'_EOC_';
    location = /t {
        wsgate_auth on;
        proxy_set_header X-WS $wsgate_workspace_id;
        proxy_set_header X-Kind $wsgate_token_kind;
        proxy_set_header X-Prefix $wsgate_token_prefix;
        proxy_set_header X-Result $wsgate_auth_result;
        proxy_pass http://127.0.0.1:$server_port/echo;
    }

    location ~ ^/workspaces/([^/]+)/state$ {
        wsgate_auth on;
        wsgate_bind $1;
        proxy_set_header X-WS $wsgate_workspace_id;
        proxy_pass http://127.0.0.1:$server_port/echo;
    }

    location = /open {
        proxy_pass http://127.0.0.1:$server_port/echo;
    }

    location = /echo {
        return 200 "ws=$http_x_ws kind=$http_x_kind prefix=$http_x_prefix result=$http_x_result\n";
    }
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a valid workspace token gets through with its workspace
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- response_body eval
"ws=$::WS_A kind=workspace prefix=tA3vQm9x result=ok\n"
--- no_error_log
[error]



=== TEST 2: the scheme is case-insensitive and may be followed by several spaces
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: bEARer    $::TOK_A"
--- response_body eval
"ws=$::WS_A kind=workspace prefix=tA3vQm9x result=ok\n"



=== TEST 3: no Authorization header
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /t
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer
Content-Type: application/json
--- response_body chomp
{"error":"missing workspace auth token"}



=== TEST 4: an empty token
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: Bearer "
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer
--- response_body chomp
{"error":"missing workspace auth token"}



=== TEST 5: the Basic scheme
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /t
--- more_headers
Authorization: Basic dXNlcjpwYXNzd29yZA==
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer
--- response_body chomp
{"error":"missing workspace auth token"}



=== TEST 6: a token over 512 characters
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: Bearer " . ('L' x 513)
--- error_code: 401
--- response_body chomp
{"error":"missing workspace auth token"}



=== TEST 7: a token of exactly 512 characters is accepted
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK_L"
--- response_body eval
"ws=$::WS_A kind=workspace prefix=LLLLLLLL result=ok\n"



=== TEST 8: a token shorter than 16 characters
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /t
--- more_headers
Authorization: Bearer abcdefghijklmno
--- error_code: 401
--- response_body chomp
{"error":"missing workspace auth token"}



=== TEST 9: a token with characters outside b64token
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /t
--- more_headers
Authorization: Bearer tA3vQm9xYbL2kR8s!n4pJd7fGh1cZe6uVy0iOq5tNaM
--- error_code: 401
--- response_body chomp
{"error":"missing workspace auth token"}



=== TEST 10: two Authorization headers, even if both are valid, get nginx's own 400
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK_A\nAuthorization: Bearer $::TOK_A"
--- error_code: 400
--- response_headers
!WWW-Authenticate
--- response_body_like: 400 Bad Request
--- no_access_log
GET /echo



=== TEST 11: two Authorization headers outside wsgate_auth get the same 400
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /open
--- more_headers eval
"Authorization: Bearer $::TOK_A\nAuthorization: Bearer $::TOK_B"
--- error_code: 400
--- response_body_like: 400 Bad Request
--- no_access_log
GET /echo



=== TEST 12: an unknown token
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK_X"
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
Content-Type: application/json
--- response_body chomp
{"error":"invalid workspace auth token"}
--- error_log
wsgate auth: unknown token "unKnoWn9..."



=== TEST 13: wsgate_bind admits the token of that workspace
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"GET /workspaces/$::WS_A/state"
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- response_body eval
"ws=$::WS_A kind= prefix= result=\n"



=== TEST 14: wsgate_bind refuses the token of another workspace like an invalid one
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"GET /workspaces/$::WS_A/state"
--- more_headers eval
"Authorization: Bearer $::TOK_B"
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
--- response_body chomp
{"error":"invalid workspace auth token"}
--- error_log eval
qr/wsgate auth: token "tBxK2m9Q\.\.\." is not bound to "\Q$::WS_A\E"/



=== TEST 15: wsgate_bind compares UUIDs without regard to hex case
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"GET /workspaces/" . uc($::WS_A) . "/state"
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- error_code: 200



=== TEST 16: a system token is not bound to any workspace
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"GET /workspaces/$::WS_A/state"
--- more_headers eval
"Authorization: Bearer $::TOK_S"
--- error_code: 401
--- response_body chomp
{"error":"invalid workspace auth token"}



=== TEST 17: a system token outside wsgate_bind gets through as kind system
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK_S"
--- response_body
ws= kind=system prefix=sYs2m9Qv result=ok



=== TEST 18: an expired token (its key's TTL ran out) is invalid
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
seed_token('eXpIrEd9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNc',
           ws => $::WS_A, kind => 'workspace', ttl_ms => 100);
select(undef, undef, undef, 0.3);
--- request
GET /t
--- more_headers
Authorization: Bearer eXpIrEd9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNc
--- error_code: 401
--- response_body chomp
{"error":"invalid workspace auth token"}



=== TEST 19: wsgate_key_prefix selects the keyspace
--- http_config eval
"    @{[redis_conf()]}
    wsgate_key_prefix \"acme:\";"
--- config eval: $::Config
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::TOK_P", "Authorization: Bearer $::TOK_A"]
--- error_code eval
[200, 401]



=== TEST 20: a malformed token record is refused and logged
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK_M"
--- error_code: 401
--- error_log
wsgate auth: malformed token record for "mAlFoRm9..."



=== TEST 21: a request that is not authenticated never reaches the backend
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK_X"
--- error_code: 401
--- no_access_log
GET /echo



=== TEST 22: the token never appears in a line wsgate writes, at debug level
--- log_level: debug
--- http_config eval: $::HttpConfig
--- config
    location /files/ {
        wsgate_auth on;
        wsgate_bind $arg_ws;
        root html;
    }
--- user_files
>>> files/a.txt
hello
--- request eval
["GET /files/a.txt?ws=$::WS_A", "GET /files/a.txt?ws=$::WS_B",
 "GET /files/a.txt?ws=$::WS_A", "GET /files/a.txt?ws=$::WS_A"]
--- more_headers eval
["Authorization: Bearer $::TOK_A", "Authorization: Bearer $::TOK_A",
 "Authorization: Bearer $::TOK_X", "Authorization: Bearer " . $::TOK_A . "!"]
--- error_code eval
[200, 401, 401, 401]
--- no_error_log eval
[qr/^(?!.*http header: "Authorization: ).*tA3vQm9xY/m,
 qr/^(?!.*http header: "Authorization: ).*unKnoWn9Q/m]



=== TEST 23: a token of each of three workspaces (on a cluster: each on its own master) opens only its own workspace
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["GET /workspaces/$::WS_A/state", "GET /workspaces/$::WS_B/state",
 "GET /workspaces/$::WS_C/state", "GET /workspaces/$::WS_A/state"]
--- more_headers eval
["Authorization: Bearer $::TOK_A", "Authorization: Bearer $::TOK_B",
 "Authorization: Bearer $::TOK_C", "Authorization: Bearer $::TOK_C"]
--- error_code eval
[200, 200, 200, 401]
--- response_body eval
["ws=$::WS_A kind= prefix= result=\n", "ws=$::WS_B kind= prefix= result=\n",
 "ws=$::WS_C kind= prefix= result=\n",
 '{"error":"invalid workspace auth token"}']



=== TEST 24: a key prefix of 106 bytes (the key does not fit the context's buffer) selects the keyspace too
--- http_config eval
"    @{[redis_conf()]}
    @{[cache_conf()]}
    wsgate_key_prefix \"$::LONG_PREFIX\";"
--- config eval: $::Config
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::TOK_LP", "Authorization: Bearer $::TOK_A",
 "Authorization: Bearer $::TOK_LP"]
--- error_code eval
[200, 401, 200]
--- response_body eval
["ws=$::WS_C kind=workspace prefix=lOnGpReF result=ok\n",
 '{"error":"invalid workspace auth token"}',
 "ws=$::WS_C kind=workspace prefix=lOnGpReF result=ok\n"]
