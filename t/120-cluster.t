# vi:filetype=perl
#
# Issue 15: wsgate on a Redis Cluster (wsgate_redis_cluster).  The suite
# starts its own clusters, whatever WSGATE_TEST_CLUSTER says: one of 3
# masters (cluster-node-timeout 1.5 s) for most blocks, one of 3
# masters + 3 replicas for the failover, and one of 3 masters with TLS
# ports (tls-cluster yes) for TLS.  Tokens and workspaces are chosen
# by their key slots, so that each block knows which master holds what.
# In order (no_shuffle), and blocks share the cluster:
#
#   the Perl slot function against CLUSTER KEYSLOT; tokens and workspaces
#   on each master answered right (200, 401, status);
#   a slot moved (SETSLOT ... NODE after MIGRATE) under a running nginx:
#   the old owner answers MOVED, wsgate follows it, for reads and writes;
#   a slot half-moved (MIGRATING / IMPORTING, some keys migrated): the old
#   owner answers ASK for those, wsgate follows it; a register's write
#   (one script over the workspace's two keys) while its slot is
#   half-moved, the migration ending 300 ms later: retried, recorded;
#   3,000 slots resharded with redis-cli under load: every answer right
#   for its kind, no 503;
#   a master killed with no replica: cluster_state:fail, every answer 503
#   with Retry-After (never 401), and service back without a reload once
#   the master is back;
#   the 3 + 3 cluster, a master killed under load: 503 only until its
#   replica is promoted, then right answers again without a reload;
#   two nginx edges on one cluster: a failure recorded through one shows
#   in the other's wsgate_status, and with the token cache on both, a
#   revocation reaches both within 100 ms;
#   AUTH (an ACL user) on every master's connection, a wrong password;
#   TLS with verification on every master's connection (the seeds' TLS
#   ports given, the other masters' learned from CLUSTER SLOTS), a name
#   the certificate does not carry.

# this suite's clusters are its own: no cluster from WsgateTest's import
BEGIN { $ENV{WSGATE_TEST_CLUSTER} = 0 }

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use WsgateTest;
use WsgateCluster;
use WsgateHttp;
use WsgateLoad;

use Cwd ();
use File::Temp ();
use POSIX ();
use Time::HiRes ();

our $C = cluster_start(replicas => 0, node_timeout => 1500);
our $C6 = cluster_start(replicas => 1, node_timeout => 1500);
# CLUSTER SLOTS names its TLS ports to a TLS client: wsgate must find them
our $CT = cluster_start(replicas => 0, node_timeout => 1500, tls => 1);
redis_use_cluster($C);
nginx_backend();

our $RECOVER = 1.0;         # s: right answers again after a fault ends
# after a failover: wsgate learns the new master from the slot map, which
# it reads at most four times a second, so up to a quarter second after
# the promotion (plus the gossip that tells the other masters) a request
# may still meet the dead master; measured: 211 ms (218, 958 and 991 ms
# when it read the map at most once a second)
our $RECOVER_FAILOVER = 1.0;
our $REVOKE_BOUND = 0.1;    # s: a revocation reaches every edge within

our $SYS_NAME = 'system:restart-context';
our $SYS_UUID = '1a6dd07d-3c32-5fad-a541-9b52f879b82d';

# ---------------------------------------------------------------------------
# Tokens and workspaces by slot.  A fresh cluster's masters hold
# 0-5460, 5461-10922 and 10923-16383 (redis-cli's split); both clusters
# are checked to be so.

sub master_index { my $s = shift; $s <= 5460 ? 0 : $s <= 10922 ? 1 : 2 }

sub tok { my $t = shift; $t . substr('9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNcEx12345',
                                     0, 43 - length $t) }

sub token_slot { key_slot('wsgate:token:' . sha256_hex(shift)) }

# the first token tok("<tag><n>") whose key's slot passes $ok
sub find_token {
    my ($tag, $ok) = @_;
    for my $i (0 .. 199_999) {
        my $t = tok(sprintf '%s%05d', $tag, $i);
        return $t if $ok->(token_slot($t));
    }
    die "no token $tag for that slot\n";
}

sub find_ws {
    my ($n, $ok) = @_;
    for my $i (0 .. 199_999) {
        my $ws = sprintf 'c1a5e000-%04d-4000-8000-%012d', $n, $i;
        return $ws if $ok->(key_slot("{$ws}"));
    }
    die "no workspace $n for that slot\n";
}

# per master i: workspace W[i] and its token T[i], both on master i (and
# on master 0 outside the slots the resharding moves, 0-2999); U[i] a
# token Redis never had whose key is on master i
our (@W, @T, @U);
for my $i (0 .. 2) {
    my $on = sub { master_index($_[0]) == $i && $_[0] >= 3000 };
    $W[$i] = find_ws($i, $on);
    $T[$i] = find_token("cLtT$i", $on);
    $U[$i] = find_token("cLtU$i", $on);
}

# MOVED: TM (W[0]'s second token) on master 0, and UM unknown, in one slot
our $TM = find_token('cLtMv', sub { master_index($_[0]) == 0
                                     && $_[0] >= 3000 });
our $SLOT_M = token_slot($TM);
our $UM = find_token('cLtMu', sub { $_[0] == $SLOT_M });
our $WM = find_ws(10, sub { master_index($_[0]) == 0 && $_[0] >= 3000
                            && $_[0] != $SLOT_M });

# ASK: TA and TA2 (W[1]'s) and UA unknown in one slot of master 1; WA's
# slot of master 1 too
our $TA = find_token('cLtAa', sub { master_index($_[0]) == 1 });
our $SLOT_A = token_slot($TA);
our $TA2 = find_token('cLtAb', sub { $_[0] == $SLOT_A });
our $UA = find_token('cLtAu', sub { $_[0] == $SLOT_A });
our $WA = find_ws(11, sub { master_index($_[0]) == 1 && $_[0] != $SLOT_A });

# the load's clients: two per master; master 0's in the slots the
# resharding moves (0-2999), keys and workspaces
our (@LW, @LT);
for my $k (0 .. 5) {
    my $i = $k % 3;
    my $on = sub { master_index($_[0]) == $i && ($i || $_[0] < 3000) };
    $LW[$k] = find_ws(20 + $k, $on);
    $LT[$k] = find_token("cLtL$k", $on);
}
our %LOADT = (
    unknown => find_token('cLtLu', sub { $_[0] < 3000 }),
    revoked => find_token('cLtLr', sub { $_[0] < 3000 }),
    rev2 => tok('cLtLrev2'),
    rev2_ws => 'c1a5e000-0099-4000-8000-000000000000',
    sys => find_token('cLtLs', sub { $_[0] < 3000 }),
    sys_name => $SYS_NAME,
    sys_uuid => $SYS_UUID,
);

sub seed_all {
    redis_flush();
    for my $i (0 .. 2) {
        seed_token($T[$i], ws => $W[$i], kind => 'workspace');
    }
    seed_token($TM, ws => $W[0], kind => 'workspace');
    seed_token($TA, ws => $W[1], kind => 'workspace');
    seed_token($TA2, ws => $W[1], kind => 'workspace');
    seed_token($LT[$_], ws => $LW[$_], kind => 'workspace') for 0 .. 5;
    seed_token($LOADT{rev2}, ws => $LOADT{rev2_ws}, kind => 'workspace');
    seed_token($LOADT{sys}, name => $SYS_NAME, kind => 'system');
}

# the tokens of the workspaces WM and WA: a register needs one
our $TWM = find_token('cLtWm', sub { 1 });
our $TWA = find_token('cLtWa', sub { 1 });

seed_all();
seed_token($TWM, ws => $WM, kind => 'workspace');
seed_token($TWA, ws => $WA, kind => 'workspace');

# the TLS cluster: T[i] and W[i] on master i (its split is checked in
# TEST 14)
redis_use_cluster($CT);
seed_token($T[$_], ws => $W[$_], kind => 'workspace') for 0 .. 2;
redis_use_cluster($C);

# ---------------------------------------------------------------------------
# Helpers.

our $GOOD = '{"id":"%s","url":"https://agent.example.com/a2a",'
            . '"agent_card":{"name":"agent"}}';
our $BAD  = '{"id":"%s","url":"http://127.0.0.1/a2a",'
            . '"agent_card":{"name":"agent"}}';

sub get_t {
    my ($token, %o) = @_;
    return http_once(uri => '/t', port => $o{port},
                     headers => ["Authorization: Bearer $token"]);
}

sub register {
    my ($ws, $token, $body, %o) = @_;
    return http_once(method => 'POST', uri => '/registry/register',
                     port => $o{port}, body => sprintf($body, $ws),
                     headers => ["Authorization: Bearer $token",
                                 'Content-Type: application/json']);
}

sub state_of {
    my ($ws, %o) = @_;
    return http_once(uri => "/workspaces/$ws/state", port => $o{port});
}

sub is_503 {
    my ($a, $what) = @_;
    Test::More::ok($a->{status} == 503
                   && $a->{body} eq '{"error":"auth backend unavailable"}'
                   && ($a->{head}{'retry-after'} // '') eq '1',
                   "$what: 503 with Retry-After: 1")
        or Test::More::diag("got $a->{status} $a->{body}");
}

sub is_200_for {
    my ($a, $ws, $what) = @_;
    Test::More::ok($a->{status} == 200 && ($a->{head}{'x-ws'} // '') eq $ws
                   && $a->{body} eq "ok\n", "$what: 200 for $ws")
        or Test::More::diag("got $a->{status} x-ws="
                            . ($a->{head}{'x-ws'} // '') . " $a->{body}");
}

sub is_401 {
    my ($a, $what) = @_;
    Test::More::ok($a->{status} == 401
                   && $a->{body} eq '{"error":"invalid workspace auth token"}',
                   "$what: 401 invalid token")
        or Test::More::diag("got $a->{status} $a->{body}");
}

# polls $try (a sub returning true when done) every 5 ms for $secs
sub within {
    my ($secs, $try) = @_;
    my $deadline = now() + $secs;
    while (1) {
        return 1 if $try->();
        return 0 if now() > $deadline;
        sleep_s(0.005);
    }
}

# polls the error log of the nginx under test for a line matching $re, up
# to 2 s; true once one is there
sub error_log_has {
    my $re = shift;
    return ::within(2, sub {
        open my $f, '<', Test::Nginx::Util::server_root() . '/logs/error.log'
            or return 0;
        my $seen = grep { /$re/ } <$f>;
        close $f;
        return $seen;
    });
}

# a slot moved halfway by a block is moved the rest of the way (and a
# child that does it is waited for)
our (@Unfinished, @Children);

sub finish_moves {
    for my $pid (@Children) {
        waitpid $pid, 0;
        Test::More::is($? >> 8, 0, 'the migration that ended under a request '
                                   . 'ended well');
    }
    @Children = ();
    while (my $m = shift @Unfinished) {
        my ($slot, $to) = @$m;
        cluster_move_slot($C, $slot, $to);
    }
    cluster_wait($C);
}

# the answers of a load run against what each kind must get
sub judge_load {
    my ($name, $answers, $s, $e, %o) = @_;
    my ($fail, $st) = judge(answers => $answers, window => [$s, $e],
                            recover => $o{recover} || $RECOVER,
                            allow => $o{allow} || {});
    my $n503 = $st->{by_answer}{503} || 0;
    my $in = grep { $_->{done} >= $s && $_->{sent} <= $e } @$answers;
    Test::More::note(sprintf '%s: %.0f ms, %d answers, %d during it, %d x 503,'
                     . ' last wrong answer %.0f ms after it', $name,
                     ($e - $s) * 1000, $st->{n} || 0, $in, $n503,
                     $st->{recovery} * 1000);
    Test::More::ok(!@$fail, "$name: every answer is its kind's right one"
                            . ($o{allow}{503} ? ' (or 503 until it ended)'
                                              : ', no 503'))
        or Test::More::diag(join "\n", (grep { defined } @$fail[0 .. 14]),
                            @$fail > 15 ? ('... ' . @$fail . ' in all') : ());
    Test::More::ok($in >= ($o{min_in} // 50),
                   "$name: $in answers while it went on");
    return ($fail, $st);
}

sub clients {
    return [map { { ws => $LW[$_], token => $LT[$_] } } 0 .. 5];
}

our $Mix = [qw(ws unknown sys a2a ws revoked forged reg_ok ws reg_bad)];

# the load a cluster event is judged under: 300 req/s of $Mix from the six
# workspaces, for at most 60 s, its answers in a directory of its own
sub cluster_load {
    my $dir = File::Temp::tempdir('wsgate-cluster-XXXXXX', TMPDIR => 1,
                                  CLEANUP => 1);
    return load_start(clients => clients(), tokens => \%LOADT, mix => $Mix,
                      rate => 300, out => "$dir/answers", max => 60);
}

# http{} of a gateway on cluster $c, with @extra directives, in front of
# nginx_backend
sub http_config {
    my ($c, @extra) = @_;
    return join('', map { "    $_\n" } cluster_conf($c, timeout => '500ms'),
                                      @extra) . <<"_EOC_";
    upstream be {
        server 127.0.0.1:\$TEST_NGINX_BE_PORT;
        keepalive 16;
    }
_EOC_
}

our $HttpConfig = http_config($C);
our $HttpConfig6 = http_config($C6);
our $HttpConfigCache = http_config($C, 'wsgate_cache zone=cluster_edge:1m '
                                       . 'ttl=60s;');

# an ACL user on every master, for wsgate's AUTH on each connection
sub acl_user {
    ::seed_all();
    for my $m (@{ $::C->{masters} }) {
        cluster_cmd_node($::C, $m, 'ACL', 'SETUSER', 'wsgate-edge', 'reset',
                         'on', '>s3cret', '~*', '&*', '+@all');
    }
}

our $HttpConfigAuth = <<"_EOC_";
    @{[cluster_conf($C, timeout => '500ms', user => 'wsgate-edge',
                    password => 's3cret')]}
    upstream be {
        server 127.0.0.1:\$TEST_NGINX_BE_PORT;
        keepalive 16;
    }
_EOC_

our $HttpConfigBadAuth = <<"_EOC_";
    @{[cluster_conf($C, timeout => '500ms', user => 'wsgate-edge',
                    password => 'wrong')]}
    upstream be {
        server 127.0.0.1:\$TEST_NGINX_BE_PORT;
        keepalive 16;
    }
_EOC_

# the seeds are the TLS cluster's masters on their TLS ports
sub http_config_tls {
    my $name = shift;
    return <<"_EOC_";
    @{[cluster_conf($::CT, tls_ports => 1, timeout => '500ms',
                    tls => undef, tls_verify => undef, tls_ca => $::CT->{ca},
                    tls_name => $name)]}
    upstream be {
        server 127.0.0.1:\$TEST_NGINX_BE_PORT;
        keepalive 16;
    }
_EOC_
}

our $HttpConfigTLS = http_config_tls('localhost');
our $HttpConfigTLSBadName = http_config_tls('redis.example.com');

our $Config = <<'_EOC_';
    location = /t {
        wsgate_auth on;
        add_header X-WS $wsgate_workspace_id always;
        default_type text/plain;
        root html;
    }

    location = /registry/register {
        wsgate_auth on;
        wsgate_register on;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://be/be/register;
    }

    location ~ "^/workspaces/(?<ws>[0-9a-f-]{36})/a2a$" {
        wsgate_auth on;
        wsgate_a2a on;
        wsgate_a2a_validate on;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://be/be/a2a/$ws;
    }

    location ~ "^/workspaces/(?<ws>[0-9a-f-]{36})/restart$" {
        wsgate_restart $ws;
        proxy_pass http://be/be/restart/$ws;
    }

    location ~ "^/workspaces/(?<ws>[0-9a-f-]{36})/state$" {
        wsgate_status $ws;
    }
_EOC_

# a second edge (nginx_edge) with $http_config and the same server, /t's
# file in a directory of its own
sub second_edge {
    my $http_config = shift;
    my $html = File::Temp::tempdir('wsgate-edge-html-XXXXXX', TMPDIR => 1,
                                   CLEANUP => 1);
    open my $f, '>', "$html/t" or die "$html/t: $!\n";
    print $f "ok\n";
    close $f;
    (my $c = $Config) =~ s{root html;}{root $html;};
    return nginx_edge(http_config => $http_config, config => $c);
}

# ---------------------------------------------------------------------------
# What the blocks' --- init do, in order.

# TEST 1
sub block_keyslots {
    my @alpha = ('{', '}', '{', '}', '{}', 'a', 'b', 'ws', ':', "\x00", "\xff",
                 "\xc3\xa9", '');
    my @bad;
    for my $n (1 .. 5000) {
        my $key = join '', map { $alpha[int rand @alpha] } 1 .. int(rand 14);
        my $want = cluster_cmd_node($::C, $::C->{masters}[0], 'CLUSTER',
                                    'KEYSLOT', $key);
        push @bad, $key if key_slot($key) != $want;
    }
    Test::More::ok(!@bad, 'key_slot equals CLUSTER KEYSLOT on 5000 keys')
        or Test::More::diag(scalar(@bad) . ' differ, e.g. '
                            . join ' ', map { unpack 'H*', $_ } @bad[0 .. 2]);
    for my $c ($::C, $::C6) {
        my @first = map { my $m = $_; scalar grep { $c->{slot}[$_] == $m->{port} }
                                      (0, 5461, 10923) } @{ $c->{masters} };
        Test::More::ok("@first" eq '1 1 1' && $c->{slot}[5460] == $c->{masters}[0]{port}
                       && $c->{slot}[10922] == $c->{masters}[1]{port},
                       'masters hold 0-5460, 5461-10922, 10923-16383');
    }
    for my $i (0 .. 2) {
        my $m = $::C->{masters}[$i]{port};
        Test::More::is(cluster_master_of($::C, 'wsgate:token:'
                                               . sha256_hex($::T[$i]))->{port},
                       $m, "T[$i]'s key is on master $i");
        Test::More::is(cluster_master_of($::C, "wsgate:ws:{$::W[$i]}:regfail")->{port},
                       $m, "W[$i]'s keys are on master $i");
    }
}

# TEST 2
sub block_records_on_each {
    for my $i (0 .. 2) {
        redis_cmd('HSET', "wsgate:ws:{$::W[$i]}:regfail", 'at_ms', 1000 + $i,
                  'status', 400 + $i, 'reason', "on master $i",
                  'source', 'gateway');
    }
}

# TEST 3
sub block_moved {
    ::is_200_for(::get_t($::TM), $::W[0], 'before the move');
    ::is_200_for(::get_t($::TWM), $::WM, "WM's token before the move");
    my $key = 'wsgate:token:' . sha256_hex($::TM);
    my $from = cluster_move_slot($::C, $::SLOT_M, $::C->{masters}[1]);
    my $wslot = key_slot("{$::WM}");
    cluster_move_slot($::C, $wslot, $::C->{masters}[2]);
    my $moved = eval { cluster_cmd_node($::C, $from, 'EXISTS', $key); 'no' } // $@;
    Test::More::like($moved, qr/MOVED $::SLOT_M 127\.0\.0\.1:$::C->{masters}[1]{port}/,
                     'the old owner answers MOVED for the token');
    Test::More::is(cluster_cmd_node($::C, $::C->{masters}[1], 'EXISTS', $key), 1,
                   'the token is on its new master');
}

# TEST 4
sub block_moved_record {
    Test::More::is(cluster_cmd_node($::C, $::C->{masters}[2], 'HGET',
                                    "wsgate:ws:{$::WM}:regfail", 'status'),
                   '400', 'the record is on the new master');
}

# TEST 5
sub block_ask {
    ::is_200_for(::get_t($::TA), $::W[1], 'before the migration');
    my $to = $::C->{masters}[2];
    my $key = 'wsgate:token:' . sha256_hex($::TA);
    my $from = cluster_move_slot($::C, $::SLOT_A, $to, keys => [$key], finish => 0);
    push @::Unfinished, [$::SLOT_A, $to];
    my $ask = eval { cluster_cmd_node($::C, $from, 'EXISTS', $key); 'no' } // $@;
    Test::More::like($ask, qr/ASK $::SLOT_A 127\.0\.0\.1:$to->{port}/,
                     'the old owner answers ASK for the migrated token');
    Test::More::is(cluster_cmd_node($::C, $from, 'EXISTS',
                                    'wsgate:token:' . sha256_hex($::TA2)), 1,
                   'the other token is still on the old owner');
}

# TEST 6
sub block_ask_write {
    my $to = $::C->{masters}[2];
    my $slot = key_slot("{$::WA}");
    cluster_move_slot($::C, $slot, $to, keys => [], finish => 0);
    # the migration ends 300 ms from now, while the register's write
    # (a script over the workspace's two keys, which Redis refuses with
    # TRYAGAIN or ASK while the slot is half-moved) is being retried
    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        $::C->{conn} = {};          # the parent's connections stay its own
        sleep_s(0.3);
        eval { cluster_move_slot($::C, $slot, $to) };
        POSIX::_exit($@ ? 1 : 0);
    }
    push @::Children, $pid;
}

# TEST 7
sub block_reshard {
    ::finish_moves();
    ::seed_all();
    # keys to migrate besides the clients': 3,000 more in the slots moved
    for (my ($n, $made) = (0, 0); $made < 3000; $n++) {
        my $key = "wsgate:token:filler$n";
        next unless key_slot($key) < 3000;
        redis_cmd('HSET', $key, 'ws', $::W[0], 'kind', 'workspace',
                  'created_ms', 1);
        $made++;
    }
    seed_token($::LOADT{revoked}, ws => $::LW[0], kind => 'workspace');
    redis_cmd('DEL', 'wsgate:token:' . sha256_hex($::LOADT{revoked}));
    my ($m0, $m1) = @{ $::C->{masters} }[0, 1];
    my $before = grep { ($_ // 0) == $m0->{port} } @{ $::C->{slot} }[0 .. 2999];
    Test::More::is($before, 3000, 'slots 0-2999 are on master 0 before');
    my $load = ::cluster_load();
    sleep_s(1.0);
    my $s = now();
    my ($rc, $out) = run_tool(60, 'redis-cli', '--cluster', 'reshard',
                              "127.0.0.1:$m0->{port}",
                              '--cluster-from', $m0->{id},
                              '--cluster-to', $m1->{id},
                              '--cluster-slots', 3000, '--cluster-yes');
    my $e = now();
    sleep_s($::RECOVER + 1.0);
    my $answers = load_stop($load);
    Test::More::ok(!$rc, "redis-cli --cluster reshard succeeded")
        or Test::More::diag(substr($out, -2000));
    Test::More::ok(!$load->{error}, 'the load ran and stopped by itself')
        or Test::More::diag($load->{error});
    cluster_wait($::C);
    my $after = grep { ($_ // 0) == $m1->{port} } @{ $::C->{slot} }[0 .. 2999];
    Test::More::is($after, 3000, 'slots 0-2999 are on master 1 after');
    Test::More::is(cluster_cmd_node($::C, $m0, 'DBSIZE') + 0
                   < cluster_cmd_node($::C, $m1, 'DBSIZE'), 1,
                   'the keys went with them');
    ::judge_load('resharding', $answers, $s, $e);
}

# TEST 8
sub block_clusterdown {
    ::seed_all();
    ::is_200_for(::get_t($::T[$_]), $::W[$_], "master $_ before") for 0 .. 2;
    my $dead = $::C->{masters}[2];
    cluster_stop($::C, nodes => [$dead], signal => 'KILL');
    my $t0 = now();
    cluster_wait($::C, state => 'fail', timeout => 15);
    Test::More::note(sprintf 'cluster_state:fail %.0f ms after the kill',
                     (now() - $t0) * 1000);
    for my $i (0 .. 2) {
        ::is_503(::get_t($::T[$i]), "valid token on master $i, cluster down");
        ::is_503(::get_t($::U[$i]), "unknown token on master $i, cluster down");
    }
    my $st = ::state_of($::W[0]);
    Test::More::is($st->{status}, 503, 'wsgate_status: 503 while the cluster is down');
    cluster_restart($::C, nodes => [$dead]);
    my $t1 = now();
    ::seed_all();
    my $ok = ::within(5, sub { ::get_t($::T[2])->{status} == 200 });
    Test::More::ok($ok, sprintf 'a token on the returned master: 200 again, '
                                . '%.0f ms after cluster_state:ok',
                                (now() - $t1) * 1000);
}

# TEST 9
sub block_failover {
    redis_use_cluster($::C6);
    ::seed_all();
    seed_token($::LOADT{revoked}, ws => $::LW[0], kind => 'workspace');
    redis_cmd('DEL', 'wsgate:token:' . sha256_hex($::LOADT{revoked}));
    cluster_wait_replicas($::C6);
    my $dead = $::C6->{masters}[0];
    my ($replica) = grep { ($_->{master_id} // '') eq $dead->{id} }
                    @{ $::C6->{replicas} };
    my $load = ::cluster_load();
    sleep_s(1.0);
    my $s = now();
    cluster_stop($::C6, nodes => [$dead], signal => 'KILL');
    my $promoted = ::within(20, sub {
        my $r = eval { cluster_cmd_node($::C6, $replica, 'ROLE') };
        return $r && $r->[0] eq 'master';
    });
    my $e = now();
    Test::More::ok($promoted, sprintf 'the replica was promoted, %.0f ms after '
                                      . 'the kill', ($e - $s) * 1000);
    sleep_s($::RECOVER_FAILOVER + 1.5);
    my $answers = load_stop($load);
    Test::More::ok(!$load->{error}, 'the load ran and stopped by itself')
        or Test::More::diag($load->{error});
    my ($fail, $st) = ::judge_load('failover', $answers, $s, $e,
                                   allow => { 503 => 1 },
                                   recover => $::RECOVER_FAILOVER);
    Test::More::ok(($st->{by_answer}{503} || 0) > 0,
                   'some answers were 503 until the promotion');
    Test::More::ok(($st->{n_after} || 0) >= 50,
                   'answers after the promotion: ' . ($st->{n_after} || 0));
    redis_use_cluster($::C);
}

# TEST 10
sub block_two_edges {
    ::seed_all();
    my $b = ::second_edge($::HttpConfig);
    for my $i (0 .. 2) {
        my $r = ::register($::W[$i], $::T[$i], $::BAD);
        Test::More::is($r->{status}, 400, "edge A: register of W[$i] refused");
    }
    for my $i (0 .. 2) {
        my $at = redis_cmd('HGET', "wsgate:ws:{$::W[$i]}:regfail", 'at_ms')
                 // 'none';
        my $r = ::within(1, sub {
            ::state_of($::W[$i], port => $b->{port})->{body}
                =~ /"state":"degraded","last_failure":\{"at_ms":\Q$at\E,"status":400,/
        });
        Test::More::ok($r, "edge B: W[$i] degraded, the failure edge A recorded");
        my $g = ::register($::W[$i], $::T[$i], $::GOOD, port => $b->{port});
        Test::More::is($g->{status}, 200, "edge B: a good register of W[$i]");
    }
    nginx_edge_stop($b);
}

# TEST 11
sub block_two_edges_cache {
    ::seed_all();
    my $b = ::second_edge($::HttpConfigCache);
    for my $i (0 .. 2) {
        for my $port (undef, $b->{port}) {
            # twice: the second answer is the cache's
            ::get_t($::T[$i], port => $port) for 1 .. 2;
            ::is_200_for(::get_t($::T[$i], port => $port), $::W[$i],
                         'edge ' . ($port ? 'B' : 'A') . ", T[$i] cached");
        }
    }
    my $cli = Cwd::abs_path('build/wsgate-token') || 'build/wsgate-token';
    my $seeds = join ',', map { "127.0.0.1:$_->{port}" } @{ $::C->{masters} };
    for my $i (0 .. 2) {
        # the operator revokes the workspace's tokens; the clock starts
        # when the CLI has returned
        my ($rc, $out, $err) = run_cli($cli, {}, '--cluster', $seeds,
                                       'revoke', $::W[$i]);
        Test::More::is($rc, 0, "wsgate-token --cluster revoke W[$i]: exit 0")
            or Test::More::diag($err);
        my $t0 = now();
        my %took;
        ::within(2, sub {
            for my $edge ('A', 'B') {
                next if defined $took{$edge};
                my $a = ::get_t($::T[$i], port => $edge eq 'B' ? $b->{port} : undef);
                $took{$edge} = now() - $t0 if $a->{status} == 401;
            }
            return keys %took == 2;
        });
        for my $edge ('A', 'B') {
            Test::More::ok(defined $took{$edge}
                           && $took{$edge} <= $::REVOKE_BOUND,
                           sprintf 'edge %s: T[%d] (master %d) refused %s after '
                                   . 'the revocation', $edge, $i, $i,
                                   defined $took{$edge}
                                   ? sprintf('%.0f ms', $took{$edge} * 1000)
                                   : 'never');
        }
    }
    nginx_edge_stop($b);
}

# TEST 14
sub block_tls {
    for my $i (0 .. 2) {
        Test::More::is(cluster_master_of($::CT, 'wsgate:token:'
                                                . sha256_hex($::T[$i]))->{port},
                       $::CT->{masters}[$i]{port},
                       "TLS cluster: T[$i]'s key is on master $i");
    }
    # a token on each master: a connection to each; then every wsgate
    # connection a master has is on its TLS port
    ::get_t($::T[$_]) for 0 .. 2;
    for my $i (0 .. 2) {
        my $m = $::CT->{masters}[$i];
        my $list = cluster_cmd_node($::CT, $m, 'CLIENT', 'LIST');
        my @ours = grep { /\bname=wsgate-\d+\b/ } split /\n/, $list;
        my @plain = grep { !/\bladdr=127\.0\.0\.1:$m->{tls_port}\b/ }
                    @ours;
        Test::More::ok(@ours && !@plain,
                       "master $i: wsgate's connections (" . @ours
                       . ") are on its TLS port $m->{tls_port}")
            or Test::More::diag($list);
    }
}

# the ACL user exists before the blocks' nginx starts (Test::Nginx runs
# a block's --- init only once nginx is up)
add_block_preprocessor(sub {
    main::acl_user() if $_[0]->name =~ /\bAUTH\b|wrong password/;
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the Perl slot function is CLUSTER KEYSLOT's, on 5,000 keys full of braces; both clusters split the slots as this suite expects
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- user_files
>>> t
ok
--- init
main::block_keyslots();
--- request eval
"GET /t"
--- more_headers eval
"Authorization: Bearer $::T[0]"
--- response_body
ok



=== TEST 2: tokens on each master: 200 for the workspace's own, 401 for one Redis never had; each workspace's state from its master
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- user_files
>>> t
ok
--- init
main::block_records_on_each();
--- request eval
[(map { "GET /t" } 0 .. 5), map { "GET /workspaces/$::W[$_]/state" } 0 .. 2]
--- more_headers eval
[(map { "Authorization: Bearer $::T[$_]" } 0 .. 2),
 (map { "Authorization: Bearer $::U[$_]" } 0 .. 2), "", "", ""]
--- error_code eval
[200, 200, 200, 401, 401, 401, 200, 200, 200]
--- response_headers eval
[(map { "X-WS: $::W[$_]" } 0 .. 2),
 ("WWW-Authenticate: Bearer error=\"invalid_token\"") x 3, "", "", ""]
--- response_body eval
[("ok\n") x 3, ('{"error":"invalid workspace auth token"}') x 3,
 map { qq({"workspace_id":"$::W[$_]","state":"degraded","last_failure":)
       . qq({"at_ms":@{[1000 + $_]},"status":@{[400 + $_]},)
       . qq("reason":"on master $_","source":"gateway"},"restart_at_ms":null}) }
 0 .. 2]



=== TEST 3: MOVED: a token's slot and a workspace's slot moved to other masters under a running nginx: reads and writes follow
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- user_files
>>> t
ok
--- init
main::block_moved();
--- request eval
["GET /t", "GET /t", "POST /registry/register\n" . sprintf($::BAD, $::WM),
 "GET /workspaces/$::WM/state", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::TM", "Authorization: Bearer $::UM",
 "Authorization: Bearer $::TWM\nContent-Type: application/json", "",
 "Authorization: Bearer $::TM"]
--- error_code eval
[200, 401, 400, 200, 200]
--- response_headers eval
["X-WS: $::W[0]", "", "", "", "X-WS: $::W[0]"]
--- response_body_like eval
[qr/^ok$/, qr/invalid workspace auth token/, qr/"field":"url"/,
 qr/^\{"workspace_id":"\Q$::WM\E","state":"degraded","last_failure":\{"at_ms":\d{13},"status":400,"reason":"url: address in a blocked range \(loopback\)","source":"gateway"\},"restart_at_ms":null\}$/,
 qr/^ok$/]



=== TEST 4: ... and the failure was written on the workspace's new master
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- user_files
>>> t
ok
--- init
main::block_moved_record();
--- request eval
"GET /workspaces/$::WM/state"
--- response_body_like: "state":"degraded"



=== TEST 5: ASK: a slot half-moved (MIGRATING / IMPORTING), one of its two tokens migrated: both answered, an unknown token in it 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- user_files
>>> t
ok
--- init
main::block_ask();
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::TA", "Authorization: Bearer $::TA2",
 "Authorization: Bearer $::UA", "Authorization: Bearer $::TA"]
--- error_code eval
[200, 200, 401, 200]
--- response_headers eval
["X-WS: $::W[1]", "X-WS: $::W[1]", "", "X-WS: $::W[1]"]



=== TEST 6: a register failure of a workspace whose slot is half-moved, the migration ending 300 ms later: recorded (TRYAGAIN / ASK retried) and read back
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- user_files
>>> t
ok
--- init
main::block_ask_write();
--- request eval
["POST /registry/register\n" . sprintf($::BAD, $::WA),
 "GET /workspaces/$::WA/state"]
--- more_headers eval
["Authorization: Bearer $::TWA\nContent-Type: application/json", ""]
--- wait: 0.8
--- error_code eval
[400, 200]
--- response_body_like eval
[qr/"field":"url"/,
 qr/"state":"degraded","last_failure":\{"at_ms":\d{13},"status":400,/]



=== TEST 7: 3,000 slots resharded (redis-cli --cluster reshard) under load: every answer right for its kind, never a 503
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- user_files
>>> t
ok
--- init
main::block_reshard();
--- request eval
"GET /t"
--- more_headers eval
"Authorization: Bearer $::LT[0]"
--- response_body
ok



=== TEST 8: a master killed, no replica: cluster_state:fail, then 503 with Retry-After for tokens on every master (never 401); back without a reload once it returns
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- user_files
>>> t
ok
--- init
main::block_clusterdown();
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
[(map { "Authorization: Bearer $::T[$_]" } 0 .. 2),
 "Authorization: Bearer $::U[1]"]
--- error_code eval
[200, 200, 200, 401]



=== TEST 9: 3 masters + 3 replicas, a master killed under load: 503 only until its replica is promoted, then every answer right, without a reload
--- http_config eval: $::HttpConfig6
--- config eval: $::Config
--- user_files
>>> t
ok
--- init
main::block_failover();
--- request eval
"GET /t"
--- more_headers eval
"Authorization: Bearer $::LT[0]"
--- response_body
ok



=== TEST 10: two edges on one cluster: a failure recorded through one edge is in the other's wsgate_status, and a recovery through the other clears it for both
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- user_files
>>> t
ok
--- init
main::block_two_edges();
--- request eval
[map { "GET /workspaces/$::W[$_]/state" } 0 .. 2]
--- response_body_like eval
[map { qr/^\{"workspace_id":"\Q$::W[$_]\E","state":"online","last_failure":null,"restart_at_ms":null\}$/ } 0 .. 2]



=== TEST 11: two edges with the token cache: a token on each master revoked with wsgate-token --cluster is refused by both within 100 ms
--- http_config eval: $::HttpConfigCache
--- config eval: $::Config
--- user_files
>>> t
ok
--- init
main::block_two_edges_cache();
--- request eval
[map { "GET /t" } 0 .. 2]
--- more_headers eval
[map { "Authorization: Bearer $::T[$_]" } 0 .. 2]
--- error_code eval
[401, 401, 401]



=== TEST 12: AUTH on every master's connection (an ACL user): tokens on each master answered
--- http_config eval: $::HttpConfigAuth
--- config eval: $::Config
--- user_files
>>> t
ok
--- init
# a token on each master, then every wsgate connection is that user's
main::get_t($::T[$_]) for 0 .. 2;
for my $i (0 .. 2) {
    my $list = WsgateCluster::cluster_cmd_node($::C, $::C->{masters}[$i], 'CLIENT', 'LIST');
    my @ours = grep { /\bname=wsgate-\d+/ } split /\n/, $list;
    my @other = grep { !/\buser=wsgate-edge\b/ } @ours;
    Test::More::ok(@ours && !@other,
                   "master $i: wsgate's connections are user wsgate-edge's")
        or Test::More::diag($list);
}
--- request eval
[map { "GET /t" } 0 .. 2]
--- more_headers eval
[map { "Authorization: Bearer $::T[$_]" } 0 .. 2]
--- error_code eval
[200, 200, 200]
--- response_headers eval
[map { "X-WS: $::W[$_]" } 0 .. 2]
--- no_error_log
WRONGPASS



=== TEST 13: a wrong password: 503 with Retry-After, never 401, and the refusal logged
--- http_config eval: $::HttpConfigBadAuth
--- config eval: $::Config
--- user_files
>>> t
ok
--- init
# the refusal is logged when a worker first connects, before any request
Test::More::ok(main::error_log_has(qr/connection setup refused: .*WRONGPASS/),
               'the refused AUTH is in the error log');
--- request eval
[map { "GET /t" } 0 .. 2]
--- more_headers eval
[map { "Authorization: Bearer $::T[$_]" } 0 .. 2]
--- error_code eval
[503, 503, 503]
--- response_headers eval
[("Retry-After: 1") x 3]



=== TEST 14: TLS on every master's connection (tls tls_verify tls_ca= tls_name=, the seeds' TLS ports): tokens on each master answered, unknown ones 401
--- http_config eval: $::HttpConfigTLS
--- config eval: $::Config
--- user_files
>>> t
ok
--- init
main::block_tls();
--- request eval
[map { "GET /t" } 0 .. 5]
--- more_headers eval
[(map { "Authorization: Bearer $::T[$_]" } 0 .. 2),
 (map { "Authorization: Bearer $::U[$_]" } 0 .. 2)]
--- error_code eval
[200, 200, 200, 401, 401, 401]
--- response_headers eval
[(map { "X-WS: $::W[$_]" } 0 .. 2),
 ("WWW-Authenticate: Bearer error=\"invalid_token\"") x 3]
--- no_error_log
[error]



=== TEST 15: TLS with a name the nodes' certificate does not carry: 503 with Retry-After, never 401, and the certificate error logged
--- http_config eval: $::HttpConfigTLSBadName
--- config eval: $::Config
--- user_files
>>> t
ok
--- init
# logged when a connection is tried, once per backoff step: not after
# each request (a --- error_log would look after each one)
main::get_t($::T[0]);
Test::More::ok(main::error_log_has(
                   qr/wsgate redis: \S+ (?:still )?unavailable: SSL certificate does not match "redis\.example\.com"/),
               'the certificate error is in the error log');
--- request eval
[map { "GET /t" } 0 .. 3]
--- more_headers eval
[(map { "Authorization: Bearer $::T[$_]" } 0 .. 2),
 "Authorization: Bearer $::U[0]"]
--- error_code eval
[503, 503, 503, 503]
--- response_headers eval
[("Retry-After: 1") x 4]
--- response_body eval
[('{"error":"auth backend unavailable"}') x 4]
