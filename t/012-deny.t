# vi:filetype=perl
#
# Denials the nginx way: wsgate returns its denial as the status, so nginx
# answers two Authorization lines itself, an error_page for that status
# takes over the body, `satisfy any` works as with auth_basic, and without
# an error_page the client gets the contract's JSON.  Refusals of what a
# client sent are logged at [info], a forged system caller at [warn].

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use WsgateTest;

our $WS_A  = '0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01';
our $TOK_A = 'tA3vQm9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';
our $TOK_B = 'tBxK2m9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNcE';
our $TOK_S = 'sYsRc9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNcEx';
our $TOK_X = 'unKnoWn9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNc';

# uuid.uuid5(uuid.NAMESPACE_URL, 'system:restart-context') in Python
our $ID_RESTART = '1a6dd07d-3c32-5fad-a541-9b52f879b82d';

redis_flush();
seed_token($TOK_A, ws => $WS_A, kind => 'workspace');
seed_token($TOK_S, name => 'system:restart-context', kind => 'system');

# nginx's own debug lines carry the Authorization header
log_level('info');

our $HttpConfig = <<"_EOC_";
    wsgate_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} timeout=2s;
_EOC_

# Redis at a port nobody listens on
our $HttpConfigDown = <<'_EOC_';
    wsgate_redis 127.0.0.1:$TEST_NGINX_RAND_PORT_1 connect_timeout=500ms
                 timeout=500ms;
_EOC_

our $RegisterBad = '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01",'
                 . '"url":"http://169.254.169.254/latest/meta-data",'
                 . '"agent_card":{"name":"agent-1"}}';

our $Config = <<'_EOC_';
    # wsgate's own answers
    location = /t {
        wsgate_auth on;
        proxy_set_header X-WS $wsgate_workspace_id;
        proxy_pass http://127.0.0.1:$server_port/echo;
    }

    # error_page takes over a 401 with a named location
    location = /t-named {
        wsgate_auth on;
        error_page 401 = @denied;
        proxy_set_header X-WS $wsgate_workspace_id;
        proxy_pass http://127.0.0.1:$server_port/echo;
    }

    location @denied {
        return 401 "named-page\n";
    }

    # error_page takes over a 503 with a static page
    location = /t-maint {
        wsgate_auth on;
        error_page 503 /maint.html;
        proxy_set_header X-WS $wsgate_workspace_id;
        proxy_pass http://127.0.0.1:$server_port/echo;
    }

    location = /maint.html {
        internal;
        root html;
    }

    # no wsgate at all
    location = /open {
        proxy_pass http://127.0.0.1:$server_port/echo;
    }

    # satisfy any: the address admits local clients without a token
    location = /any-local {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        wsgate_auth on;
        proxy_set_header X-WS $wsgate_workspace_id;
        proxy_pass http://127.0.0.1:$server_port/echo;
    }

    # satisfy any: only a token admits
    location = /any-token {
        satisfy any;
        deny all;
        wsgate_auth on;
        proxy_set_header X-WS $wsgate_workspace_id;
        proxy_pass http://127.0.0.1:$server_port/echo;
    }

    location = /registry/register {
        wsgate_auth on;
        wsgate_register on;
        proxy_pass http://127.0.0.1:$server_port/echo;
    }

    location = /registry/register-page {
        wsgate_auth on;
        wsgate_register on;
        error_page 400 /register-refused;
        proxy_pass http://127.0.0.1:$server_port/echo;
    }

    location = /register-refused {
        internal;
        return 400 "register-refused\n";
    }

    location = /a2a {
        wsgate_auth on;
        wsgate_a2a on;
        wsgate_a2a_validate on;
        proxy_pass http://127.0.0.1:$server_port/echo-a2a;
    }

    location = /a2a-page {
        wsgate_auth on;
        wsgate_a2a on;
        error_page 403 = @forged;
        proxy_pass http://127.0.0.1:$server_port/echo-a2a;
    }

    location @forged {
        return 403 "forged-page\n";
    }

    location = /echo {
        return 200 "ws=$http_x_ws\n";
    }

    location = /echo-a2a {
        return 200 "id=$http_x_workspace_id kind=$http_x_caller_kind\n";
    }
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: two Authorization lines in a wsgate_auth location: nginx's own 400, wsgate never asked
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK_A\nAuthorization: Bearer $::TOK_A"
--- error_code: 400
--- response_headers
Content-Type: text/html
!WWW-Authenticate
--- response_body_like: 400 Bad Request
--- error_log
client sent duplicate header line
--- no_error_log
wsgate auth:
--- no_access_log
/echo



=== TEST 2: two Authorization lines in a location without wsgate: the same 400
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /open
--- more_headers eval
"Authorization: Bearer $::TOK_A\nAuthorization: Bearer $::TOK_B"
--- error_code: 400
--- response_headers
Content-Type: text/html
!WWW-Authenticate
--- response_body_like: 400 Bad Request
--- error_log
client sent duplicate header line
--- no_access_log
/echo



=== TEST 3: no error_page: no token is 401 with the JSON body and the Bearer challenge
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
--- no_access_log
/echo



=== TEST 4: no error_page: an unknown token is 401 with the JSON body and error="invalid_token"
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
--- no_access_log
/echo



=== TEST 5: no error_page: Redis unreachable is 503 with the JSON body and Retry-After
--- http_config eval: $::HttpConfigDown
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- error_code: 503
--- response_headers
Retry-After: 1
Content-Type: application/json
!WWW-Authenticate
--- response_body chomp
{"error":"auth backend unavailable"}
--- no_access_log
/echo



=== TEST 6: an error_page for another status leaves a 401 as JSON
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /t-maint
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer
Content-Type: application/json
--- response_body chomp
{"error":"missing workspace auth token"}



=== TEST 7: error_page 401 = @named takes over "no token", keeping the Bearer challenge as auth_basic does
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /t-named
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer
Content-Type: text/plain
--- response_body
named-page
--- no_access_log
/echo



=== TEST 8: error_page 401 = @named takes over an unknown token
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /t-named
--- more_headers eval
"Authorization: Bearer $::TOK_X"
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
Content-Type: text/plain
--- response_body
named-page
--- no_access_log
/echo



=== TEST 9: the error_page location does not get in the way of a valid token
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /t-named
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body eval
"ws=$::WS_A\n"



=== TEST 10: error_page 503 takes over "Redis unreachable" with the maintenance page
--- http_config eval: $::HttpConfigDown
--- config eval: $::Config
--- user_files
>>> maint.html
maintenance
--- request
GET /t-maint
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- error_code: 503
--- response_body
maintenance
--- no_access_log
/echo



=== TEST 11: error_page 400 takes over an invalid register payload
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register-page\n$::RegisterBad"
--- more_headers eval
"Authorization: Bearer $::TOK_A\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: text/plain
--- response_body
register-refused
--- no_access_log
/echo



=== TEST 12: error_page 403 takes over a forged system caller
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a-page
{"jsonrpc":"2.0","method":"message/send","id":1}
--- more_headers eval
"Authorization: Bearer $::TOK_A\nX-Workspace-ID: system:restart-context"
--- error_code: 403
--- response_headers
Content-Type: text/plain
--- response_body
forged-page
--- no_access_log
/echo-a2a



=== TEST 13: the error_page 403 location still lets the genuine system caller through, rewritten
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a-page
{"jsonrpc":"2.0","method":"message/send","id":1}
--- more_headers eval
"Authorization: Bearer $::TOK_S\nX-Workspace-ID: system:restart-context"
--- error_code: 200
--- response_body eval
"id=$::ID_RESTART kind=system\n"



=== TEST 14: satisfy any: allow 127.0.0.1 admits a local client without a token, with no challenge left
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /any-local
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
ws=
--- no_error_log
[error]



=== TEST 15: satisfy any: allow 127.0.0.1 admits a local client whose token is unknown
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /any-local
--- more_headers eval
"Authorization: Bearer $::TOK_X"
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body
ws=



=== TEST 16: satisfy any with deny all: no token is wsgate's 401, not the 403 of deny
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /any-token
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer
Content-Type: application/json
--- response_body chomp
{"error":"missing workspace auth token"}
--- no_access_log
/echo



=== TEST 17: satisfy any with deny all: an unknown token is wsgate's 401 for an invalid token
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /any-token
--- more_headers eval
"Authorization: Bearer $::TOK_X"
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
Content-Type: application/json
--- response_body chomp
{"error":"invalid workspace auth token"}



=== TEST 18: satisfy any with deny all: a valid token admits
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /any-token
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- error_code: 200
--- response_headers
!WWW-Authenticate
--- response_body eval
"ws=$::WS_A\n"



=== TEST 19: an invalid register payload is logged at [info], not as an error
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n$::RegisterBad"
--- more_headers eval
"Authorization: Bearer $::TOK_A\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body chomp
{"error":"invalid register payload","field":"url","reason":"address in a blocked range (metadata)"}
--- error_log eval
qr/\[info\] .*wsgate register: workspace "\Q$::WS_A\E": invalid payload: field "url"/
--- no_error_log
[error]
[warn]



=== TEST 20: an invalid A2A envelope is logged at [info], not as an error
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{"jsonrpc":"1.0","method":"message/send","id":1}
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body chomp
{"error":"invalid A2A request","reason":"jsonrpc must be \"2.0\""}
--- error_log eval
qr/\[info\] .*wsgate a2a: invalid A2A request from caller "\Q$::WS_A\E"/
--- no_error_log
[error]
[warn]



=== TEST 21: a forged system caller is 403 as JSON and logged at [warn], not as an error
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{"jsonrpc":"2.0","method":"message/send","id":1}
--- more_headers eval
"Authorization: Bearer $::TOK_A\nX-Workspace-ID: system:restart-context"
--- error_code: 403
--- response_headers
Content-Type: application/json
!WWW-Authenticate
--- response_body chomp
{"error":"invalid caller ID"}
--- error_log eval
qr/\[warn\] .*wsgate a2a: forged caller "system:restart-context" refused/
--- no_error_log
[error]
