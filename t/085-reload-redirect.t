# vi:filetype=perl
#
# Issue 11, lifecycle: a graceful reload (HUP) while a register waits for
# its backend loses no outcome, and a register or A2A request sent through
# an internal redirect (error_page) to another wsgate location is answered
# and leaves no connection behind at worker exit.
#
# nginx runs with a master process and one worker, so a HUP in the middle
# of a request leaves that request to the old worker, which must finish
# it, record its outcome in Redis and exit.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use WsgateTest;
use WsgateHttp;
use POSIX ();

our $WS  = '0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01';
our $TOK = 'tA3vQm9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';

our $GOOD = qq({"id":"$WS","url":"https://agent.example.com/a2a",)
            . qq("agent_card":{"name":"agent-1"}});
our $ENVELOPE = '{"jsonrpc":"2.0","method":"message/send","id":1}';

sub now_ms { require Time::HiRes; int(Time::HiRes::time() * 1000) }

sub seed {
    redis_flush();
    seed_token($TOK, ws => $WS, kind => 'workspace');
}

# a register failure on record for $WS, as the module writes it
sub seed_failure {
    my $key = "wsgate:ws:{$WS}:regfail";
    redis_cmd('HSET', $key, 'at_ms', now_ms(), 'status', 400,
              'reason', 'url: address in a blocked range (loopback)',
              'source', 'gateway');
    redis_cmd('PEXPIRE', $key, 300000);
}

sub master_pid {
    open my $fh, '<', server_root() . '/logs/nginx.pid' or die "pid: $!";
    my $pid = <$fh>;
    chomp $pid;
    return $pid;
}

# sends HUP to the nginx master $secs from now, from a child process
sub hup_after {
    my $secs = shift;
    my $master = master_pid();
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        select(undef, undef, undef, $secs);
        kill 'HUP', $master;
        POSIX::_exit(0);
    }
    return $pid;
}

seed();
http_backend();

our $HttpConfig = <<"_EOC_";
    wsgate_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} timeout=2s;
_EOC_

our $ReloadConfig = <<"_EOC_";
    location = /registry/register {
        wsgate_auth on;
        wsgate_register on;
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT};
    }

    location ~ ^/workspaces/(?<ws>[^/]+)/state\$ {
        wsgate_status \$ws;
    }
_EOC_

# the first backend answers 500, error_page sends the request on to
# another wsgate location whose backend answers 200
our $RedirectConfig = <<"_EOC_";
    location = /registry/register {
        wsgate_auth on;
        wsgate_register on;
        proxy_intercept_errors on;
        error_page 500 = /other;
        proxy_set_header X-Demo-Status 500;
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT};
    }

    location = /other {
        wsgate_auth on;
        wsgate_register on;
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT};
    }

    location = /registry/register-named {
        wsgate_auth on;
        wsgate_register on;
        proxy_intercept_errors on;
        error_page 500 = \@other;
        proxy_set_header X-Demo-Status 500;
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT};
    }

    location \@other {
        wsgate_auth on;
        wsgate_register on;
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT};
    }

    location = /a2a {
        wsgate_auth on;
        wsgate_a2a on;
        wsgate_a2a_validate on;
        proxy_intercept_errors on;
        error_page 500 = /a2a-other;
        proxy_set_header X-Demo-Status 500;
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT};
    }

    location = /a2a-other {
        wsgate_auth on;
        wsgate_a2a on;
        wsgate_a2a_validate on;
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT};
    }

    location ~ ^/workspaces/(?<ws>[^/]+)/state\$ {
        wsgate_status \$ws;
    }
_EOC_

master_on();
workers(1);
log_level('info');
no_shuffle();
check_accum_error_log();
run_tests();

__DATA__

=== TEST 1: a register failure on record: the state reads degraded
--- http_config eval: $::HttpConfig
--- config eval: $::ReloadConfig
--- init
main::seed();
main::seed_failure();
--- request eval
"GET /workspaces/$::WS/state"
--- response_body_like eval
qr/\A\{"workspace_id":"\Q$::WS\E","state":"degraded","last_failure":\{"at_ms":\d{13},"status":400,"reason":"url: address in a blocked range \(loopback\)","source":"gateway"\},"restart_at_ms":null\}\z/



=== TEST 2: a reload while a good register waits for its backend: the client gets 200 and that failure is cleared
--- http_config eval: $::HttpConfig
--- config eval: $::ReloadConfig
--- init
# the backend answers 1.5 s after the request; the HUP lands at 0.5 s
main::hup_after(0.5);
--- request eval
["POST /registry/register\n$::GOOD", "GET /workspaces/$::WS/state"]
--- more_headers eval
["Authorization: Bearer $::TOK\nX-Demo-Delay: 1.5", ""]
--- timeout: 5
--- wait: 0.5
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"path":"\/registry\/register"/,
 qr/\A\{"workspace_id":"\Q$::WS\E","state":"online","last_failure":null,"restart_at_ms":null\}\z/]
--- error_log
reconfiguring
gracefully shutting down
exited with code 0
--- no_error_log
[alert]
[crit]
not recorded



=== TEST 3: a reload while a register waits for a failing backend: the failure is recorded all the same
--- http_config eval: $::HttpConfig
--- config eval: $::ReloadConfig
--- init
main::seed();
main::hup_after(0.5);
--- request eval
["POST /registry/register\n$::GOOD", "GET /workspaces/$::WS/state"]
--- more_headers eval
["Authorization: Bearer $::TOK\nX-Demo-Delay: 1.5\nX-Demo-Status: 500", ""]
--- timeout: 5
--- wait: 0.5
--- error_code eval
[500, 200]
--- response_body_like eval
[qr/"path":"\/registry\/register"/,
 qr/"state":"degraded","last_failure":\{"at_ms":\d{13},"status":500,"reason":"backend answered 500","source":"backend"\}/]
--- error_log
reconfiguring
gracefully shutting down
exited with code 0
--- no_error_log
[alert]
[crit]
not recorded



=== TEST 4: a register sent on by error_page to another wsgate_register location is answered, with no hang
--- http_config eval: $::HttpConfig
--- config eval: $::RedirectConfig
--- init
main::seed();
--- request eval
"POST /registry/register\n$::GOOD"
--- more_headers eval
"Authorization: Bearer $::TOK"
--- timeout: 4
--- error_code: 200
--- response_body_like: "path":"/other"
--- no_error_log
[alert]
[crit]
--- shutdown_error_log
exiting
--- no_shutdown_error_log
[alert]
open socket



=== TEST 5: the same through a named location (the method and body kept)
--- http_config eval: $::HttpConfig
--- config eval: $::RedirectConfig
--- init
main::seed();
--- request eval
"POST /registry/register-named\n$::GOOD"
--- more_headers eval
"Authorization: Bearer $::TOK"
--- timeout: 4
--- error_code: 200
--- response_body_like eval
my $len = length $::GOOD;
qr/"method":"POST","path":"\/registry\/register-named","length":$len,/
--- no_error_log
[alert]
[crit]
--- shutdown_error_log
exiting
--- no_shutdown_error_log
[alert]
open socket



=== TEST 6: an A2A request (wsgate_a2a_validate on) sent on by error_page to another A2A location is answered, with no hang
--- http_config eval: $::HttpConfig
--- config eval: $::RedirectConfig
--- init
main::seed();
--- request eval
"POST /a2a\n$::ENVELOPE"
--- more_headers eval
"Authorization: Bearer $::TOK"
--- timeout: 4
--- error_code: 200
--- response_body_like eval
qr/"path":"\/a2a-other".*"x_workspace_id":"\Q$::WS\E","x_caller_kind":"workspace"/
--- no_error_log
[alert]
[crit]
--- shutdown_error_log
exiting
--- no_shutdown_error_log
[alert]
open socket



=== TEST 7: the same with a body that arrives after the headers, in pieces
--- http_config eval: $::HttpConfig
--- config eval: $::RedirectConfig
--- init
main::seed();
--- raw_request eval
["POST /registry/register HTTP/1.1\r
Host: localhost\r
Connection: close\r
Authorization: Bearer $::TOK\r
Content-Length: " . length($::GOOD) . "\r
\r
", substr($::GOOD, 0, 20), substr($::GOOD, 20)]
--- raw_request_middle_delay: 0.2
--- timeout: 4
--- error_code: 200
--- response_body_like: "path":"/other"
--- no_error_log
[alert]
[crit]
--- shutdown_error_log
exiting
--- no_shutdown_error_log
[alert]
open socket
