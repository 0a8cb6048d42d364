# vi:filetype=perl
#
# The operator CLI on a Redis Cluster: `wsgate-token --cluster
# host:port[,...]` (redis/wsgate-token.c) against 3 masters on loopback
# (WsgateCluster's fixture, through WsgateTest's cluster mode), with
# workspaces and tokens whose keys sit on every master.  Results are read
# back with `redis-cli -c` (which follows MOVED itself) and with the
# fixture's routing client; the gateway (wsgate_redis_cluster) checks
# that what the CLI wrote authenticates, and what it revoked does not.
#
# File level, in order: every command, the order of each change's parts
# (MONITOR on every master, against the order redis/README.md gives), the
# set's lock, ASK (a slot half moved), MOVED (the slot moved while the CLI
# waits inside CLIENT PAUSE, after it read the map), a dead first seed,
# the options, and last the cluster down (CLUSTERDOWN).  The blocks then
# run against the same cluster.

BEGIN { $ENV{WSGATE_TEST_CLUSTER} = 1 }

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use WsgateTest;
use WsgateCluster;

use Cwd ();
use File::Temp ();
use IO::Select ();
use IO::Socket::INET ();
use JSON::PP ();
use MIME::Base64 ();
use POSIX ();
use Time::HiRes ();

our $CLI     = Cwd::abs_path('build/wsgate-token');
our $README  = 'redis/README.md';
our $C       = redis_cluster();
our @M       = @{ $C->{masters} };          # in slot order
our $SEEDS   = join ',', map { "127.0.0.1:$_->{port}" } @M;
our @MINTED;

our $DENIED = qq({"error":"invalid workspace auth token"});

sub ok_body { "ws=$_[0] kind=$_[1]\n" }

# ---------------------------------------------------------------------------
# Helpers.

# (exit status, stdout, stderr); options first: cli({ env => {...} }, ...)
sub cli {
    my $o = ref $_[0] eq 'HASH' ? shift : {};
    return run_cli($::CLI,
                   { env => { WSGATE_REDIS_URL => '', WSGATE_REDIS_CLUSTER => '',
                              %{ $o->{env} || {} } } },
                   @_);
}

# with the MOVED replies the masters gave it counted in $CLI_MOVED
our $CLI_MOVED = 0;
sub ccli {
    my $before = moved_total();
    my @r = cli('--cluster', $::SEEDS, @_);
    $::CLI_MOVED += moved_total() - $before;
    return @r;
}

sub mint {
    my @args = @_;
    my ($rc, $out, $err) = ccli(@args);
    Test::More::is($rc, 0, "--cluster @args: exit 0") or Test::More::diag($err);
    Test::More::like($out, qr/\A[A-Za-z0-9_-]{43}\n\z/,
                     "--cluster @args: the token alone on stdout");
    (my $tok = $out) =~ s/\n\z//;
    push @::MINTED, $tok;
    return $tok;
}

# redis-cli -c, from the first master: its output lines
sub rcli {
    my ($rc, $out) = run_tool(10, 'redis-cli', '-c', '-p', $::M[0]{port}, @_);
    die "redis-cli -c @_: exit $rc: $out" if $rc;
    return [split /\n/, $out];
}

sub tkey { 'wsgate:token:' . sha256_hex(shift) }
sub skey { my $id = shift; $id =~ /^[0-9a-f-]{36}$/ ? "wsgate:ws:{$id}:tokens"
                                                    : "wsgate:sys:{$id}:tokens" }
sub lkey { (my $k = skey(shift)) =~ s/:tokens$/:lock/; $k }

# which master (0, 1, 2) serves the key now
sub master_of {
    my $n = cluster_master_of($::C, shift);
    my ($i) = grep { $::M[$_] == $n } 0 .. $#M;
    return $i;
}

# a workspace UUID whose {ws} keys sit on master $m and that no other
# call returned
my %Taken;
sub ws_on {
    my ($m, $tag) = @_;
    for my $i (1 .. 100000) {
        my $ws = sprintf '%08x-6262-4262-8262-%012d', $tag, $i;
        next if $Taken{$ws};
        my $p = $::C->{slot}[key_slot("wsgate:ws:{$ws}:tokens")];
        next unless $p == $::M[$m]{port};
        $Taken{$ws} = 1;
        return $ws;
    }
    die "no workspace on master $m";
}

# tokens for $ws until their keys sit on every master (at most 40)
sub mint_spread {
    my ($ws, @opts) = @_;
    my (@t, %on);
    while (@t < 40 && keys %on < 3) {
        push @t, mint('issue', $ws, @opts);
        $on{ master_of(tkey($t[-1])) }++;
    }
    Test::More::is(scalar(keys %on), 3,
                   scalar(@t) . " tokens of $ws: their keys sit on all 3 masters");
    return @t;
}

sub moved_total { my $n = 0; $n += errorstat($_, 'MOVED') for 0 .. 2; $n }

sub errorstat {
    my ($m, $what) = @_;
    my $info = cluster_cmd_node($::C, $::M[$m], 'INFO', 'errorstats');
    return $info =~ /^errorstat_$what:count=(\d+)/m ? $1 : 0;
}

sub dbsize { my $n = 0; $n += cluster_cmd_node($::C, $_, 'DBSIZE') for @::M; $n }

sub members { [sort @{ redis_cmd('SMEMBERS', skey(shift)) }] }

# ---------------------------------------------------------------------------
# MONITOR on every master while a command runs: the commands it sent, in
# the order they ran (one client, one command at a time: the times of
# one clock order them), as "NAME key".

sub monitored {
    my @args = @_;
    my @socks;
    for my $m (@::M) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $m->{port}, Proto => 'tcp')
            or die "monitor: $!";
        print $s "MONITOR\r\n";
        my $ok = <$s>;
        die "MONITOR: $ok" unless $ok =~ /^\+OK/;
        push @socks, $s;
    }
    my @r = ccli(@args);
    # the last command ran on some master: a PING to each marks the end
    my @seen;
    for my $s (@socks) {
        print $s "PING\r\n";
    }
    for my $s (@socks) {
        my $sel = IO::Select->new($s);
        my $buf = '';
        while ($buf !~ /"PING"/ || $buf !~ /\+PONG\r\n/) {
            $sel->can_read(5) or die "monitor: no PONG";
            sysread($s, $buf, 65536, length $buf) or die "monitor: closed";
        }
        for my $line (split /\r\n/, $buf) {
            # (not the commands of a script: "[0 lua]")
            next unless $line =~ /^\+(\d+\.\d+) \[\d+ \d[^\]]*\] "(\w+)"(?: "([^"]*)")?/;
            my ($t, $name, $key) = ($1, uc $2, $3);
            next if $name =~ /^(PING|ASKING|AUTH|CLUSTER|INFO)$/;
            push @seen, [$t, $name =~ /^(MULTI|EXEC|EVAL)$/ ? $name : "$name $key"];
        }
        close $s;
    }
    return (\@r, [map { $_->[1] } sort { $a->[0] <=> $b->[0] } @seen]);
}

# redis/README.md's ```redis cluster-op=<name> blocks, as "NAME key" lines
sub doc_order {
    my ($op, %v) = @_;
    open my $f, '<', $::README or die "$::README: $!";
    local $/;
    my $s = <$f>;
    $s =~ /^```redis cluster-op=\Q$op\E[ \t]*\n(.*?)^```[ \t]*$/ms
        or return ["no block cluster-op=$op"];
    my @out;
    for my $line (split /\n/, $1) {
        next if $line =~ /^\s*(#|$)/;
        my ($each, $if);
        $each = $1 if $line =~ s/\s+#\s*each\s+(\w+)\s*$//;
        $if = $1 if $line =~ s/\s+#\s*once if any\s+(\w+)\s*$//;
        next if defined $if && !@{ $v{$if} || [] };
        my @vals = defined $each ? @{ $v{$each} || [] } : (undef);
        for my $x (@vals) {
            (my $l = $line) =~ s{<(\w+)>}{
                defined $each && $1 eq $each ? $x
                : defined $v{$1} && !ref $v{$1} ? $v{$1} : "<$1>"
            }ge;
            my ($name, $key) = split ' ', $l;
            push @out, $name =~ /^(MULTI|EXEC|EVAL)$/ ? $name : "$name $key";
        }
    }
    return \@out;
}

# ---------------------------------------------------------------------------
# File level.

Test::More::ok(-x $CLI, "$CLI is built");
Test::More::is(scalar(@M), 3, 'a cluster of 3 masters');

# issue, on every master

our $W1 = ws_on(0, 1);
our @T1 = mint_spread($W1);
{
    my $t = $T1[0];
    my %h = @{ rcli('HGETALL', tkey($t)) };
    Test::More::is_deeply([sort keys %h], [qw(created_ms kind ws)],
                          'issue: redis-cli -c HGETALL: ws, kind, created_ms');
    Test::More::is("$h{ws} $h{kind}", "$W1 workspace", 'issue: the token hash');
    Test::More::like($h{created_ms}, qr/^\d{13}$/, 'issue: created_ms');
    Test::More::is(rcli('PTTL', tkey($t))->[0], -1, 'issue: no TTL');
    Test::More::is_deeply([sort @{ rcli('SMEMBERS', skey($W1)) }],
                          [sort map { sha256_hex($_) } @T1],
                          'issue: redis-cli -c SMEMBERS: every digest in the set');
    Test::More::is(rcli('EXISTS', lkey($W1))->[0], 0, 'issue: the lock is gone');
}

our $WT = ws_on(1, 2);
{
    my $t = mint('issue', $WT, '--ttl', '1h');
    my $pttl = rcli('PTTL', tkey($t))->[0];
    Test::More::ok($pttl > 3590000 && $pttl <= 3600000, "issue --ttl 1h: PTTL $pttl");
}

# issue-system, revoke of a system caller

our $SYS = 'system:cluster-check';
our $T_SYS = mint('issue-system', $SYS);
{
    my %h = @{ rcli('HGETALL', tkey($T_SYS)) };
    Test::More::is("$h{name} $h{kind}", "$SYS system", 'issue-system: the token hash');
    Test::More::is_deeply(rcli('SMEMBERS', skey($SYS)), [sha256_hex($T_SYS)],
                          'issue-system: the digest in wsgate:sys:{<name>}:tokens');
}

our $SYS2 = 'webhook:cluster-check';
{
    my @t = map { mint('issue-system', $SYS2) } 1 .. 3;
    my ($rc, $out, $err) = ccli('revoke', $SYS2);
    Test::More::is($rc, 0, 'revoke <system name>: exit 0') or Test::More::diag($err);
    Test::More::is($out, "revoked 3 token(s) of $SYS2\n", 'revoke <system name>: says how many');
    Test::More::is_deeply([map { rcli('EXISTS', tkey($_))->[0] } @t], [0, 0, 0],
                          'revoke <system name>: every token key gone');
    Test::More::is(rcli('EXISTS', skey($SYS2))->[0], 0, 'revoke <system name>: the set is gone');
}

# revoke, with token keys on every master

our $WR = ws_on(1, 3);
{
    my @t = mint_spread($WR);
    my $n = @t;
    my ($rc, $out, $err) = ccli('revoke', $WR);
    Test::More::is($rc, 0, 'revoke: exit 0') or Test::More::diag($err);
    Test::More::is($out, "revoked $n token(s) of $WR\n", 'revoke: says how many');
    Test::More::is(scalar(grep { rcli('EXISTS', tkey($_))->[0] } @t), 0,
                   "revoke: none of the $n token keys exists (redis-cli -c)");
    Test::More::is(rcli('SCARD', skey($WR))->[0], 0, 'revoke: the set is empty');
    Test::More::is(rcli('EXISTS', lkey($WR))->[0], 0, 'revoke: the lock is gone');
}

# rotate, rotate --grace

our $WO = ws_on(2, 4);
{
    my @old = mint_spread($WO);
    my ($rc, $out, $err) = ccli('rotate', $WO);
    Test::More::is($rc, 0, 'rotate: exit 0') or Test::More::diag($err);
    my ($new) = $out =~ /\A([A-Za-z0-9_-]{43})\n\z/;
    push @MINTED, $new if $new;
    Test::More::ok($new, 'rotate: the new token alone on stdout');
    Test::More::is($err, "wsgate-token: revoked " . @old . " old token(s) of $WO\n",
                   'rotate: the note on stderr');
    Test::More::is(scalar(grep { rcli('EXISTS', tkey($_))->[0] } @old), 0,
                   'rotate: every old token key is gone');
    Test::More::is_deeply(members($WO), [sha256_hex($new // '')],
                          'rotate: the set holds only the new digest');
    Test::More::is(rcli('HGET', tkey($new // ''), 'ws')->[0], $WO, 'rotate: the new token hash');
}

our $WG = ws_on(0, 5);
{
    my @old = mint_spread($WG);
    my $soon = mint('issue', $WG, '--ttl', '30s');
    my ($rc, $out, $err) = ccli('rotate', $WG, '--grace', '1h');
    Test::More::is($rc, 0, 'rotate --grace 1h: exit 0') or Test::More::diag($err);
    my ($new) = $out =~ /\A([A-Za-z0-9_-]{43})\n\z/;
    push @MINTED, $new if $new;
    Test::More::is($err, "wsgate-token: " . @old . " old token(s) of $WG stop working in "
                         . "3600000 ms, 1 more already expire sooner\n",
                   'rotate --grace: the note on stderr');
    my @pttl = map { rcli('PTTL', tkey($_))->[0] } @old;
    Test::More::is(scalar(grep { $_ > 3590000 && $_ <= 3600000 } @pttl), scalar(@old),
                   "rotate --grace 1h: every old token expires in 1 h (@pttl)");
    my $s = rcli('PTTL', tkey($soon))->[0];
    Test::More::ok($s > 0 && $s <= 30000, "rotate --grace: one that expires sooner keeps its TTL ($s)");
    Test::More::is(rcli('PTTL', tkey($new // ''))->[0], -1, 'rotate --grace: the new token has no TTL');
    Test::More::is(scalar(@{ members($WG) }), @old + 2,
                   'rotate --grace: the old digests stay in the set during the grace');
}

# mark-restart and status, a failure record written as the gateway does

our $WS = ws_on(2, 6);
{
    my @t = mint_spread($WS);
    redis_cmd('DEL', tkey($t[0]));      # one gone: not live
    my ($rc, $out, $err) = ccli('mark-restart', $WS, '--grace', '1h');
    Test::More::is($rc, 0, 'mark-restart: exit 0') or Test::More::diag($err);
    my ($at) = $out =~ /^restart window of \Q$WS\E open for 3600000 ms from (\d+)\n\z/;
    Test::More::ok($at, 'mark-restart: says so');
    my $pttl = rcli('PTTL', "wsgate:ws:{$WS}:restart")->[0];
    Test::More::ok($pttl > 3590000, "mark-restart: the restart key lives 1 h ($pttl)");
    redis_cmd('HSET', "wsgate:ws:{$WS}:regfail", at_ms => $at + 5, status => 401,
              reason => 'invalid workspace auth token', source => 'gateway');
    ($rc, $out, $err) = ccli('status', $WS);
    Test::More::is($rc, 0, 'status: exit 0') or Test::More::diag($err);
    my $st = eval { JSON::PP::decode_json($out) } || {};
    Test::More::is_deeply($st, { workspace_id => $WS, state => 'restarting',
        last_failure => { at_ms => $at + 5, status => 401,
                          reason => 'invalid workspace auth token', source => 'gateway' },
        restart_at_ms => $at + 0, live_tokens => @t - 1 },
        'status: restarting, the failure, the window, live tokens counted on every master');
}

# The order of the parts, as MONITOR sees them on all masters, and as
# redis/README.md gives it

our $WM = ws_on(1, 7);
{
    my @old = (mint('issue', $WM), mint('issue', $WM));
    my $ttl_old = mint('issue', $WM, '--ttl', '1s');
    my %v = (ws => $WM, member => [map { sha256_hex($_) } @old, $ttl_old]);

    my ($r, $seen) = monitored('issue', $WM, '--ttl', '1h');
    (my $new = $r->[1]) =~ s/\n//;
    push @MINTED, $new;
    Test::More::is_deeply($seen, doc_order('issue', %v, digest => sha256_hex($new),
                                           ttl_ms => ['x']),
                          'issue: the commands in the order redis/README.md gives');

    redis_cmd('SREM', skey($WM), sha256_hex($new));
    redis_cmd('DEL', tkey($new));
    my @member = sort @{ redis_cmd('SMEMBERS', skey($WM)) };
    ($r, $seen) = monitored('rotate', $WM);
    ($new = $r->[1]) =~ s/\n//;
    push @MINTED, $new;
    # the members in the order SMEMBERS gave them: the MONITOR order of DEL
    my @del = map { /^DEL wsgate:token:(\w+)/ ? $1 : () } @$seen;
    Test::More::is_deeply([sort @del], \@member, 'rotate: a DEL per member');
    Test::More::is_deeply($seen, doc_order('rotate', ws => $WM, digest => sha256_hex($new),
                                           ttl_ms => [], member => \@del),
                          'rotate: the commands in the order redis/README.md gives');

    my @again = (mint('issue', $WM), mint('issue', $WM));
    ($r, $seen) = monitored('revoke', $WM);
    @del = map { /^DEL wsgate:token:(\w+)/ ? $1 : () } @$seen;
    Test::More::is(scalar(@del), 3, 'revoke: a DEL per member');
    Test::More::is_deeply($seen, doc_order('revoke', ws => $WM, member => \@del),
                          'revoke: the commands in the order redis/README.md gives');

    # with grace: PTTLs first; one member expired (gone), one expiring sooner
    my @g = (mint('issue', $WM), mint('issue', $WM, '--ttl', '30s'), mint('issue', $WM));
    redis_cmd('DEL', tkey($g[2]));
    my %d = map { sha256_hex($g[$_]) => $_ } 0 .. 2;
    ($r, $seen) = monitored('rotate', $WM, '--grace', '1m');
    ($new = $r->[1]) =~ s/\n//;
    push @MINTED, $new;
    my @pttl = map { /^PTTL wsgate:token:(\w+)/ ? $1 : () } @$seen;
    Test::More::is_deeply([sort @pttl], [sort keys %d], 'rotate --grace: a PTTL per member');
    Test::More::is_deeply($seen, doc_order('rotate-grace', ws => $WM,
                                           digest => sha256_hex($new), ttl_ms => [],
                                           member => \@pttl,
                                           expire_digest => [sha256_hex($g[0])],
                                           gone_digest => [sha256_hex($g[2])]),
                          'rotate --grace: the commands in the order redis/README.md gives')
        or Test::More::diag(join "\n", @$seen);

    ($r, $seen) = monitored('status', $WM);
    Test::More::is_deeply($seen, doc_order('status', ws => $WM,
                                           member => [map { s/^EXISTS wsgate:token://r }
                                                      grep { /^EXISTS/ } @$seen]),
                          'status: the commands in the order redis/README.md gives');
    ($r, $seen) = monitored('mark-restart', $WM);
    Test::More::is_deeply($seen, doc_order('mark-restart', ws => $WM),
                          'mark-restart: the command redis/README.md gives');
}

# Every command so far went straight to the master of its slot (the
# CLI's slot function agrees with Redis's): no master answered MOVED
Test::More::is($CLI_MOVED, 0,
               'no MOVED while the map is right: every command routed by its key slot');

# The set's lock: another writer holds it

our $WL = ws_on(0, 8);
{
    my $before = members($WL);
    redis_cmd('SET', lkey($WL), 'other-writer', 'PX', 1000);
    my $t0 = Time::HiRes::time();
    my $t = mint('issue', $WL);
    my $took = Time::HiRes::time() - $t0;
    Test::More::ok($took > 0.5, sprintf('lock held for 1 s: issue waited for it (%.2f s)', $took));
    Test::More::is_deeply(members($WL), [sha256_hex($t)], 'lock: then it issued');

    redis_cmd('SET', lkey($WL), 'other-writer');
    my $n = dbsize();
    for my $args (['issue', $WL], ['revoke', $WL], ['rotate', $WL]) {
        my ($rc, $out, $err) = ccli(@$args);
        Test::More::is($rc, 1, "lock held for good [@$args]: exit 1");
        Test::More::like($err, qr/\Awsgate-token: \Q@{[skey($WL)]}\E is being changed by another writer: \Q@{[lkey($WL)]}\E is taken \(for -1 ms more\); nothing written\n\z/,
                         "lock held for good [@$args]: says so") or Test::More::diag($err);
        Test::More::is($out, '', "lock held for good [@$args]: nothing on stdout");
    }
    Test::More::is(dbsize(), $n, 'lock held: no key written');
    Test::More::is(redis_cmd('GET', lkey($WL)), 'other-writer', "lock held: another's lock is left alone");
    redis_cmd('DEL', lkey($WL));
}

# ASK: the workspace's slot half moved from master 0 to master 1, none of
# its keys there yet: the old owner answers ASK, the new one serves them
# after ASKING

our $WA = ws_on(0, 9);
our @T_ASK;
{
    my $slot = key_slot(skey($WA));
    cluster_move_slot($C, $slot, $M[1], keys => [], finish => 0);
    my $ask = errorstat(0, 'ASK');
    @T_ASK = (mint('issue', $WA), mint('issue', $WA));
    Test::More::ok(errorstat(0, 'ASK') > $ask,
                   'slot in migration: master 0 answered ASK (' . (errorstat(0, 'ASK') - $ask) . ' times)');
    Test::More::is(cluster_cmd_node($C, $M[1], 'CLUSTER', 'COUNTKEYSINSLOT', $slot), 1,
                   'slot in migration: the set was written on master 1 (the lock is gone)');
    Test::More::is(cluster_cmd_node($C, $M[0], 'CLUSTER', 'COUNTKEYSINSLOT', $slot), 0,
                   'slot in migration: nothing on master 0');

    # a MULTI/EXEC over the slot's keys, some of them not moved: TRYAGAIN,
    # retried briefly, then an error
    my $try = errorstat(1, 'TRYAGAIN');
    my $t0 = Time::HiRes::time();
    my ($rc, $out, $err) = ccli('status', $WA);
    my $took = Time::HiRes::time() - $t0;
    Test::More::is($rc, 1, 'status of a slot in migration: exit 1');
    Test::More::like($err, qr/\Awsgate-token: redis 127\.0\.0\.1:$M[1]{port}: EXEC: TRYAGAIN [^\n]*\(slot $slot, gave up after 16 attempts\)\n\z/,
                     'status of a slot in migration: TRYAGAIN, given up') or Test::More::diag($err);
    Test::More::ok(errorstat(1, 'TRYAGAIN') - $try >= 5 && $took > 0.3 && $took < 5,
                   sprintf('TRYAGAIN retried %d times over %.2f s',
                           errorstat(1, 'TRYAGAIN') - $try, $took));

    for my $n ($M[1], $M[0], $M[2]) {
        cluster_cmd_node($C, $n, 'CLUSTER', 'SETSLOT', $slot, 'NODE', $M[1]{id});
    }
    cluster_wait($C);
    Test::More::is(master_of(skey($WA)), 1, 'the slot now belongs to master 1');
    Test::More::is_deeply(members($WA), [sort map { sha256_hex($_) } @T_ASK],
                          'after the move: both digests in the set');
    ($rc, $out, $err) = ccli('status', $WA);
    Test::More::like($out, qr/"live_tokens":2\}/, 'after the move: status reads both tokens');
}

# MOVED: the CLI reads the map, then waits on master 0 (CLIENT PAUSE
# WRITE) with its first write; meanwhile the workspace's slot moves to
# master 2.  Master 0 answers MOVED, the CLI goes where it says.

# a workspace whose slot holds no key yet (a token minted earlier may sit
# in any slot): SETSLOT NODE refuses to give away a slot with keys
our $WV;
for (1 .. 100) {
    my $ws = ws_on(0, 10);
    next if cluster_cmd_node($C, $M[0], 'CLUSTER', 'COUNTKEYSINSLOT',
                             key_slot(skey($ws)));
    $WV = $ws;
    last;
}
die "no workspace on master 0 with an empty slot\n" unless $WV;
our $T_MOV;
{
    my $slot = key_slot(skey($WV));
    my $moved = errorstat(0, 'MOVED');
    cluster_cmd_node($C, $M[0], 'CLIENT', 'PAUSE', 10000, 'WRITE');
    my $out = File::Temp->new;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', $out->filename;
        open STDERR, '>&', \*STDOUT;
        exec($CLI, '--cluster', "127.0.0.1:$M[2]{port}", 'issue', $WV) or POSIX::_exit(127);
    }
    # wait until the CLI's command waits on master 0
    my $deadline = Time::HiRes::time() + 8;
    my $waiting;
    while (Time::HiRes::time() < $deadline) {
        my $list = cluster_cmd_node($C, $M[0], 'CLIENT', 'LIST');
        last if ($waiting) = grep { /flags=\w*b/ } split /\n/, $list;
        Time::HiRes::sleep(0.02);
    }
    Test::More::ok($waiting, 'the CLI waits on master 0, with the map it read')
        or Test::More::diag(cluster_cmd_node($C, $M[0], 'CLIENT', 'LIST'));
    cluster_move_slot($C, $slot, $M[2], keys => [], finish => 1);
    cluster_cmd_node($C, $M[0], 'CLIENT', 'UNPAUSE');
    waitpid $pid, 0;
    my $rc = $? >> 8;
    open my $f, '<', $out->filename;
    my $text = do { local $/; <$f> } // '';
    Test::More::is($rc, 0, 'slot moved under the CLI: issue exit 0') or Test::More::diag($text);
    ($T_MOV) = $text =~ /\A([A-Za-z0-9_-]{43})\n\z/;
    push @MINTED, $T_MOV if $T_MOV;
    Test::More::ok(errorstat(0, 'MOVED') > $moved, 'master 0 answered MOVED');
    cluster_wait($C);
    Test::More::is(master_of(skey($WV)), 2, 'the slot is on master 2');
    Test::More::is_deeply(members($WV), [sha256_hex($T_MOV // '')],
                          'the digest is in the set, on master 2');
    Test::More::is(cluster_cmd_node($C, $M[2], 'CLUSTER', 'COUNTKEYSINSLOT', $slot), 1,
                   'master 2 has the set (and no lock)');
}

# seeds: a dead one first; one that is not a cluster node; none alive

our $NONCLUSTER = redis_extra(name => 'SINGLE');
{
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1) or die $!;
    my $dead = $s->sockport;
    close $s;
    my $t = do {
        my ($rc, $out, $err) = cli('--cluster', "127.0.0.1:$dead,127.0.0.1:$M[1]{port}",
                                   'issue', $W1);
        Test::More::is($rc, 0, 'a dead first seed: the next one gives the map');
        Test::More::is($err, '', 'a dead first seed: nothing on stderr');
        $out =~ s/\n//r;
    };
    push @MINTED, $t;
    Test::More::ok(grep({ $_ eq sha256_hex($t) } @{ members($W1) }), 'a dead first seed: issued');

    my ($rc, $out, $err) = cli('--cluster', "127.0.0.1:$dead", 'status', $W1);
    Test::More::is($rc, 1, 'no seed alive: exit 1');
    Test::More::like($err, qr/\Awsgate-token: cannot connect to redis 127\.0\.0\.1:$dead: [^\n]+\n\z/,
                     'no seed alive: one line, why');
    ($rc, $out, $err) = cli('--cluster', "127.0.0.1:$dead,[::1]:$dead", 'status', $W1);
    Test::More::like($err, qr/\Awsgate-token: cannot connect to redis \[::1\]:$dead: [^\n]+ \(and every other seed failed\)\n\z/,
                     'no seed alive of two: the last one, and that every one failed');
    ($rc, $out, $err) = cli('--cluster', "127.0.0.1:$NONCLUSTER->{port}", 'issue', $W1);
    Test::More::is($rc, 1, 'not a cluster node: exit 1');
    Test::More::like($err, qr/\Awsgate-token: redis 127\.0\.0\.1:$NONCLUSTER->{port}: CLUSTER: ERR This instance has cluster support disabled\n\z/,
                     'not a cluster node: says so');
    Test::More::is(redis_cmd_on($NONCLUSTER, 'DBSIZE'), 0, 'not a cluster node: nothing written there');
}

# options: WSGATE_REDIS_CLUSTER; the URL's credentials; db; bad seeds

{
    my ($rc, $out, $err) = cli({ env => { WSGATE_REDIS_CLUSTER => "127.0.0.1:$M[2]{port}" } },
                               'status', $W1);
    Test::More::is($rc, 0, 'WSGATE_REDIS_CLUSTER: exit 0') or Test::More::diag($err);
    Test::More::like($out, qr/"workspace_id":"\Q$W1\E"/, 'WSGATE_REDIS_CLUSTER: status');

    # the cluster has no password: an AUTH from the URL's credentials fails
    for my $how (['--redis', 'redis://alice:s3cr3t-Pw@127.0.0.1:1/0'],
                 [{ env => { WSGATE_REDIS_URL => 'redis://:s3cr3t-Pw@/0' } }]) {
        ($rc, $out, $err) = cli(@$how, '--cluster', "127.0.0.1:$M[0]{port}", 'status', $W1);
        Test::More::is($rc, 1, 'the URL\'s password is used on the cluster: AUTH fails');
        Test::More::like($err, qr/\Awsgate-token: redis \*\*\*\@127\.0\.0\.1:$M[0]{port}: AUTH: /,
                         'the URL\'s password: the node named ***@host:port')
            or Test::More::diag($err);
        Test::More::unlike("$out$err", qr/s3cr3t/, 'the URL\'s password: not shown');
    }

    my $n = dbsize();
    my @bad = (
        [['--redis', 'redis://127.0.0.1/2', '--cluster', $SEEDS, 'issue', $W1],
         qr/a Redis Cluster has only db 0; the Redis URL names db 2/],
        [[{ env => { WSGATE_REDIS_URL => 'redis://127.0.0.1/1',
                     WSGATE_REDIS_CLUSTER => $SEEDS } }, 'issue', $W1],
         qr/only db 0; the Redis URL names db 1/],
        [['--cluster', '127.0.0.1:x', 'issue', $W1], qr/invalid --cluster "127\.0\.0\.1:x"/],
        [['--cluster', '127.0.0.1:0', 'issue', $W1], qr/invalid --cluster/],
        [['--cluster', "$SEEDS,", 'issue', $W1], qr/invalid --cluster/],
        [['--cluster', '[::1', 'issue', $W1], qr/invalid --cluster/],
        [['--cluster', 'alice:s3cr3t-Pw@127.0.0.1:1', 'issue', $W1],
         qr/invalid --cluster "\*\*\*\@127\.0\.0\.1:1" .*credentials go in the --redis URL/],
        [['--cluster', join(',', ("127.0.0.1:1") x 17), 'issue', $W1], qr/too many --cluster seeds/],
        [['--cluster', $SEEDS, 'issue', 'not-a-uuid'], qr/is not a workspace UUID/],
        [['--cluster', $SEEDS, '--redis', 'rediss://127.0.0.1/0', 'issue', $W1], qr/rediss:/],
    );
    for my $case (@bad) {
        my ($args, $msg) = @$case;
        my $name = join ' ', map { ref $_ ? 'env' : $_ } @$args;
        ($rc, $out, $err) = cli(@$args);
        Test::More::is($rc, 2, "bad input [$name]: exit 2");
        Test::More::like($err, qr/\Awsgate-token: [^\n]*\n\z/, "bad input [$name]: one line");
        Test::More::like($err, $msg, "bad input [$name]: says why") or Test::More::diag($err);
        Test::More::unlike($err, qr/s3cr3t/, "bad input [$name]: no password shown");
        Test::More::is($out, '', "bad input [$name]: nothing on stdout");
    }
    Test::More::is(dbsize(), $n, 'bad input: nothing written');
}

# The gateway's tokens, minted last at file level (the blocks check them)

our $WGW = ws_on(1, 11);
our @T_GW = mint_spread($WGW);
our $WGR = ws_on(2, 12);
our @T_GR_OLD = mint_spread($WGR);
our $T_GR_NEW;
{
    my ($rc, $out) = ccli('-q', 'rotate', $WGR);
    ($T_GR_NEW) = $out =~ /\A([A-Za-z0-9_-]{43})\n\z/;
    push @MINTED, $T_GR_NEW;
    Test::More::is($rc, 0, 'rotate for the gateway blocks: exit 0');
}

# No token in plaintext anywhere in the cluster

{
    my @hits;
    for my $m (@M) {
        for my $k (@{ cluster_cmd_node($C, $m, 'KEYS', '*') }) {
            my $type = cluster_cmd_node($C, $m, 'TYPE', $k);
            my $v = $type eq 'hash' ? cluster_cmd_node($C, $m, 'HGETALL', $k)
                  : $type eq 'set'  ? cluster_cmd_node($C, $m, 'SMEMBERS', $k)
                  : [cluster_cmd_node($C, $m, 'GET', $k)];
            for my $s ($k, grep { defined } @$v) {
                push @hits, grep { index($s, $_) >= 0 } grep { defined } @MINTED;
            }
        }
    }
    Test::More::is(scalar(@hits), 0, scalar(@MINTED) . ' tokens minted: none in the cluster in plaintext');
}

# Last: the cluster down.  The slot of a workspace is taken from every
# master (CLUSTER DELSLOTS), so no node serves it and every node reports
# cluster_state:fail.

our $WD = ws_on(1, 13);
{
    my $t = mint('issue', $WD);
    redis_cmd('DEL', skey($WD));
    my $slot = key_slot(skey($WD));
    cluster_cmd_node($C, $_, 'CLUSTER', 'DELSLOTS', $slot) for @M;
    cluster_wait($C, state => 'fail', nodes => [@M]);
    my $n = dbsize();
    for my $args (['issue', $WD], ['revoke', $WD], ['status', $WD],
                  ['mark-restart', $WD], ['rotate', $WD], ['issue-system', 'system:down']) {
        my ($rc, $out, $err) = ccli(@$args);
        Test::More::is($rc, 1, "cluster down [@$args]: exit 1");
        Test::More::like($err, qr/\Awsgate-token: redis 127\.0\.0\.1:\d+: \w+: CLUSTERDOWN [^\n]+\n\z/,
                         "cluster down [@$args]: one line, CLUSTERDOWN") or Test::More::diag($err);
        Test::More::is($out, '', "cluster down [@$args]: nothing on stdout");
    }
    Test::More::is(dbsize(), $n, 'cluster down: nothing written');
    cluster_cmd_node($C, $M[1], 'CLUSTER', 'ADDSLOTS', $slot);
    cluster_wait($C);
    Test::More::is(rcli('EXISTS', tkey($t))->[0], 1, 'cluster up again: the token is still there');
}

our $HttpConfig = '    ' . redis_conf(timeout => '2s') . "\n";

our $Config = <<'_EOC_';
    location = /t {
        wsgate_auth on;
        proxy_set_header X-WS $wsgate_workspace_id;
        proxy_set_header X-Kind $wsgate_token_kind;
        proxy_pass http://127.0.0.1:$server_port/echo;
    }

    location = /echo {
        return 200 "ws=$http_x_ws kind=$http_x_kind\n";
    }
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: CLI-issued tokens whose keys sit on every master authenticate
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[map { "GET /t" } @::T_GW]
--- more_headers eval
[map { "Authorization: Bearer $_" } @::T_GW]
--- error_code eval
[map { 200 } @::T_GW]
--- response_body eval
[map { main::ok_body($::WGW, 'workspace') } @::T_GW]



=== TEST 2: CLI revoke on the cluster: each of them answers 401 at once
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
my ($rc, $out, $err) = main::ccli('revoke', $::WGW);
Test::More::is($rc, 0, 'revoke before the requests: exit 0');
--- request eval
[map { "GET /t" } @::T_GW]
--- more_headers eval
[map { "Authorization: Bearer $_" } @::T_GW]
--- error_code eval
[map { 401 } @::T_GW]
--- response_body eval
[map { $::DENIED } @::T_GW]



=== TEST 3: CLI rotate on the cluster: the new token works, every old one answers 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[map { "GET /t" } $::T_GR_NEW, @::T_GR_OLD]
--- more_headers eval
[map { "Authorization: Bearer $_" } $::T_GR_NEW, @::T_GR_OLD]
--- error_code eval
[200, map { 401 } @::T_GR_OLD]
--- response_body eval
[main::ok_body($::WGR, 'workspace'), map { $::DENIED } @::T_GR_OLD]



=== TEST 4: CLI issue-system on the cluster: a system token; the token issued across a MOVED works
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T_SYS", "Authorization: Bearer $::T_MOV"]
--- error_code eval
[200, 200]
--- response_body eval
["ws= kind=system\n", main::ok_body($::WV, 'workspace')]
