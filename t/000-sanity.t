# vi:filetype=perl
#
# The module loads, every directive parses, and bad arguments stop nginx
# with a message that names the directive and the bad value.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use WsgateTest;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the module loads and every directive parses
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT db=0 connect_timeout=500ms
                 timeout=250ms;
    wsgate_key_prefix "acme:";
--- config
    location ~ ^/w/([0-9a-f-]+)/ {
        wsgate_auth on;
        wsgate_bind $1;
        proxy_pass http://127.0.0.1:$server_port/echo;
    }

    location = /open {
        wsgate_auth off;
        return 200 "open\n";
    }
--- request
GET /open
--- response_body
open
--- no_error_log
[error]
[emerg]



=== TEST 2: wsgate_redis with every option, user and password, tls
--- http_config
    wsgate_redis localhost:$TEST_NGINX_REDIS_PORT db=3 user=edge password=s3cret
                 connect_timeout=1s timeout=2s tls tls_name=redis.internal;
--- config
    location = /t { wsgate_auth on; proxy_pass http://127.0.0.1:$server_port/x; }
    location = /open { return 200 "ok\n"; }
--- request
GET /open
--- response_body
ok
--- no_error_log
[emerg]



=== TEST 3: a unix socket address
--- http_config
    wsgate_redis unix:/tmp/wsgate-does-not-exist.sock;
--- config
    location = /t { wsgate_auth on; proxy_pass http://127.0.0.1:$server_port/x; }
    location = /open { return 200 "ok\n"; }
--- request
GET /open
--- response_body
ok



=== TEST 4: a bad address
--- http_config
    wsgate_redis 127.0.0.1:99999;
--- config
--- must_die
--- error_log
invalid port in redis address "127.0.0.1:99999"



=== TEST 5: an unknown option
--- http_config
    wsgate_redis 127.0.0.1:6379 colour=blue;
--- config
--- must_die
--- error_log
invalid redis option "colour=blue"



=== TEST 6: a negative timeout
--- http_config
    wsgate_redis 127.0.0.1:6379 timeout=-1s;
--- config
--- must_die
--- error_log
invalid redis timeout "timeout=-1s"



=== TEST 7: a connect timeout that is not a time
--- http_config
    wsgate_redis 127.0.0.1:6379 connect_timeout=soon;
--- config
--- must_die
--- error_log
invalid redis timeout "connect_timeout=soon"



=== TEST 8: a db that is not a number
--- http_config
    wsgate_redis 127.0.0.1:6379 db=two;
--- config
--- must_die
--- error_log
invalid redis db "db=two"



=== TEST 9: an option with an empty value
--- http_config
    wsgate_redis 127.0.0.1:6379 password=;
--- config
--- must_die
--- error_log
empty value in redis option "password="



=== TEST 10: password and password_file together
--- http_config
    wsgate_redis 127.0.0.1:6379 password=a password_file=/etc/hostname;
--- config
--- must_die
--- error_log
"password" and "password_file" are mutually exclusive



=== TEST 11: a password file that does not exist
--- http_config
    wsgate_redis 127.0.0.1:6379 password_file=/nonexistent/wsgate.pw;
--- config
--- must_die
--- error_log
open() "/nonexistent/wsgate.pw" failed



=== TEST 12: a user without a password
--- http_config
    wsgate_redis 127.0.0.1:6379 user=edge;
--- config
--- must_die
--- error_log
redis "user" needs "password" or "password_file"



=== TEST 13: tls_verify without tls
--- http_config
    wsgate_redis 127.0.0.1:6379 tls_verify;
--- config
--- must_die
--- error_log
redis "tls_verify" needs "tls"



=== TEST 14: tls on a unix socket
--- http_config
    wsgate_redis unix:/tmp/redis.sock tls;
--- config
--- must_die
--- error_log
redis "tls" is not supported on a unix socket



=== TEST 15: a duplicate wsgate_redis
--- http_config
    wsgate_redis 127.0.0.1:6379;
    wsgate_redis 127.0.0.1:6380;
--- config
--- must_die
--- error_log
"wsgate_redis" directive is duplicate



=== TEST 16: wsgate_auth maybe
--- http_config
    wsgate_redis 127.0.0.1:6379;
--- config
    location = /t { wsgate_auth maybe; }
--- must_die
--- error_log
invalid value "maybe" in "wsgate_auth" directive, it must be "on" or "off"



=== TEST 17: wsgate_redis in the wrong context
--- config
    location = /t { wsgate_redis 127.0.0.1:6379; }
--- must_die
--- error_log
"wsgate_redis" directive is not allowed here



=== TEST 18: wsgate_auth in the wrong context
--- http_config
    wsgate_redis 127.0.0.1:6379;
    wsgate_auth on;
--- config
--- must_die
--- error_log
"wsgate_auth" directive is not allowed here



=== TEST 19: wsgate_key_prefix in the wrong context
--- config
    wsgate_key_prefix "x:";
--- must_die
--- error_log
"wsgate_key_prefix" directive is not allowed here



=== TEST 20: wsgate_auth without a Redis to ask
--- config
    location = /t { wsgate_auth on; }
--- must_die
--- error_log
"wsgate_auth" requires "wsgate_redis" in the http block



=== TEST 21: wsgate_bind takes one argument
--- http_config
    wsgate_redis 127.0.0.1:6379;
--- config
    location = /t { wsgate_auth on; wsgate_bind; }
--- must_die
--- error_log
invalid number of arguments in "wsgate_bind" directive



=== TEST 22: wsgate_redis and wsgate_redis_cluster together
--- http_config
    wsgate_redis 127.0.0.1:6379;
    wsgate_redis_cluster 127.0.0.1:7000 127.0.0.1:7001;
--- config
--- must_die
--- error_log
"wsgate_redis_cluster" directive cannot be used with "wsgate_redis"



=== TEST 23: a duplicate wsgate_redis_cluster
--- http_config
    wsgate_redis_cluster 127.0.0.1:7000;
    wsgate_redis_cluster 127.0.0.1:7001;
--- config
--- must_die
--- error_log
"wsgate_redis_cluster" directive is duplicate



=== TEST 24: a cluster has no database but 0
--- http_config
    wsgate_redis_cluster 127.0.0.1:7000 127.0.0.1:7001 db=1;
--- config
--- must_die
--- error_log
a redis cluster has no "db" but 0



=== TEST 25: cluster nodes are TCP addresses
--- http_config
    wsgate_redis_cluster 127.0.0.1:7000 unix:/tmp/wsgate-node.sock;
--- config
--- must_die
--- error_log
redis cluster node "unix:/tmp/wsgate-node.sock" is a unix socket
