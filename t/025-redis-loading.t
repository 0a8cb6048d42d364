# vi:filetype=perl
#
# A Redis that is loading its dataset answers -LOADING (to PING, the last
# command of wsgate's connection setup, while AUTH, SELECT and SETNAME
# succeed): wsgate treats it as not ready — 503 at once, one log line,
# retries with backoff — and serves again once the load is done, with no
# reload.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use WsgateTest;

our $WS  = '0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01';
our $TOK = 'tA3vQm9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';

# a dataset that takes about 3 s to load: 15000 keys, 200 us each
our $LOAD = redis_extra(name => 'LOAD', conf => ['enable-debug-command yes']);
redis_cmd_on($LOAD, 'DEBUG', 'POPULATE', 15000);
redis_cmd_on($LOAD, 'HSET', 'wsgate:token:' . sha256_hex($TOK),
             'ws', $WS, 'kind', 'workspace', 'created_ms', 1);
redis_cmd_on($LOAD, 'SAVE');

our $Config = <<'_EOC_';
    location = /t {
        wsgate_auth on;
        proxy_set_header X-WS $wsgate_workspace_id;
        proxy_pass http://127.0.0.1:$server_port/echo;
    }

    location = /echo {
        return 200 "ws=$http_x_ws\n";
    }
_EOC_

no_shuffle();
check_accum_error_log();
run_tests();

__DATA__

=== TEST 1: Redis restarts and loads its dataset: 503 at once, one line for each reason
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_LOAD_PORT timeout=5s;
--- config eval: $::Config
--- init
redis_restart_on($::LOAD, conf => ['enable-debug-command yes',
                                   'key-load-delay 200',
                                   'loading-process-events-interval-bytes 1024'],
                 ready => 0);
select(undef, undef, undef, 0.3);
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::TOK", "Authorization: Bearer $::TOK"]
--- timeout: 0.5
--- error_code eval
[503, 503]
--- response_body eval
['{"error":"auth backend unavailable"}',
 '{"error":"auth backend unavailable"}']
--- grep_error_log eval: qr/\[error\].*wsgate redis: .*/
--- grep_error_log_out eval
qr/\A[^\n]* unavailable: connection closed by redis, reconnecting\n(?:[^\n]* unavailable: connect\(\) failed \(111: Connection refused\)\n)?[^\n]* unavailable: redis is loading its dataset\n\z/
--- no_error_log
is available again



=== TEST 2: ... and serves again once the load is done, no reload
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_LOAD_PORT timeout=5s;
--- config eval: $::Config
--- init
# nginx restarted with this block: wait out the load, then the backoff
for (1 .. 600) {
    last unless eval { redis_cmd_on($::LOAD, 'PING'); 0 } // 1;
    select(undef, undef, undef, 0.01);
}
select(undef, undef, undef, 0.7);
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK"
--- response_body eval
"ws=$::WS\n"
