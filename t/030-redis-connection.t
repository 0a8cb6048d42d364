# vi:filetype=perl
#
# How wsgate reaches Redis: ACL user + password, password only,
# password_file, SELECT of a non-zero db, a unix socket, TLS with peer
# verification.  A refused setup is 503 with one clear log line.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use WsgateTest;

our $WS  = '0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01';
our $TOK = 'tA3vQm9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';
our $DIG = sha256_hex($TOK);

sub seed_on {
    my $inst = shift;
    redis_cmd_on($inst, 'HSET', "wsgate:token:$DIG", 'ws', $WS,
                 'kind', 'workspace', 'created_ms', 1);
}

our $ACL = redis_extra(name => 'ACL',
                       acl => ['user default off',
                               'user edge on >edge-pw ~* &* +@all']);
$ACL->{auth} = ['edge', 'edge-pw'];
seed_on($ACL);

our $PW = redis_extra(name => 'PW', requirepass => 'file-pw');
seed_on($PW);

$ENV{TEST_NGINX_PW_FILE} = "$PW->{dir}/redis.pw";
open my $fh, '>', $ENV{TEST_NGINX_PW_FILE} or die $!;
print $fh "file-pw\n";
close $fh;

our $UNIX = redis_extra(name => 'UNIX', unix => 1);
seed_on($UNIX);

our $TLS = redis_extra(name => 'TLS', tls => 1);
seed_on($TLS);

redis_flush();
redis_cmd('SELECT', 5);
seed_token($TOK, ws => $WS, kind => 'workspace');
redis_cmd('SELECT', 0);

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

=== TEST 1: AUTH with an ACL user and password
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_ACL_PORT user=edge password=edge-pw;
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK"
--- response_body eval
"ws=$::WS\n"
--- no_error_log
[error]



=== TEST 2: a wrong ACL password: 503, and one error line, not one per request
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_ACL_PORT user=edge password=wrong;
--- config eval: $::Config
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::TOK", "Authorization: Bearer $::TOK",
 "Authorization: Bearer $::TOK", "Authorization: Bearer $::TOK"]
--- error_code eval
[503, 503, 503, 503]
--- wait: 0.5
--- grep_error_log eval: qr/\[error\].*wsgate redis: .*/
--- grep_error_log_out eval
qr/\A[^\n]*unavailable: connection setup refused: "WRONGPASS[^\n]*\n\z/



=== TEST 3: password_file, password only
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PW_PORT password_file=$TEST_NGINX_PW_FILE;
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK"
--- response_body eval
"ws=$::WS\n"
--- no_error_log
[error]



=== TEST 4: no password where one is required: 503 and a clear line
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PW_PORT;
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 503
--- error_log
unavailable: connection setup refused: "NOAUTH



=== TEST 5: SELECT of a non-zero db
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT db=5;
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK"
--- response_body eval
"ws=$::WS\n"



=== TEST 6: db 0 does not hold that token
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 401



=== TEST 7: a unix socket
--- http_config
    wsgate_redis unix:$TEST_NGINX_REDIS_UNIX_UNIX;
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK"
--- response_body eval
"ws=$::WS\n"
--- no_error_log
[error]



=== TEST 8: TLS with peer and name verification
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_TLS_TLS_PORT tls tls_verify
                 tls_ca=$TEST_NGINX_REDIS_TLS_CA;
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK"
--- response_body eval
"ws=$::WS\n"
--- no_error_log
[error]



=== TEST 9: TLS with the name given by tls_name
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_TLS_TLS_PORT tls tls_verify
                 tls_name=localhost tls_ca=$TEST_NGINX_REDIS_TLS_CA;
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK"
--- response_body eval
"ws=$::WS\n"



=== TEST 10: TLS against a certificate from another CA: 503 and a clear line
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_TLS_TLS_PORT tls tls_verify
                 tls_ca=$TEST_NGINX_REDIS_TLS_WRONG_CA;
--- config eval: $::Config
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::TOK", "Authorization: Bearer $::TOK"]
--- error_code eval
[503, 503]
--- error_log
SSL certificate verify error



=== TEST 11: TLS with a name the certificate does not carry
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_TLS_TLS_PORT tls tls_verify
                 tls_name=redis.example.com tls_ca=$TEST_NGINX_REDIS_TLS_CA;
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 503
--- error_log
SSL certificate does not match "redis.example.com"



=== TEST 12: TLS without verification still encrypts and works
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_TLS_TLS_PORT tls;
--- config eval: $::Config
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK"
--- response_body eval
"ws=$::WS\n"
