# vi:filetype=perl
#
# Issue 14: wsgate_metrics, Prometheus text exposition of counters kept in
# shared memory and summed over all workers.
#
# nginx runs with a master and 2 workers.  Requests are made from the
# block's --- init on fresh connections (Connection: close), so both
# workers take some (each answer names its worker: X-Pid), and so do the
# scrapes: a counter kept per worker would show only that worker's share
# and the deltas below would not add up.  What a block did is checked
# with plain Test::More checks that say what they compared; the block's own
# request then checks the exposition's form.
#
# What wsgate_redis_commands_total must move by is what Redis saw come in:
# a MONITOR connection counts the commands clients sent (the ones Lua
# scripts ran inside an EVAL are marked as such and left out); nothing
# else talks to this Redis while a block measures.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use WsgateTest;
use WsgateHttp;

use File::Temp ();
use IO::Select;
use IO::Socket::INET;
use Time::HiRes ();

our $WS_A  = '0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01';
our $WS_B  = '5d0f8a4e-1c2b-4a6d-8e9f-0a1b2c3d4e5f';
our $TOK_A = 'mEtRiCa9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';
our $TOK_B = 'mEtRiCb9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';
our $TOK_S = 'mEtRiCs9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';
our $TOK_W = 'mEtRiCw9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';   # wrong type
our $TOK_X = 'mEtRiCx9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';   # unknown
our $WORKERS = 2;
our $PY = '/usr/bin/python3';   # Debian's, with python3-prometheus-client

our $GOOD = qq({"id":"$WS_A","url":"https://agent.example.com/a2a",)
            . qq("agent_card":{"name":"agent-1"}});
our $BAD  = qq({"id":"$WS_A","url":"http://127.0.0.1/a2a",)
            . qq("agent_card":{"name":"agent-1"}});

sub sleep_s { Time::HiRes::sleep($_[0]) if $_[0] > 0 }

sub fresh {
    redis_start();
    redis_flush();
    seed_token($TOK_A, ws => $WS_A);
    seed_token($TOK_B, ws => $WS_B);
    seed_token($TOK_S, name => 'system:scheduler');
    redis_cmd('SET', 'wsgate:token:' . sha256_hex($TOK_W), 'not a hash');
}

# ---------------------------------------------------------------------------
# the exposition

# name{labels} => value, from one scrape
sub scrape {
    my $a = http_once(uri => '/metrics');
    die "scrape: status $a->{status}\n" unless $a->{status} == 200;
    my %m;
    for (split /\n/, $a->{body}) {
        next if /^#/;
        $m{$1} = $2 if /^(\S+) (\S+)$/;
    }
    return \%m;
}

sub delta {
    my ($before, $after, $name) = @_;
    return ($after->{$name} // 0) - ($before->{$name} // 0);
}

sub monitor_start {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => redis_port(), Proto => 'tcp',
                                  Timeout => 5)
        or die "monitor: $!\n";
    syswrite $s, "MONITOR\r\n";
    my $line = <$s>;
    die "monitor: $line\n" unless defined $line && $line =~ /^\+OK/;
    return $s;
}

# the commands clients sent since monitor_start (quiet for 0.3 s: done)
sub monitor_count {
    my $s = shift;
    my $sel = IO::Select->new($s);
    my $buf = '';
    while ($sel->can_read(0.3)) {
        my $n = sysread $s, my $chunk, 65536;
        last unless $n;
        $buf .= $chunk;
    }
    close $s;
    my $n = 0;
    while ($buf =~ /^\+\d+\.\d+ \[\d+ (\S+)\]/mg) {
        $n++ unless $1 eq 'lua';
    }
    return $n;
}

# $n answers on fresh connections; the set of worker pids that answered
sub requests {
    my ($n, %o) = @_;
    my (%pids, @status);
    for (1 .. $n) {
        my $a = http_once(%o);
        push @status, $a->{status};
        $pids{ $a->{head}{'x-pid'} } = 1 if $a->{head}{'x-pid'};
    }
    return (\%pids, \@status);
}

# every answer was $want
sub all_are {
    my ($want, $status, $what) = @_;
    my @bad = grep { $_ != $want } @$status;
    Test::More::ok(!@bad, "$what: every answer $want")
        or Test::More::diag("got @$status");
}

# waits until both workers' Redis connections are up (they connect when
# they start, and again on their own after a loss)
sub warm {
    for (1 .. 400) {
        my $m = scrape();
        my @up = grep { /^wsgate_redis_up\{/ && $m->{$_} == 1 } keys %$m;
        return 1 if @up == $WORKERS;
        sleep_s(0.01);
    }
    Test::More::fail("both workers connected to Redis");
    return 0;
}

add_block_preprocessor(sub { fresh() });

http_backend();

our $HttpConfig = <<"_EOC_";
    wsgate_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} timeout=300ms;
    wsgate_wedge_window 60s;
_EOC_

our $Config = <<"_EOC_";
    add_header X-Pid \$pid always;

    location = /metrics {
        wsgate_metrics;
    }

    location ~ ^/ws/(?<ws>[^/]+)\$ {
        wsgate_auth on;
        wsgate_bind \$ws;
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT};
    }

    location = /t {
        wsgate_auth on;
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT};
    }

    location = /registry/register {
        wsgate_auth on;
        wsgate_register on;
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT};
    }

    location = /a2a {
        wsgate_auth on;
        wsgate_a2a on;
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT};
    }
_EOC_

master_on();
workers($WORKERS);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: every counter moves by exactly what was done, summed over both workers
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::warm();
my $before = main::scrape();
my $monitor = main::monitor_start();
my $auth = "Authorization: Bearer $::TOK_A";
my %pids;
my $run = sub {
    my ($n, $want, $what, %o) = @_;
    my ($p, $s) = main::requests($n, %o);
    %pids = (%pids, %$p);
    main::all_are($want, $s, $what);
};
$run->(10, 200, 'valid token', uri => '/t', headers => [$auth]);
$run->(3, 401, 'no token', uri => '/t');
$run->(4, 401, 'unknown token', uri => '/t',
       headers => ["Authorization: Bearer $::TOK_X"]);
$run->(2, 401, 'bind mismatch', uri => "/ws/$::WS_B", headers => [$auth]);
$run->(2, 200, 'bind match', uri => "/ws/$::WS_A", headers => [$auth]);
$run->(3, 400, 'register, bad payload', uri => '/registry/register',
       method => 'POST', headers => [$auth], body => $::BAD);
$run->(2, 500, 'register, backend fails', uri => '/registry/register',
       method => 'POST', headers => [$auth, 'X-Demo-Status: 500'],
       body => $::GOOD);
$run->(1, 200, 'register, good: recovers', uri => '/registry/register',
       method => 'POST', headers => [$auth], body => $::GOOD);
$run->(2, 200, 'register, good again: nothing to recover',
       uri => '/registry/register', method => 'POST', headers => [$auth],
       body => $::GOOD);
$run->(3, 200, 'a2a, system caller', uri => '/a2a', method => 'POST',
       headers => ["Authorization: Bearer $::TOK_S"], body => '{}');
$run->(2, 403, 'a2a, forged caller', uri => '/a2a', method => 'POST',
       headers => [$auth, 'X-Workspace-ID: system:restart-context'],
       body => '{}');
$run->(1, 200, 'a2a, workspace caller', uri => '/a2a', method => 'POST',
       headers => [$auth], body => '{}');
# give the fire-and-forget register writes their replies
main::sleep_s(0.2);
my $after = main::scrape();
my $ran = main::monitor_count($monitor);
Test::More::is(scalar(keys %pids), $::WORKERS,
               "requests were answered by both workers")
    or Test::More::diag("pids: @{[ keys %pids ]}");
my %want = (
    'wsgate_auth_requests_total{result="ok"}' => 10 + 2 + 3 + 2 + 1 + 2
                                                 + 3 + 2 + 1,
    'wsgate_auth_requests_total{result="missing"}' => 3,
    'wsgate_auth_requests_total{result="invalid"}' => 4,
    'wsgate_auth_requests_total{result="mismatch"}' => 2,
    'wsgate_auth_requests_total{result="unavailable"}' => 0,
    'wsgate_register_failures_recorded_total{source="gateway"}' => 3,
    'wsgate_register_failures_recorded_total{source="backend"}' => 2,
    'wsgate_register_recoveries_total' => 1,
    'wsgate_a2a_system_rewrites_total' => 3,
    'wsgate_a2a_forged_callers_total' => 2,
    'wsgate_redis_errors_total{kind="down"}' => 0,
    'wsgate_redis_errors_total{kind="timeout"}' => 0,
    'wsgate_redis_errors_total{kind="reply"}' => 0,
    'wsgate_redis_reconnects_total' => 0,
    'wsgate_cache_lookups_total{result="hit"}' => 0,
    'wsgate_cache_lookups_total{result="miss"}' => 0,
);
for my $name (sort keys %want) {
    Test::More::is(main::delta($before, $after, $name), $want{$name},
                   "$name moved by $want{$name}");
}
Test::More::is(main::delta($before, $after, 'wsgate_redis_commands_total'),
               $ran, "wsgate_redis_commands_total moved by what Redis ran "
                     . "($ran)");
Test::More::ok($ran >= 10 + 4 + 2 + 2, "Redis ran at least a lookup each");
Test::More::is(main::delta($before, $after,
                           'wsgate_redis_latency_seconds_count'),
               $ran, "one latency sample per command");
Test::More::is(main::delta($before, $after,
                           'wsgate_redis_latency_seconds_bucket{le="+Inf"}'),
               $ran, "the +Inf bucket holds every sample");
Test::More::ok(main::delta($before, $after, 'wsgate_redis_latency_seconds_sum')
               > 0, "the latency sum grew");
--- request
GET /metrics
--- response_headers
Content-Type: text/plain; version=0.0.4; charset=utf-8
--- response_body_like
(?ms)\A# HELP wsgate_auth_requests_total .*
# TYPE wsgate_auth_requests_total counter
wsgate_auth_requests_total\{result="ok"\} \d+
.*^# TYPE wsgate_redis_latency_seconds histogram
wsgate_redis_latency_seconds_bucket\{le="0\.0001"\} \d+
.*^wsgate_redis_latency_seconds_bucket\{le="1"\} \d+
wsgate_redis_latency_seconds_bucket\{le="\+Inf"\} \d+
wsgate_redis_latency_seconds_sum \d+\.\d{6}
wsgate_redis_latency_seconds_count \d+
# HELP wsgate_redis_up .*
# TYPE wsgate_redis_up gauge
wsgate_redis_up\{pid="\d+"\} 1
wsgate_redis_up\{pid="\d+"\} 1
--- no_error_log
[crit]
[alert]



=== TEST 2: the exposition parses with Prometheus's own text parser
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::warm();
my $a = WsgateHttp::http_once(uri => '/metrics');
my $f = File::Temp->new;
print $f $a->{body};
close $f;
my $py = <<'PY';
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = list(text_string_to_metric_families(open(sys.argv[1]).read()))
for f in fams:
    print(f.name, f.type, len(f.samples))
PY
my $out = `$::PY -c '$py' $f 2>&1`;
Test::More::is($?, 0, 'prometheus_client parsed the exposition')
    or Test::More::diag($out);
for my $fam ('wsgate_auth_requests counter 5',
             'wsgate_cache_lookups counter 4',
             'wsgate_redis_commands counter 1',
             'wsgate_redis_errors counter 5',
             'wsgate_redis_reconnects counter 1',
             'wsgate_register_failures_recorded counter 2',
             'wsgate_register_recoveries counter 1',
             'wsgate_a2a_system_rewrites counter 1',
             'wsgate_a2a_forged_callers counter 1',
             'wsgate_redis_latency_seconds histogram 16',
             'wsgate_redis_up gauge 2')
{
    Test::More::like($out, qr/^\Q$fam\E$/m, "family: $fam");
}
--- request
GET /metrics
--- error_code: 200



=== TEST 3: Redis down: unavailable, errors of kind down, up 0 on both workers; back: reconnects, up 1
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::warm();
my $before = main::scrape();
WsgateTest::redis_stop();
my ($p, $s) = main::requests(6, uri => '/t',
                             headers => ["Authorization: Bearer $::TOK_A"]);
main::all_are(503, $s, 'Redis down');
my $down = main::scrape();
Test::More::is(main::delta($before, $down,
                   'wsgate_auth_requests_total{result="unavailable"}'),
               6, 'six unavailable');
Test::More::is(main::delta($before, $down,
                   'wsgate_redis_errors_total{kind="down"}'),
               6, 'six commands failed: down');
my @up = grep { /^wsgate_redis_up\{/ } keys %$down;
Test::More::is(scalar(@up), $::WORKERS, 'a wsgate_redis_up per worker');
Test::More::is(scalar(grep { $down->{$_} == 0 } @up), $::WORKERS,
               'both workers: wsgate_redis_up 0');
WsgateTest::redis_start();
main::warm();
my $back = main::scrape();
Test::More::is(main::delta($down, $back, 'wsgate_redis_reconnects_total'),
               $::WORKERS, 'both workers reconnected once');
--- request
GET /metrics
--- response_body_like
(?m)^wsgate_redis_up\{pid="\d+"\} 1$
--- error_log
is available again



=== TEST 4: a command that times out, and an error reply
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::warm();
my $before = main::scrape();
my ($p, $s) = main::requests(2, uri => '/t',
                             headers => ["Authorization: Bearer $::TOK_W"]);
main::all_are(503, $s, 'a token key of the wrong type');
my $mid = main::scrape();
Test::More::is(main::delta($before, $mid,
                   'wsgate_redis_errors_total{kind="reply"}'),
               2, 'two error replies (WRONGTYPE)');
# every client waits 1 s: the lookup's 300 ms pass
WsgateTest::redis_cmd('CLIENT', 'PAUSE', 1000, 'ALL');
($p, $s) = main::requests(1, uri => '/t',
                          headers => ["Authorization: Bearer $::TOK_A"]);
main::all_are(503, $s, 'Redis paused');
main::sleep_s(1);
main::warm();
my $after = main::scrape();
Test::More::is(main::delta($mid, $after,
                   'wsgate_redis_errors_total{kind="timeout"}'),
               1, 'one command timed out');
--- request
GET /metrics
--- error_code: 200



=== TEST 5: the counters survive a reload
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::warm();
my ($p, $s) = main::requests(5, uri => '/t',
                             headers => ["Authorization: Bearer $::TOK_A"]);
main::all_are(200, $s, 'before the reload');
my $before = main::scrape();
my @old = WsgateHttp::nginx_worker_pids();
kill 'HUP', WsgateHttp::nginx_master_pid();
my $new = 0;
for (1 .. 500) {
    my %old = map { $_ => 1 } @old;
    my @now = WsgateHttp::nginx_worker_pids();
    $new = !grep { $old{$_} } @now;
    last if $new && @now == $::WORKERS;
    main::sleep_s(0.01);
}
Test::More::ok($new, 'new workers after HUP');
main::warm();
my $after = main::scrape();
my $name = 'wsgate_auth_requests_total{result="ok"}';
Test::More::ok($before->{$name} >= 5, "$name counted before");
Test::More::is(main::delta($before, $after, $name), 0,
               "$name kept across the reload (plus warm-up lookups: none)")
    or Test::More::diag("before $before->{$name}, after $after->{$name}");
($p, $s) = main::requests(3, uri => '/t',
                          headers => ["Authorization: Bearer $::TOK_A"]);
my $last = main::scrape();
Test::More::is(main::delta($before, $last, $name), 3,
               "$name counts on after the reload");
--- request
GET /metrics
--- error_code: 200



=== TEST 6: only GET and HEAD
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /metrics
x
--- error_code: 405



=== TEST 7: without wsgate_redis: every counter is 0
--- http_config
--- config
    location = /metrics {
        wsgate_metrics;
    }
--- request
GET /metrics
--- response_body_like
(?m)^wsgate_auth_requests_total\{result="ok"\} 0$
--- error_code: 200



=== TEST 8: cache lookups: a miss, hits, stale answers while Redis is down
--- http_config eval
"$::HttpConfig
wsgate_cache zone=metrics_test:1m ttl=60s stale_if_error=10s;"
--- config eval
"$::Config
location = /c {
    wsgate_auth on;
    add_header X-Cache \$wsgate_cache_status always;
    proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_BACKEND_PORT};
}"
--- init
main::warm();
# both workers trust the cache once they listen for invalidations: until
# then a lookup bypasses it (the unknown token is cached only then)
my $trusted = 0;
for (1 .. 300) {
    my @b = map { WsgateHttp::http_once(uri => '/c',
                      headers => ["Authorization: Bearer $::TOK_X"]) } 1 .. 6;
    if (!grep { ($_->{head}{'x-cache'} // '') eq 'BYPASS' } @b) {
        $trusted = 1;
        last;
    }
    main::sleep_s(0.02);
}
Test::More::ok($trusted, 'both workers trust the cache');
my $before = main::scrape();
my $auth = "Authorization: Bearer $::TOK_B";
my ($p, $s) = main::requests(1, uri => '/c', headers => [$auth]);
main::all_are(200, $s, 'first lookup');
($p, $s) = main::requests(5, uri => '/c', headers => [$auth]);
main::all_are(200, $s, 'cached');
WsgateTest::redis_stop();
($p, $s) = main::requests(2, uri => '/c', headers => [$auth]);
main::all_are(200, $s, 'Redis down, seen valid: stale');
my $after = main::scrape();
for (['hit', 5], ['miss', 1], ['stale', 2]) {
    my $name = "wsgate_cache_lookups_total{result=\"$_->[0]\"}";
    Test::More::is(main::delta($before, $after, $name), $_->[1],
                   "$name moved by $_->[1]");
}
Test::More::is(main::delta($before, $after,
                   'wsgate_auth_requests_total{result="ok"}'),
               8, 'eight admitted');
WsgateTest::redis_start();
--- request
GET /metrics
--- error_code: 200
