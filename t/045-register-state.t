# vi:filetype=perl
#
# /registry/register fronting, part 2: what is recorded, for how long, and
# the state it leaves — the outage this product exists for.  Short windows:
# wsgate_restart_grace 4s, wsgate_wedge_window 4s.  Blocks run in order and
# share Redis, so a scenario spans several blocks; TTLs are checked as
# expiry instants against the recorded times, so a slow runner (upstream
# restarts nginx in seconds) does not change the verdict.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use WsgateTest;
use WsgateHttp;

our $WS    = '0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01';
our $WS_B  = '5d0f8a4e-1c2b-4a6d-8e9f-0a1b2c3d4e5f';
our $TOK   = 'tA3vQm9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';
our $TOK_B = 'tBxK2m9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNcE';
# on a cluster (WSGATE_TEST_CLUSTER=1) WS, WS_B and WS_C, and their
# tokens, sit on three different masters
our $WS_C  = '7e1d2c3b-4a59-4687-9a0b-1c2d3e4f5001';
our $TOK_C = 'tCmAsTr901QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5b';

our $GOOD = qq({"id":"$WS","url":"https://agent.example.com/a2a",)
            . qq("agent_card":{"name":"agent-1"}});
our $BAD  = qq({"id":"$WS","url":"http://127.0.0.1/a2a",)
            . qq("agent_card":{"name":"agent-1"}});

sub good_for { (my $b = $GOOD) =~ s/\Q$WS\E/$_[0]/; $b }
sub bad_for  { (my $b = $BAD) =~ s/\Q$WS\E/$_[0]/; $b }

sub seed {
    redis_flush();
    seed_token($TOK, ws => $WS, kind => 'workspace');
    seed_token($TOK_B, ws => $WS_B, kind => 'workspace');
    seed_token($TOK_C, ws => $WS_C, kind => 'workspace');
}

sub sleep_s { select(undef, undef, undef, shift) }

sub now_ms { require Time::HiRes; int(Time::HiRes::time() * 1000) }

# waits (at most 10 s) until the key is gone; returns when it went
sub wait_gone {
    my $key = shift;
    for (1 .. 1000) {
        return now_ms() unless redis_cmd('EXISTS', $key);
        sleep_s(0.01);
    }
    die "$key never expired\n";
}

# the key's expiry instant, in ms, must be $want (+-$slack)
sub expires_at {
    my ($key, $want, $slack) = @_;
    my $left = redis_cmd('PTTL', $key);
    my $at = now_ms() + $left;
    die "$key: PTTL $left, expires at $at, want $want +- $slack\n"
        unless $left > 0 && abs($at - $want) <= $slack;
}

seed();
cluster_spread_ok();
http_backend();

our $HttpConfig = <<"_EOC_";
    @{[redis_conf(timeout => '500ms')]}
    @{[cache_conf()]}
    wsgate_restart_grace 4s;
    wsgate_wedge_window 4s;
_EOC_

our $Config = <<"_EOC_";
    location = /registry/register {
        wsgate_auth on;
        wsgate_register on;
        add_header X-State \$wsgate_registration_state always;
        add_header X-Error \$wsgate_register_error always;
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT};
    }

    location ~ ^/workspaces/(?<ws>[^/]+)/restart\$ {
        wsgate_restart \$ws;
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT};
    }

    location ~ ^/workspaces/(?<ws>[^/]+)/state\$ {
        wsgate_status \$ws;
        add_header X-State \$wsgate_registration_state always;
    }
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: restart, then a failing first register: restarting, not degraded
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::seed();
--- request eval
["POST /workspaces/$::WS/restart",
 "POST /registry/register\n$::GOOD",
 "GET /workspaces/$::WS/state"]
--- more_headers eval
["", "Authorization: Bearer $::TOK\nX-Demo-Status: 500", ""]
--- error_code eval
[200, 500, 200]
--- response_body_like eval
[qr/"path":"\/workspaces\/\Q$::WS\E\/restart"/,
 qr/"length"/,
 qr/\A\{"workspace_id":"\Q$::WS\E","state":"restarting","last_failure":\{"at_ms":\d{13},"status":500,"reason":"backend answered 500","source":"backend"\},"restart_at_ms":\d{13}\}\z/]



=== TEST 2: the next good register: online, and no failure record left
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["POST /registry/register\n$::GOOD", "GET /workspaces/$::WS/state"]
--- more_headers eval
["Authorization: Bearer $::TOK", ""]
--- response_body_like eval
[qr/"length"/,
 qr/\A\{"workspace_id":"\Q$::WS\E","state":"online","last_failure":null,"restart_at_ms":null\}\z/]
--- response_headers eval
["X-State: online\nX-Error:", "X-State: online"]



=== TEST 3: a gateway 400 inside the restart window is restarting too, with its reason
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::seed();
--- request eval
["POST /workspaces/$::WS/restart",
 "POST /registry/register\n$::BAD",
 "GET /workspaces/$::WS/state"]
--- more_headers eval
["", "Authorization: Bearer $::TOK", ""]
--- error_code eval
[200, 400, 200]
--- response_body_like eval
[qr/restart/,
 qr/"field":"url"/,
 qr/"state":"restarting","last_failure":\{"at_ms":\d+,"status":400,"reason":"url: address in a blocked range \(loopback\)","source":"gateway"\}/]
--- response_headers eval
["", "X-State: restarting\nX-Error: url: address in a blocked range (loopback)",
 "X-State: restarting"]



=== TEST 4: the failure record outlives the window: the rest of the window plus the wedge window
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
my $fail = redis_cmd('HGET', "wsgate:ws:{$::WS}:regfail", 'at_ms');
my $start = redis_cmd('GET', "wsgate:ws:{$::WS}:restart");
main::expires_at("wsgate:ws:{$::WS}:restart", $start + 4000, 100);
main::expires_at("wsgate:ws:{$::WS}:regfail", $start + 4000 + 4000, 150);
die "failure at $fail is before the window start $start\n" if $fail < $start;
--- request eval
"GET /workspaces/$::WS/state"
--- response_body_like: "state":"restarting"



=== TEST 5: the window closes with no success: degraded
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
my $closed = main::wait_gone("wsgate:ws:{$::WS}:restart");
main::expires_at("wsgate:ws:{$::WS}:regfail", $closed + 4000, 150);
--- request eval
"GET /workspaces/$::WS/state"
--- response_body_like: "state":"degraded","last_failure":\{"at_ms":\d+,"status":400,.*"restart_at_ms":null\}



=== TEST 6: and online once the wedge window after it has passed
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::wait_gone("wsgate:ws:{$::WS}:regfail");
--- request eval
"GET /workspaces/$::WS/state"
--- response_body_like: "state":"online","last_failure":null



=== TEST 7: no restart, a failure: degraded, recorded for the wedge window
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::seed();
--- request eval
["POST /registry/register\n$::GOOD", "GET /workspaces/$::WS/state"]
--- more_headers eval
["Authorization: Bearer $::TOK\nX-Demo-Status: 503", ""]
--- error_code eval
[503, 200]
--- response_body_like eval
[qr/"length"/,
 qr/"state":"degraded","last_failure":\{"at_ms":\d+,"status":503,"reason":"backend answered 503","source":"backend"\},"restart_at_ms":null/]
--- response_headers eval
["X-State: degraded\nX-Error:", "X-State: degraded"]



=== TEST 8: ... its record expires exactly one wedge window after the failure
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
my $fail = redis_cmd('HGET', "wsgate:ws:{$::WS}:regfail", 'at_ms');
main::expires_at("wsgate:ws:{$::WS}:regfail", $fail + 4000, 150);
--- request eval
"GET /workspaces/$::WS/state"
--- response_body_like: "state":"degraded"



=== TEST 9: online after the wedge window
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::wait_gone("wsgate:ws:{$::WS}:regfail");
--- request eval
"GET /workspaces/$::WS/state"
--- response_body_like: "state":"online"



=== TEST 10: a failure from before the restart keeps the workspace degraded through the window
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::seed();
--- request eval
["POST /registry/register\n$::BAD",
 "POST /workspaces/$::WS/restart",
 "GET /workspaces/$::WS/state"]
--- more_headers eval
["Authorization: Bearer $::TOK", "", ""]
--- error_code eval
[400, 200, 200]
--- response_body_like eval
[qr/"field":"url"/, qr/restart/, qr/"state":"degraded".*"restart_at_ms":\d{13}/]



=== TEST 11: a restart endpoint that fails opens no window
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::seed();
--- request eval
["POST /workspaces/$::WS/restart", "GET /workspaces/$::WS/state"]
--- more_headers eval
["X-Demo-Status: 500", ""]
--- error_code eval
[500, 200]
--- response_body_like eval
[qr/restart/, qr/"state":"online","last_failure":null,"restart_at_ms":null/]



=== TEST 12: outsiders write nothing: no token, or another workspace's token, posting a bad payload for W
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::seed();
redis_cmd('HSET', "wsgate:ws:{$::WS}:regfail", 'at_ms', '1000',
          'status', '500', 'reason', 'earlier', 'source', 'backend');
--- request eval
["POST /registry/register\n$::BAD",
 "POST /registry/register\n$::BAD",
 "POST /registry/register\n{\"id\":\"$::WS\"}",
 "GET /workspaces/$::WS/state",
 "GET /workspaces/$::WS_B/state"]
--- more_headers eval
["", "Authorization: Bearer $::TOK_B", "Authorization: Bearer $::TOK_B",
 "", ""]
--- error_code eval
[401, 401, 401, 200, 200]
--- response_body_like eval
[qr/missing workspace auth token/,
 qr/invalid workspace auth token/,
 qr/invalid workspace auth token/,
 qr/"state":"degraded","last_failure":\{"at_ms":1000,"status":500,"reason":"earlier","source":"backend"\}/,
 qr/"state":"online","last_failure":null/]



=== TEST 13: wsgate_status refuses a workspace id that is not a UUID
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /workspaces/not-a-uuid/state
--- error_code: 400
--- response_body chomp
{"error":"invalid workspace id"}



=== TEST 14: Redis stops while the outcome is recorded: the client still gets the backend's answer at once
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::seed();
my @ports = redis_ports();      # on a cluster, every master
if (fork == 0) {
    select(undef, undef, undef, 0.2);
    my @s;
    for my $port (@ports) {
        my $s = IO::Socket::INET->new("127.0.0.1:$port") or POSIX::_exit(1);
        print $s "*2\r\n\$8\r\nSHUTDOWN\r\n\$6\r\nNOSAVE\r\n";
        push @s, $s;
    }
    select(undef, undef, undef, 0.2);
    POSIX::_exit(0);
}
--- request eval
"POST /registry/register\n$::GOOD"
--- more_headers eval
"Authorization: Bearer $::TOK\nX-Demo-Delay: 0.5"
--- timeout: 1.5
--- response_body_like: "length"
--- error_log eval
qr/wsgate register: workspace "\Q$::WS\E": recovery not recorded: redis unavailable/



=== TEST 15: ... and the state recovers once Redis is back
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
redis_stop();
redis_start();
main::seed();
main::sleep_s(0.8);
--- request eval
["POST /registry/register\n$::BAD", "GET /workspaces/$::WS/state"]
--- more_headers eval
["Authorization: Bearer $::TOK", ""]
--- error_code eval
[400, 200]
--- response_body_like eval
[qr/"field":"url"/, qr/"state":"degraded"/]



=== TEST 16: wsgate_status answers 503 when Redis is down, never a guess
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
redis_stop();
--- request eval
"GET /workspaces/$::WS/state"
--- error_code: 503
--- response_body chomp
{"error":"registration state unavailable"}



=== TEST 17: wsgate_status with auth and bind: only the workspace's own token reads it
--- http_config eval: $::HttpConfig
--- config
    location ~ ^/workspaces/(?<ws>[^/]+)/state$ {
        wsgate_auth on;
        wsgate_bind $ws;
        wsgate_status $ws;
    }
--- init
redis_start();
main::seed();
main::sleep_s(0.8);
--- request eval
["GET /workspaces/$::WS/state", "GET /workspaces/$::WS/state"]
--- more_headers eval
["Authorization: Bearer $::TOK", "Authorization: Bearer $::TOK_B"]
--- error_code eval
[200, 401]



=== TEST 18: three workspaces (on a cluster: on three masters): a restart and a failure, a failure, a failure from the backend
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::seed();
--- request eval
["POST /workspaces/$::WS_B/restart",
 "POST /registry/register\n" . main::bad_for($::WS_B),
 "POST /registry/register\n" . main::bad_for($::WS_C),
 "POST /registry/register\n$::GOOD",
 "GET /workspaces/$::WS_B/state",
 "GET /workspaces/$::WS_C/state",
 "GET /workspaces/$::WS/state"]
--- more_headers eval
["", "Authorization: Bearer $::TOK_B", "Authorization: Bearer $::TOK_C",
 "Authorization: Bearer $::TOK\nX-Demo-Status: 503", "", "", ""]
--- error_code eval
[200, 400, 400, 503, 200, 200, 200]
--- response_body_like eval
[qr/restart/, qr/"field":"url"/, qr/"field":"url"/, qr/"length"/,
 qr/\A\{"workspace_id":"\Q$::WS_B\E","state":"restarting","last_failure":\{"at_ms":\d{13},"status":400,"reason":"url: address in a blocked range \(loopback\)","source":"gateway"\},"restart_at_ms":\d{13}\}\z/,
 qr/\A\{"workspace_id":"\Q$::WS_C\E","state":"degraded","last_failure":\{"at_ms":\d{13},"status":400,"reason":"url: address in a blocked range \(loopback\)","source":"gateway"\},"restart_at_ms":null\}\z/,
 qr/\A\{"workspace_id":"\Q$::WS\E","state":"degraded","last_failure":\{"at_ms":\d{13},"status":503,"reason":"backend answered 503","source":"backend"\},"restart_at_ms":null\}\z/]



=== TEST 19: ... a good register of each clears its own record and window, and no other
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["POST /registry/register\n" . main::good_for($::WS_B),
 "GET /workspaces/$::WS_B/state",
 "GET /workspaces/$::WS_C/state",
 "POST /registry/register\n" . main::good_for($::WS_C),
 "POST /registry/register\n$::GOOD",
 "GET /workspaces/$::WS_C/state",
 "GET /workspaces/$::WS/state"]
--- more_headers eval
["Authorization: Bearer $::TOK_B", "", "", "Authorization: Bearer $::TOK_C",
 "Authorization: Bearer $::TOK", "", ""]
--- response_body_like eval
[qr/"length"/,
 qr/\A\{"workspace_id":"\Q$::WS_B\E","state":"online","last_failure":null,"restart_at_ms":null\}\z/,
 qr/"state":"degraded"/,
 qr/"length"/, qr/"length"/,
 qr/\A\{"workspace_id":"\Q$::WS_C\E","state":"online","last_failure":null,"restart_at_ms":null\}\z/,
 qr/\A\{"workspace_id":"\Q$::WS\E","state":"online","last_failure":null,"restart_at_ms":null\}\z/]
