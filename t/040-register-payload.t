# vi:filetype=perl
#
# /registry/register fronting, part 1: the payload.  Every cause of a 400
# names its field and reason, writes one error-log line, and keeps the
# backend out of it; a valid payload reaches the backend byte for byte.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use WsgateTest;
use WsgateHttp;

our $WS  = '0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01';
our $TOK = 'tA3vQm9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';
# two more workspaces: on a cluster (WSGATE_TEST_CLUSTER=1) the three
# workspaces, and the three tokens, sit on three different masters
our $WS2  = '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5000';
our $TOK2 = 'tWoAa902QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNc';
our $WS3  = '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5001';
our $TOK3 = 'tHrEe903QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNc';

redis_flush();
seed_token($TOK, ws => $WS, kind => 'workspace');
seed_token($TOK2, ws => $WS2, kind => 'workspace');
seed_token($TOK3, ws => $WS3, kind => 'workspace');
cluster_spread_ok();
http_backend();

our $HttpConfig = <<"_EOC_";
    @{[redis_conf()]}
    @{[cache_conf()]}
_EOC_

our $Config = <<"_EOC_";
    location = /registry/register {
        wsgate_auth on;
        wsgate_register on;
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT};
    }

    location = /registry/register-private {
        wsgate_auth on;
        wsgate_register on;
        wsgate_allow_private_urls on;
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT};
    }
_EOC_

sub body_sha { require Digest::SHA; Digest::SHA::sha256_hex(shift) }

sub good { qq({"id":"$_[0]","url":"https://agent.example.com/a2a",)
           . qq("agent_card":{"name":"agent-1"}}) }
sub bad  { qq({"id":"$_[0]","url":"http://169.254.169.254/a2a",)
           . qq("agent_card":{"name":"agent-1"}}) }

no_shuffle();
run_tests();

__DATA__

=== TEST 1: 400 for a body that is not JSON
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"body","reason":"not valid JSON"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "body": not valid JSON'
--- no_access_log
HTTP/1.0" 200


=== TEST 2: 400 for a body that is not an object
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '["not","an","object"]'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"body","reason":"not a JSON object"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "body": not a JSON object'
--- no_access_log
HTTP/1.0" 200


=== TEST 3: 400 for id missing
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"url":"https://agent.example.com/a2a","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"id","reason":"missing"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "id": missing'
--- no_access_log
HTTP/1.0" 200


=== TEST 4: 400 for id not a string
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":42,"url":"https://agent.example.com/a2a","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"id","reason":"not a string"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "id": not a string'
--- no_access_log
HTTP/1.0" 200


=== TEST 5: 400 for id not a UUID
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"workspace-1","url":"https://agent.example.com/a2a","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"id","reason":"not a UUID"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "id": not a UUID'
--- no_access_log
HTTP/1.0" 200


=== TEST 6: 400 for url missing
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"missing"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": missing'
--- no_access_log
HTTP/1.0" 200


=== TEST 7: 400 for url not a string
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":["https://a.example"],"agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"not a string"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": not a string'
--- no_access_log
HTTP/1.0" 200


=== TEST 8: 400 for url unparsable
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"not a url","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"not a valid URL"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": not a valid URL'
--- no_access_log
HTTP/1.0" 200


=== TEST 9: 400 for url scheme not http(s)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"ftp://agent.example.com/","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"scheme must be http or https"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": scheme must be http or https'
--- no_access_log
HTTP/1.0" 200


=== TEST 10: 400 for url without a host
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"http:///a2a","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"missing host"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": missing host'
--- no_access_log
HTTP/1.0" 200


=== TEST 11: 400 for url with userinfo
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"https://user:pw@agent.example.com/","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"userinfo not allowed"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": userinfo not allowed'
--- no_access_log
HTTP/1.0" 200


=== TEST 12: 400 for url with a bad port
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"https://agent.example.com:99999/","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"invalid port"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": invalid port'
--- no_access_log
HTTP/1.0" 200


=== TEST 13: 400 for url on IPv4 loopback
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"http://127.0.0.1:8000/a2a","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"address in a blocked range (loopback)"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": address in a blocked range (loopback)'
--- no_access_log
HTTP/1.0" 200


=== TEST 14: 400 for url on the metadata address
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"http://169.254.169.254/latest/meta-data","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"address in a blocked range (metadata)"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": address in a blocked range (metadata)'
--- no_access_log
HTTP/1.0" 200


=== TEST 15: 400 for url on RFC 1918 10/8
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"http://10.1.2.3/a2a","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"address in a blocked range (private)"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": address in a blocked range (private)'
--- no_access_log
HTTP/1.0" 200


=== TEST 16: 400 for url on RFC 1918 172.16/12
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"http://172.20.0.5/a2a","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"address in a blocked range (private)"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": address in a blocked range (private)'
--- no_access_log
HTTP/1.0" 200


=== TEST 17: 400 for url on RFC 1918 192.168/16
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"http://192.168.1.10/a2a","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"address in a blocked range (private)"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": address in a blocked range (private)'
--- no_access_log
HTTP/1.0" 200


=== TEST 18: 400 for url on multicast
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"http://224.0.0.1/","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"address in a blocked range (multicast)"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": address in a blocked range (multicast)'
--- no_access_log
HTTP/1.0" 200


=== TEST 19: 400 for url on a TEST-NET
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"http://198.51.100.7/","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"address in a blocked range (documentation)"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": address in a blocked range (documentation)'
--- no_access_log
HTTP/1.0" 200


=== TEST 20: 400 for url on CGNAT
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"http://100.64.0.1/","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"address in a blocked range (cgnat)"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": address in a blocked range (cgnat)'
--- no_access_log
HTTP/1.0" 200


=== TEST 21: 400 for url on 0.0.0.0
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"http://0.0.0.0:8080/","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"address in a blocked range (unspecified)"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": address in a blocked range (unspecified)'
--- no_access_log
HTTP/1.0" 200


=== TEST 22: 400 for url on IPv6 loopback
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"http://[::1]:8000/","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"address in a blocked range (loopback)"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": address in a blocked range (loopback)'
--- no_access_log
HTTP/1.0" 200


=== TEST 23: 400 for url on IPv6 link-local
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"http://[fe80::1]/","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"address in a blocked range (link-local)"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": address in a blocked range (link-local)'
--- no_access_log
HTTP/1.0" 200


=== TEST 24: 400 for url on an IPv6 ULA
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"http://[fd12:3456::1]/","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"address in a blocked range (unique-local)"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": address in a blocked range (unique-local)'
--- no_access_log
HTTP/1.0" 200


=== TEST 25: 400 for url on IPv6 documentation
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"http://[2001:db8::1]/","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"address in a blocked range (documentation)"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": address in a blocked range (documentation)'
--- no_access_log
HTTP/1.0" 200


=== TEST 26: 400 for url on IPv4-mapped IPv6 loopback
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"http://[::ffff:127.0.0.1]/","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"address in a blocked range (loopback)"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": address in a blocked range (loopback)'
--- no_access_log
HTTP/1.0" 200


=== TEST 27: 400 for url on IPv4-mapped IPv6 metadata, hex form
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"http://[::ffff:a9fe:a9fe]/","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"address in a blocked range (metadata)"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": address in a blocked range (metadata)'
--- no_access_log
HTTP/1.0" 200


=== TEST 28: 400 for url on loopback written as one number
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"http://2130706433/","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"url","reason":"non-canonical IP address"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "url": non-canonical IP address'
--- no_access_log
HTTP/1.0" 200


=== TEST 29: 400 for agent_card missing
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"https://agent.example.com/a2a"}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"agent_card","reason":"missing"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "agent_card": missing'
--- no_access_log
HTTP/1.0" 200


=== TEST 30: 400 for agent_card not an object
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"https://agent.example.com/a2a","agent_card":"agent-1"}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"agent_card","reason":"not an object"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "agent_card": not an object'
--- no_access_log
HTTP/1.0" 200


=== TEST 31: 400 for agent_card.name missing
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"https://agent.example.com/a2a","agent_card":{"description":"x"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"agent_card.name","reason":"missing"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "agent_card.name": missing'
--- no_access_log
HTTP/1.0" 200


=== TEST 32: 400 for agent_card.name not a string
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"https://agent.example.com/a2a","agent_card":{"name":7}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"agent_card.name","reason":"not a string"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "agent_card.name": not a string'
--- no_access_log
HTTP/1.0" 200


=== TEST 33: 400 for agent_card.name empty
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"https://agent.example.com/a2a","agent_card":{"name":""}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"agent_card.name","reason":"empty"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "agent_card.name": empty'
--- no_access_log
HTTP/1.0" 200


=== TEST 34: 400 for a duplicate id key
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"https://a.example/","agent_card":{"name":"x"},"ID":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01"}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body eval
'{"error":"invalid register payload","field":"id","reason":"duplicate key"}'
--- error_log eval
'wsgate register: workspace "0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01": invalid payload: field "id": duplicate key'
--- no_access_log
HTTP/1.0" 200


=== TEST 35: a valid payload reaches the backend byte for byte
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"https://agent.example.com/a2a","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- response_body_like eval
my $b = '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"https://agent.example.com/a2a","agent_card":{"name":"agent-1"}}';
qr/"length":@{[length $b]},"sha256":"@{[::body_sha($b)]}"/
--- no_error_log
[error]


=== TEST 36: localhost by name is accepted with wsgate_allow_private_urls on
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register-private\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"http://localhost:8000/a2a","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK"
--- response_body_like: "path":"/registry/register
--- no_error_log
[error]


=== TEST 37: RFC 1918 with wsgate_allow_private_urls on
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register-private\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"http://10.1.2.3:8000/a2a","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK"
--- response_body_like: "path":"/registry/register
--- no_error_log
[error]


=== TEST 38: an fd00::/8 ULA with wsgate_allow_private_urls on
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register-private\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"http://[fd12:3456::1]:8000/a2a","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK"
--- response_body_like: "path":"/registry/register
--- no_error_log
[error]


=== TEST 39: RFC 1918 is still refused where private URLs are not allowed
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"http://10.1.2.3:8000/a2a","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 400


=== TEST 40: a payload for another workspace is 401, like an invalid token
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"5d0f8a4e-1c2b-4a6d-8e9f-0a1b2c3d4e5f","url":"https://agent.example.com/a2a","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
--- response_body chomp
{"error":"invalid workspace auth token"}


=== TEST 41: another workspace's id with a bad url is still 401, not a 400 for us
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"POST /registry/register\n" . '{"id":"5d0f8a4e-1c2b-4a6d-8e9f-0a1b2c3d4e5f","url":"ftp://x","agent_card":{"name":"agent-1"}}'
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 401


=== TEST 42: a 1 MiB valid payload spilled to a temporary file reaches the backend intact
--- http_config eval: $::HttpConfig
--- config
    location = /registry/register {
        client_body_buffer_size 8k;
        client_max_body_size 2m;
        wsgate_auth on;
        wsgate_register on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request eval
my $b = '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"https://agent.example.com/a2a","agent_card":{"name":"big","description":"' . ('x' x (1024 * 1024)) . '"}}';
"POST /registry/register\n$b"
--- more_headers eval
"Authorization: Bearer $::TOK"
--- response_body_like eval
my $b = '{"id":"0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01","url":"https://agent.example.com/a2a","agent_card":{"name":"big","description":"' . ('x' x (1024 * 1024)) . '"}}';
qr/"length":@{[length $b]},"sha256":"@{[::body_sha($b)]}"/
--- error_log
a client request body is buffered to a temporary file
--- timeout: 10


=== TEST 43: a body over client_max_body_size gets nginx's 413
--- http_config eval: $::HttpConfig
--- config
    location = /registry/register {
        client_max_body_size 1k;
        wsgate_auth on;
        wsgate_register on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }
--- request eval
"POST /registry/register\n" . ('x' x 4096)
--- more_headers eval
"Authorization: Bearer $::TOK"
--- error_code: 413



=== TEST 44: a POST with no body at all (no Content-Length) is a 400, not a hang
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /registry/register
--- more_headers eval
"Authorization: Bearer $::TOK"
--- timeout: 2
--- error_code: 400
--- response_body chomp
{"error":"invalid register payload","field":"body","reason":"not valid JSON"}



=== TEST 45: three workspaces (on a cluster: on three masters) register: a valid payload reaches the backend, a bad one is refused
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[map({ "POST /registry/register\n" . ::good($_) } $::WS, $::WS2, $::WS3),
 map({ "POST /registry/register\n" . ::bad($_) } $::WS, $::WS2, $::WS3)]
--- more_headers eval
[map { "Authorization: Bearer $_\nContent-Type: application/json" }
 $::TOK, $::TOK2, $::TOK3, $::TOK, $::TOK2, $::TOK3]
--- error_code eval
[200, 200, 200, 400, 400, 400]
--- response_body_like eval
[(map { qr/"sha256":"@{[::body_sha(::good($_))]}"/ } $::WS, $::WS2, $::WS3),
 (qr/^\{"error":"invalid register payload","field":"url","reason":"address in a blocked range \(metadata\)"\}$/) x 3]



=== TEST 46: ... and each bad one is on record for its workspace
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
for my $ws ($::WS, $::WS2, $::WS3) {
    my $st = redis_cmd('HGET', "wsgate:ws:{$ws}:regfail", 'status');
    Test::More::is($st, '400', "the failure of $ws is on record");
}
--- request eval
"POST /registry/register\n" . ::good($::WS3)
--- more_headers eval
"Authorization: Bearer $::TOK3"
--- response_body_like eval
qr/"sha256":"@{[::body_sha(::good($::WS3))]}"/
