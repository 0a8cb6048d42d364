# vi:filetype=perl
#
# Whatever Redis does, a worker never blocks and a request never hangs:
# Redis frozen, stopped, absent at start, restarted; the client leaving
# while Redis is slow.  Redis down is 503, never 401.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use WsgateTest;
use WsgateHttp;

our $WS  = '0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01';
our $TOK = 'tA3vQm9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';

sub seed { seed_token($TOK, ws => $WS, kind => 'workspace') }

redis_flush();
seed();

our $Config = <<'_EOC_';
    location = /t {
        wsgate_auth on;
        proxy_set_header X-WS $wsgate_workspace_id;
        proxy_pass http://127.0.0.1:$server_port/echo;
    }

    location = /echo {
        return 200 "ws=$http_x_ws\n";
    }

    location = /plain {
        return 200 "plain\n";
    }
_EOC_

no_shuffle();
check_accum_error_log();
worker_connections(4096);
run_tests();

__DATA__

=== TEST 1: Redis frozen: a plain location still answers at once while lookups wait
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=1s;
--- config eval: $::Config
--- init
redis_pause(1500);
http_background(count => 20, uri => '/t',
                headers => ["Authorization: Bearer $::TOK"]);
select(undef, undef, undef, 0.2);
--- request
GET /plain
--- timeout: 0.1
--- response_body
plain
--- wait: 1.2
--- error_log
wsgate redis: 127.0.0.1
unavailable: redis timed out



=== TEST 2: Redis frozen: 503 with Retry-After within timeout + 200 ms
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=300ms;
--- config eval: $::Config
--- init
select(undef, undef, undef, 0.4);
redis_pause(1000);
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK"
--- timeout: 0.5
--- error_code: 503
--- response_headers
Retry-After: 1
Content-Type: application/json
--- response_body chomp
{"error":"auth backend unavailable"}
--- wait: 0.8



=== TEST 3: after a freeze ends, lookups work again without a reload
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=300ms;
--- config eval: $::Config
--- init
redis_pause(600);
http_background(count => 5, uri => '/t',
                headers => ["Authorization: Bearer $::TOK"]);
select(undef, undef, undef, 1.5);
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK"
--- response_body eval
"ws=$::WS\n"
--- error_log
unavailable: redis timed out
is available again



=== TEST 4: Redis stopped: 503 at once, never 401, one log line per reason, not per request
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config eval: $::Config
--- init
redis_stop();
select(undef, undef, undef, 0.1);
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::TOK", "Authorization: Bearer $::TOK",
 "Authorization: Bearer $::TOK"]
--- timeout: 0.2
--- error_code eval
[503, 503, 503]
--- response_body eval
['{"error":"auth backend unavailable"}',
 '{"error":"auth backend unavailable"}',
 '{"error":"auth backend unavailable"}']
--- grep_error_log eval: qr/\[error\].*wsgate redis: .*/
--- grep_error_log_out eval
qr/\A[^\n]* unavailable: connection closed by redis, reconnecting\n[^\n]* unavailable: connect\(\) failed \(111: Connection refused\)\n\z/



=== TEST 5: nginx starts while Redis is down, and authenticates within 1 s of Redis coming up
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config eval: $::Config
--- init
# Redis has been down since TEST 4 and nginx has just started
select(undef, undef, undef, 1.5);
redis_start();
main::seed();
select(undef, undef, undef, 1.0);
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK"
--- response_body eval
"ws=$::WS\n"
--- error_log
unavailable: connect() failed
is available again



=== TEST 6: Redis restarted mid-run: recovers with no reload
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config eval: $::Config
--- init
select(undef, undef, undef, 0.2);
redis_stop();
redis_start();
main::seed();
select(undef, undef, undef, 1.0);
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK"
--- response_body eval
"ws=$::WS\n"
--- error_log
unavailable: connection closed by redis, reconnecting



=== TEST 7: the client leaves while Redis is frozen: the late reply is dropped
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=2s;
--- config eval: $::Config
--- init
select(undef, undef, undef, 0.2);
redis_pause(700);
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK"
--- timeout: 0.2
--- abort
--- ignore_response
--- wait: 1
--- error_log
wsgate: request gone, redis reply will be dropped
--- no_error_log
[alert]
[crit]
unavailable



=== TEST 8: the same worker keeps serving after dropping a late reply
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=2s;
--- config eval: $::Config
--- init
select(undef, undef, undef, 0.2);
redis_pause(500);
http_background(count => 10, uri => '/t', close_after => 0.1,
                headers => ["Authorization: Bearer $::TOK"]);
select(undef, undef, undef, 0.8);
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK"
--- response_body eval
"ws=$::WS\n"
--- no_error_log
[alert]
[crit]



=== TEST 9: an error reply from Redis is 503, not 401
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config eval: $::Config
--- init
redis_cmd('SET', 'wsgate:token:' . sha256_hex('wRoNgTyPe9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5b'), 'x');
--- request
GET /t
--- more_headers
Authorization: Bearer wRoNgTyPe9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5b
--- error_code: 503
--- error_log
wsgate auth: redis answered the token lookup with "WRONGTYPE



=== TEST 10: 500 concurrent lookups on one worker, half valid, half not, all answered right
--- main_config
    worker_rlimit_nofile 4096;
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=5s;
--- config
    location = /fan {
        ssi on;
        ssi_types *;
        root html;
        try_files /fan.txt =404;
    }

    location ~ ^/sub/good/ {
        proxy_set_header Authorization "Bearer tA3vQm9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM";
        proxy_pass http://127.0.0.1:$server_port/t;
    }

    location ~ ^/sub/bad/ {
        proxy_set_header Authorization "Bearer bAdbAd9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM";
        proxy_pass http://127.0.0.1:$server_port/t;
    }

    location = /t {
        wsgate_auth on;
        proxy_set_header X-WS $wsgate_workspace_id;
        proxy_pass http://127.0.0.1:$server_port/echo;
    }

    location = /echo {
        return 200 "ws=$http_x_ws\n";
    }
--- user_files eval
[["fan.txt", CORE::join("", map { $_ % 2
        ? "<!--# include virtual=\"/sub/bad/$_\" -->"
        : "<!--# include virtual=\"/sub/good/$_\" -->" } 1 .. 500)]]
--- init
redis_pause(300);
--- request
GET /fan
--- timeout: 10
--- response_body eval
CORE::join("", map { $_ % 2
        ? qq({"error":"invalid workspace auth token"})
        : "ws=$::WS\n" } 1 .. 500)
--- no_error_log
[error]
[alert]
