# vi:filetype=perl
#
# Issue 14: faults under load.  In every block nginx runs with a master and
# 2 workers, and a load process (WsgateLoad) keeps 8 keep-alive clients
# busy, a few hundred requests per second mixing valid, unknown, revoked
# and system tokens, forged system callers, A2A calls, good and bad
# registers, registers the backend fails and restarts, while the block's
# --- init brings one fault about:
#
#   Redis stopped and started again (its data saved and loaded back);
#   Redis frozen by CLIENT PAUSE, and by DEBUG SLEEP;
#   wsgate's Redis connections killed from the server side (CLIENT KILL);
#   Redis loading its dataset (-LOADING);
#   Redis a replica (-READONLY for writes, reads served);
#   nginx reloaded (HUP) three times in a row;
#   one worker killed with SIGKILL (the master starts another);
#   with the token cache, only the invalidation subscribers killed.
#
# Each answer is judged by when it was sent and got against the fault
# window [start, end] (WsgateLoad's judge): outside it (before the start,
# and from 1 s after the end) only the right answer for its kind; inside,
# also a 503 with SPEC's body and Retry-After where a Redis fault makes
# one, and a connection closed under a keep-alive client where nginx's own
# processes come and go.  Never a 401 for a valid token, never a 200 for a
# revoked one.  Then:
#   - the log: no worker exited on a signal but the one killed, no
#     [alert]/[crit]/[emerg] but that one's, the fault's own lines there,
#     and no [error]/[warn] line (but the security line of forged callers)
#     outside the window;
#   - Redis: after the fault every client ends with a known sequence of
#     registers and restarts, and what is on record is exactly what SPEC's
#     data model says it leaves, no record lost and none left behind
#     (regfail fields and at_ms, restart marker, both TTLs).
#
# The Redis here is one of the suite's own (redis_extra, DEBUG enabled),
# so that it can be stopped with its data saved and restarted with a slow
# load; the backend is a second, plain nginx (nginx_backend), so that a
# killed gateway worker takes no backend request with it.  Every block
# with a --- config starts from an empty Redis and seeded tokens.
#
# Run some scenarios only: WSGATE_FAULTS="hup sigkill" prove -I t/lib
# t/110-faults.t (the keys are run_scenario's first argument); note what
# each fault logged: WSGATE_FAULTS_LOG=1 prove -v ...

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use WsgateTest;
use WsgateLoad;

use File::Temp ();
use POSIX ();

# a full resync starts at once, not after 5 s waiting for more replicas
our @DEBUG = ('enable-debug-command yes', 'repl-diskless-sync-delay 0');
our $R = redis_extra(name => 'FAULT', conf => [@DEBUG]);
our $REPLICA = redis_extra(name => 'REPLICA',
                           conf => ['repl-diskless-sync-delay 0']);
nginx_backend();


our $WEDGE = 60_000;        # ms, wsgate_wedge_window
our $GRACE = 30_000;        # ms, wsgate_restart_grace
our $RECOVER = 1.0;         # s: the right answers again within this
our $REVOKE_BOUND = 0.1;    # s: a revocation reaches every worker within
our $RATE = 300;            # requests per second, if nginx keeps up

our $SYS_NAME = 'system:restart-context';
our $SYS_UUID = '1a6dd07d-3c32-5fad-a541-9b52f879b82d';

sub tok { my $t = shift; $t . substr('9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNcEx12345',
                                     0, 43 - length $t) }

our @WS = map { sprintf 'fa017000-0000-4000-8000-%012d', $_ } 0 .. 7;
our @TOK = map { tok(sprintf 'fLtWs%02d', $_) } 0 .. 7;
our %T = (
    unknown => tok('fLtUnknown'),
    revoked => tok('fLtRevoked'),
    rev2 => tok('fLtRevokedLater'),
    rev2_ws => 'fa017000-0000-4000-8000-999999999999',
    sys => tok('fLtSystem'),
    sys_name => $SYS_NAME,
    sys_uuid => $SYS_UUID,
);

# what each client does once the fault is over, and what it leaves in
# Redis (see check_records)
our @FINAL = (['reg_ok'], ['reg_ok', 'reg_500'],
              ['reg_ok', 'restart', 'reg_bad'], ['reg_ok', 'reg_bad', 'reg_ok']);

# http{} of the gateway, its cache line $cache, in front of nginx_backend
sub http_config {
    my $cache = shift;
    return <<"_EOC_";
    wsgate_redis 127.0.0.1:\$TEST_NGINX_REDIS_FAULT_PORT timeout=500ms;
    $cache
    wsgate_wedge_window ${WEDGE}ms;
    wsgate_restart_grace ${GRACE}ms;
    upstream be {
        server 127.0.0.1:\$TEST_NGINX_BE_PORT;
        keepalive 16;
    }
_EOC_
}

our $HttpConfig = http_config(cache_conf());
our $CacheHttpConfig = http_config('wsgate_cache zone=faults:1m ttl=60s;');

our $Config = <<'_EOC_';
    location = /t {
        wsgate_auth on;
        add_header X-WS $wsgate_workspace_id always;
        add_header X-Cache $wsgate_cache_status always;
        add_header X-Pid $pid always;
        default_type text/plain;
        root html;
    }

    location = /registry/register {
        wsgate_auth on;
        wsgate_register on;
        add_header X-Pid $pid always;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://be/be/register;
    }

    location ~ "^/workspaces/(?<ws>[0-9a-f-]{36})/a2a$" {
        wsgate_auth on;
        wsgate_a2a on;
        wsgate_a2a_validate on;
        add_header X-Pid $pid always;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://be/be/a2a/$ws;
    }

    location ~ "^/workspaces/(?<ws>[0-9a-f-]{36})/restart$" {
        wsgate_restart $ws;
        add_header X-Pid $pid always;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass http://be/be/restart/$ws;
    }
_EOC_

# ---------------------------------------------------------------------------
# Redis

sub rcmd { redis_cmd_on($::R, @_) }

sub info_field {
    my ($inst, $section, $field) = @_;
    my $info = redis_cmd_on($inst, 'INFO', $section);
    return $info =~ /^\Q$field\E:(\S*)/m ? $1 : '';
}

# CLIENT LIST as [{ id, name, flags, sub, redir, ... }]
sub clients {
    my @c;
    for my $line (split /\r?\n/, rcmd('CLIENT', 'LIST')) {
        my %f = map { my ($k, $v) = split /=/, $_, 2; ($k, $v // '') }
                split / /, $line;
        push @c, \%f if defined $f{id};
    }
    return @c;
}

sub kill_clients {
    my $re = shift;
    my $n = 0;
    for my $c (clients()) {
        next unless $c->{name} =~ $re;
        $n += eval { rcmd('CLIENT', 'KILL', 'ID', $c->{id}) } || 0;
    }
    return $n;
}

# Redis as every block starts: up, a master, empty, the tokens seeded
sub fresh {
    redis_start_on($::R, conf => [@DEBUG]) unless $::R->{pid};
    rcmd('REPLICAOF', 'NO', 'ONE');
    rcmd('FLUSHALL');
    for my $i (0 .. $#WS) {
        seed($TOK[$i], ws => $WS[$i], kind => 'workspace');
    }
    seed($T{rev2}, ws => $T{rev2_ws}, kind => 'workspace');
    seed($T{sys}, name => $SYS_NAME, kind => 'system');
    seed($T{revoked}, ws => $WS[0], kind => 'workspace');
    rcmd('DEL', 'wsgate:token:' . sha256_hex($T{revoked}));
}

sub seed {
    my ($token, %o) = @_;
    my $d = sha256_hex($token);
    rcmd('HSET', "wsgate:token:$d", $o{ws} ? (ws => $o{ws})
                                           : (name => $o{name}),
         kind => $o{kind}, created_ms => int(now() * 1000));
    rcmd('SADD', "wsgate:ws:{$o{ws}}:tokens", $d) if $o{ws};
}

# Waits (at most $timeout s) until nginx has 2 workers, none of @$old
# (and exactly @$want when given),
# and Redis shows each one's lookup connection (wsgate-<pid>) and, with a
# cache, its subscriber subscribed and the lookup connection tracking
# into it.  Returns (1, pids) or (0, why).
sub ready {
    my %o = @_;
    my $deadline = now() + ($o{timeout} || 10);
    my %old = map { $_ => 1 } @{ $o{old} || [] };
    my $want = $o{want} ? join(' ', sort { $a <=> $b } @{ $o{want} }) : undef;
    my $why;
    while (1) {
        my @pids = nginx_worker_pids();
        my %by;
        for my $c (clients()) {
            $by{ $c->{name} } = $c
                if length $c->{name}
                   && (!$by{ $c->{name} } || $by{ $c->{name} }{id} < $c->{id});
        }
        $why = @pids == 2 ? undef : '2 workers expected, found ' . @pids;
        $why = "workers @pids, not $want"
            if !$why && defined $want && "@pids" ne $want;
        for my $pid (@pids) {
            last if $why;
            my $look = $by{"wsgate-$pid"};
            my $sub = $by{"wsgate-sub-$pid"};
            if ($old{$pid}) {
                $why = "worker $pid is still there";
            } elsif (!$look) {
                $why = "worker $pid has no Redis connection";
            } elsif ($o{cache} && (!$sub || !$sub->{sub})) {
                $why = "worker $pid has no subscribed wsgate-sub-$pid";
            } elsif ($o{cache} && ($look->{flags} !~ /t/
                                   || $look->{redir} ne $sub->{id})) {
                $why = "worker $pid: wsgate-$pid does not track into "
                       . "its subscriber";
            }
        }
        return (1, @pids) unless $why;
        return (0, $why) if now() > $deadline;
        sleep_s(0.01);
    }
}

# ---------------------------------------------------------------------------
# The error log

sub log_lines {
    my $file = Test::Nginx::Util::server_root() . '/logs/error.log';
    open my $f, '<', $file or return ();
    my @l;
    while (my $line = <$f>) {
        chomp $line;
        next unless $line =~ m{^(\d{4})/(\d\d)/(\d\d)\ (\d\d):(\d\d):(\d\d)
                               \ \[(\w+)\]\ (\d+)\#\d+:\ (.*)}x;
        push @l, { t => POSIX::mktime($6, $5, $4, $3, $2 - 1, $1 - 1900),
                   level => $7, pid => $8, msg => $9, line => $line };
    }
    close $f;
    return @l;
}

# waits (at most 10 s) until $n lines match; dies if they do not
sub wait_log {
    my ($re, $n) = @_;
    my $deadline = now() + 10;
    while ((grep { $_->{msg} =~ $re } log_lines()) < $n) {
        die "no $n log lines $re\n" if now() > $deadline;
        sleep_s(0.01);
    }
}

# ---------------------------------------------------------------------------
# A scenario
#
# scenario(
#   name   => 'what',
#   cache  => 1,                    the workers also subscribe (ready())
#   before => sub { },              after the tokens are seeded
#   fault  => sub { return (S, E, {info}) },    runs during the load
#   revoke => 'before' | 'fault',   when rev2 is revoked: 0.5 s into the
#                                   load, or by the fault (info->{revoked})
#   allow  => { 503 => 1, drop => sub { my ($a, $info) = @_; ... } },
#   expect => [qr/.../, ...],       lines the fault must have logged
#   alerts => sub { my ($line, $info) = @_; 1 if allowed },
#   signals => sub { my ($line, $info) = @_; 1 if allowed },
#   effect => sub { my ($answers, $S, $E, $info) = @_; (ok, what) },
# )

sub scenario {
    my %o = @_;
    my $name = $o{name};
    my $cache = $o{cache} || !!$ENV{WSGATE_TEST_CACHE};

    fresh();
    $o{before}->() if $o{before};
    my ($ok, @pids) = ready(cache => $cache);
    Test::More::ok($ok, "$name: 2 workers connected to Redis")
        or return Test::More::diag($pids[0]);

    my $dir = File::Temp::tempdir('wsgate-faults-XXXXXX', TMPDIR => 1,
                                  CLEANUP => 1);
    my @clients = map { { ws => $WS[$_], token => $TOK[$_],
                          final => $FINAL[$_ % @FINAL] } } 0 .. $#WS;
    my $load = load_start(clients => \@clients, tokens => \%T, rate => $RATE,
                          out => "$dir/answers", max => 40);

    sleep_s(0.5);
    my $revoked_at;
    if (($o{revoke} || 'before') eq 'before') {
        rcmd('DEL', 'wsgate:token:' . sha256_hex($T{rev2}));
        $revoked_at = now();
    }
    sleep_s(0.7);

    my ($s, $e, $info) = eval { $o{fault}->() };
    if (!defined $e) {
        my $err = $@ || 'no window';
        load_stop($load);
        Test::More::ok(0, "$name: the fault was brought about") ;
        Test::More::diag($err);
        return;
    }
    $info ||= {};
    $revoked_at = $info->{revoked} if defined $info->{revoked};
    sleep_s($e + $RECOVER + 1.0 - now());

    my $answers = load_stop($load);
    Test::More::ok(!$load->{error}, "$name: the load ran and stopped by "
                                    . 'itself')
        or Test::More::diag($load->{error});
    sleep_s(0.3);       # the last outcomes on their way to Redis

    my ($fail, $st) = judge(answers => $answers, window => [$s, $e],
                            recover => $RECOVER, revoked_at => $revoked_at,
                            revoke_bound => $REVOKE_BOUND,
                            allow => { 503 => $o{allow}{503},
                                       drop => $o{allow}{drop}
                                               ? sub { $o{allow}{drop}->(
                                                           $_[0], $info) }
                                               : undef });
    my $n503 = $st->{by_answer}{503} || 0;
    my $ndrop = $st->{by_answer}{drop} || 0;
    Test::More::note(sprintf "%s: window %.0f ms, %d answers (%d before, "
                     . "%d from 1 s after), %.0f/s; in the window %d x 503, "
                     . "%d dropped; last wrong answer %.0f ms after the end",
                     $name, ($e - $s) * 1000, $st->{n} || 0,
                     $st->{n_before} || 0, $st->{n_after} || 0,
                     ($st->{n} || 0) / (($answers->[-1]{done} // $s)
                                        - ($answers->[0]{sent} // $s) || 1),
                     $n503, $ndrop, $st->{recovery} * 1000);
    Test::More::ok(!@$fail, "$name: every answer is one SPEC allows then")
        or Test::More::diag(join "\n", (grep { defined } @$fail[0 .. 14]),
                            @$fail > 15 ? ('... ' . @$fail . ' in all') : ());
    Test::More::ok($st->{recovery} <= $RECOVER,
                   sprintf('%s: right answers again %.0f ms after the fault '
                           . 'ended', $name, $st->{recovery} * 1000));
    Test::More::ok(($st->{n_before} || 0) >= 50 && ($st->{n_after} || 0) >= 50,
                   "$name: load before the fault and after the recovery")
        or Test::More::diag("before: $st->{n_before}, after: "
                            . "$st->{n_after}");
    if ($o{effect}) {
        my ($eok, $what) = $o{effect}->($answers, $s, $e, $info);
        Test::More::ok($eok, "$name: the fault had its effect: $what");
    }

    check_log(\%o, $s, $e, $info);
    check_records($name, $answers);
}

# what the log says
sub check_log {
    my ($o, $s, $e, $info) = @_;
    my $name = $o->{name};
    my @lines = log_lines();
    my $from = int($s) - 1;
    my $to = int($e + $RECOVER) + 1;
    my (@bad, @late);
    for my $l (@lines) {
        if ($l->{msg} =~ /exited on signal/) {
            push @bad, $l->{line}
                unless $o->{signals} && $o->{signals}->($l, $info);
            next;
        }
        if ($l->{level} =~ /^(?:alert|crit|emerg)$/) {
            push @bad, $l->{line}
                unless $o->{alerts} && $o->{alerts}->($l, $info);
            next;
        }
        next unless $l->{level} eq 'error' || $l->{level} eq 'warn';
        next if $l->{msg} =~ /^(?:\*\d+ )?wsgate a2a: forged caller /;
        push @late, $l->{line} if $l->{t} < $from || $l->{t} > $to;
    }
    if ($ENV{WSGATE_FAULTS_LOG}) {
        # what the fault logged, each kind of line once, with a count
        my (%n, @order);
        for my $l (grep { $_->{t} >= $from && $_->{t} <= $to } @lines) {
            (my $m = "[$l->{level}] $l->{msg}") =~ s/, client: .*//;
            $m =~ s/\*\d+ //;
            $m =~ s/\b\d{3,}\b/N/g;
            $m =~ s/"[0-9a-f-]{36}"/"WS"/g;
            $m =~ s/\(token "[^"]*", /(token "PREFIX...", /;
            push @order, $m unless $n{$m}++;
        }
        Test::More::note("$name: $n{$_} x $_") for @order;
    }
    Test::More::ok(!@bad, "$name: no worker died but the one killed, no "
                          . 'alert, crit or emerg but its')
        or Test::More::diag(join "\n", @bad);
    Test::More::ok(!@late, "$name: no error or warning outside the fault "
                           . 'window')
        or Test::More::diag(join "\n", @late[0 .. ($#late > 9 ? 9 : $#late)]);
    for my $re (@{ $o->{expect} || [] }) {
        my $re2 = ref $re eq 'CODE' ? $re->($info) : $re;
        Test::More::ok(scalar(grep { $_->{msg} =~ $re2 } @lines),
                       "$name: logged $re2");
    }
}

# After the fault, client i's last requests were $FINAL[i % 4]; what is on
# record must be exactly what they leave.  at_ms and the restart marker
# are times of the requests' own (between sent and got), TTLs are checked
# as expiry instants.
sub check_records {
    my ($name, $answers) = @_;
    my (@bad, %want);
    my $expires = sub {
        my ($key, $at, $what) = @_;
        my $left = rcmd('PTTL', $key);
        my $got = now() * 1000 + $left;
        push @bad, sprintf('%s: PTTL %d, expires %+.0f ms from %s',
                           $key, $left, $got - $at, $what)
            unless $left > 0 && abs($got - $at) <= 300;
    };
    my $within = sub {
        my ($v, $a, $what) = @_;
        push @bad, "$what: " . ($v // 'none') . " not between the request's sent "
                   . int($a->{sent} * 1000) . ' and got '
                   . int($a->{done} * 1000)
            unless defined $v && $v =~ /^\d+$/
                   && $v >= int($a->{sent} * 1000) - 2
                   && $v <= $a->{done} * 1000 + 2;
    };

    for my $i (0 .. $#WS) {
        my $ws = $WS[$i];
        my $fk = "wsgate:ws:{$ws}:regfail";
        my $rk = "wsgate:ws:{$ws}:restart";
        my @f = grep { $_->{client} == $i && $_->{phase} eq 'final' }
                @$answers;
        my $seq = join ' ', map { "$_->{kind}=$_->{answer}" } @f;
        my $want = join ' ', map { "$_=" . ($_ eq 'reg_bad' ? 400
                                            : $_ eq 'reg_500' ? 500 : 200) }
                   @{ $FINAL[$i % @FINAL] };
        if ($seq ne $want) {
            push @bad, "client $i: final requests $seq, want $want";
            next;
        }
        my $fail = rcmd('HGETALL', $fk);
        my %rec = ref $fail ? @$fail : ();
        my $restart = rcmd('GET', $rk);
        my $pattern = $i % @FINAL;

        if ($pattern == 0 || $pattern == 3) {
            push @bad, "$fk left behind: @{[%rec]}" if %rec;
            push @bad, "$rk left behind: $restart" if defined $restart;
            next;
        }
        $want{$fk} = 1;
        my $last = $f[-1];
        $within->($rec{at_ms}, $last, "$fk at_ms");
        if ($pattern == 1) {
            my $r = join ' ', map { "$_=" . ($rec{$_} // 'none') }
                              qw(status reason source);
            push @bad, "$fk: $r" unless ($rec{status} // '') eq '500'
                && ($rec{reason} // '') eq 'backend answered 500'
                && ($rec{source} // '') eq 'backend' && keys %rec == 4;
            push @bad, "$rk left behind: $restart" if defined $restart;
            $expires->($fk, ($rec{at_ms} // 0) + $WEDGE, 'at_ms + wedge')
                if $rec{at_ms};
        } else {
            $want{$rk} = 1;
            push @bad, "$fk: " . join(' ', map { "$_=" . ($rec{$_} // 'none') }
                                          qw(status reason source))
                unless ($rec{status} // '') eq '400'
                    && ($rec{reason} // '') eq
                       'url: address in a blocked range (loopback)'
                    && ($rec{source} // '') eq 'gateway' && keys %rec == 4;
            $within->($restart, $f[1], "$rk");
            if (defined $restart && $restart =~ /^\d+$/) {
                $expires->($rk, $restart + $GRACE, 'restart + grace');
                $expires->($fk, $restart + $GRACE + $WEDGE,
                           'restart + grace + wedge');
            }
        }
    }

    # and nothing else
    my @keys = @{ rcmd('KEYS', 'wsgate:ws:*:regfail') || [] };
    push @keys, @{ rcmd('KEYS', 'wsgate:ws:*:restart') || [] };
    push @bad, "$_ left behind" for grep { !$want{$_} } sort @keys;

    Test::More::ok(!@bad, "$name: failure records and restart windows as "
                          . 'the last registers left them')
        or Test::More::diag(join "\n", @bad);
}

sub old_pid {
    my ($a, $info) = @_;
    return $a->{pid} ne '-' && !$info->{workers}{ $a->{pid} }
           && $a->{flags} =~ /reused/ && $a->{flags} !~ /partial/;
}

sub at_least_one_503 {
    my ($answers, $s, $e) = @_;
    my $n = grep { $_->{answer} eq '503' } @$answers;
    return ($n > 0, "$n answers 503");
}

sub run_scenario {
    my ($key, %o) = @_;
    if ($ENV{WSGATE_FAULTS} && $ENV{WSGATE_FAULTS} !~ /\b\Q$key\E\b/) {
        fresh();
        Test::More::ok(1, "$key: skipped (WSGATE_FAULTS)");
        return;
    }
    scenario(%o);
}

# Every block: the gateway's locations, /t's file, and after its scenario
# (in --- init) one GET /t with a valid token, answered ok.
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => $Config);
    $block->set_value(user_files => ">>> t\nok\n");
    $block->set_value(request => "GET /t\n");
    $block->set_value(more_headers => "Authorization: Bearer $TOK[0]");
    $block->set_value(response_body => "ok\n");
});

master_on();
workers(2);
worker_connections(1024);
log_level('notice');
no_shuffle();
run_tests();

__DATA__

=== TEST 1: Redis stopped, and started again 2 s later
--- http_config eval: $::HttpConfig
--- init
main::run_scenario('stop',
    name => 'Redis stopped',
    allow => { 503 => 1 },
    fault => sub {
        my $s = main::now();
        redis_stop_on($::R, save => 1);
        # long enough for the reconnection backoff to reach its ceiling
        main::sleep_s(2.0);
        redis_start_on($::R, conf => [@::DEBUG]);
        return ($s, main::now());
    },
    effect => \&main::at_least_one_503,
    expect => [qr/wsgate redis: \S+ unavailable: .*, reconnecting$/,
               qr/unavailable: connect\(\) failed \(111: Connection refused\)/,
               qr/wsgate redis: \S+ is available again/]);



=== TEST 2: Redis frozen by CLIENT PAUSE for 1.2 s
--- http_config eval: $::HttpConfig
--- init
main::run_scenario('pause',
    name => 'CLIENT PAUSE',
    allow => { 503 => 1 },
    fault => sub {
        my $s = main::now();
        main::rcmd('CLIENT', 'PAUSE', 1200, 'ALL');
        main::rcmd('PING');         # answered when the pause ends
        return ($s, main::now());
    },
    effect => \&main::at_least_one_503,
    expect => [qr/wsgate redis: \S+ unavailable: redis timed out/,
               qr/wsgate redis: \S+ is available again/]);



=== TEST 3: Redis frozen by DEBUG SLEEP for 1.2 s
--- http_config eval: $::HttpConfig
--- init
main::run_scenario('sleep',
    name => 'DEBUG SLEEP',
    allow => { 503 => 1 },
    fault => sub {
        my $s = main::now();
        main::rcmd('DEBUG', 'SLEEP', '1.2');
        return ($s, main::now());
    },
    effect => \&main::at_least_one_503,
    expect => [qr/wsgate redis: \S+ unavailable: redis timed out/,
               qr/wsgate redis: \S+ is available again/]);



=== TEST 4: wsgate's Redis connections killed by the server (CLIENT KILL), three times
--- http_config eval: $::HttpConfig
--- init
main::run_scenario('kill',
    name => 'CLIENT KILL',
    allow => { 503 => 1 },
    fault => sub {
        my $s = main::now();
        my @n;
        for my $round (1 .. 3) {
            main::sleep_s(0.3) if $round > 1;
            push @n, main::kill_clients(qr/^wsgate-\d+$/);
        }
        return ($s, main::now(), { killed => \@n });
    },
    effect => sub {
        my ($a, $s, $e, $info) = @_;
        my @n = @{ $info->{killed} };
        return ((grep { $_ == 2 } @n) == 3,
                "killed @n connections in 3 rounds (2 each)");
    },
    expect => [qr/wsgate redis: \S+ unavailable: connection closed by redis, reconnecting/]);



=== TEST 5: Redis restarted with a dataset that takes a second to load (-LOADING)
--- http_config eval: $::HttpConfig
--- init
main::run_scenario('loading',
    name => 'LOADING',
    allow => { 503 => 1 },
    before => sub { main::rcmd('DEBUG', 'POPULATE', 5000) },
    fault => sub {
        my $s = main::now();
        redis_stop_on($::R, save => 1);
        redis_start_on($::R, conf => [@::DEBUG, 'key-load-delay 200',
                                      'loading-process-events-interval-bytes 1024'],
                       ready => 0);
        my $loading = 0;
        my $deadline = $s + 30;
        while (main::now() < $deadline) {
            my $pong = eval { main::rcmd('PING') };
            last if defined $pong;
            $loading++ if $@ =~ /LOADING/;
            main::sleep_s(0.01);
        }
        return ($s, main::now(), { loading => $loading });
    },
    effect => sub {
        my ($a, $s, $e, $info) = @_;
        my $n = grep { $_->{answer} eq '503' } @$a;
        return ($n > 0 && $info->{loading} > 0,
                "Redis answered -LOADING $info->{loading} times to PING, "
                . "nginx 503 $n times");
    },
    expect => [qr/wsgate redis: \S+ unavailable: redis is loading its dataset/,
               qr/wsgate redis: \S+ is available again/]);



=== TEST 6: Redis a replica for 1 s: -READONLY for writes, reads served
--- http_config eval: $::HttpConfig
--- init
main::run_scenario('readonly',
    name => 'READONLY',
    allow => { 503 => 1 },
    before => sub {
        # the other server copies this one, and keeps copying it
        redis_cmd_on($::REPLICA, 'REPLICAOF', '127.0.0.1', $::R->{port});
        my $deadline = main::now() + 10;
        until (main::info_field($::REPLICA, 'replication',
                                'master_link_status') eq 'up') {
            die "the replica did not sync\n" if main::now() > $deadline;
            main::sleep_s(0.01);
        }
    },
    fault => sub {
        # it takes over, and this one (wsgate's) becomes its replica
        my $s = main::now();
        redis_cmd_on($::REPLICA, 'REPLICAOF', 'NO', 'ONE');
        main::rcmd('REPLICAOF', '127.0.0.1', $::REPLICA->{port});
        my $deadline = $s + 10;
        until (main::info_field($::R, 'replication', 'master_link_status')
               eq 'up') {
            die "wsgate's Redis did not sync\n" if main::now() > $deadline;
            main::sleep_s(0.01);
        }
        my $full = main::info_field($::REPLICA, 'stats', 'sync_full');
        main::sleep_s(1.0);
        main::rcmd('REPLICAOF', 'NO', 'ONE');
        return ($s, main::now(), { full => $full });
    },
    effect => sub {
        my ($a, $s, $e, $info) = @_;
        my $n = grep { $_->{answer} eq '503' } @$a;
        return (1, "$n answers 503; full resyncs from the replica: "
                   . "$info->{full}");
    },
    expect => [qr/wsgate register: workspace "[^"]+": (?:failure|recovery|restart) not recorded: "READONLY /]);



=== TEST 7: nginx reloaded (HUP) three times in a row
--- http_config eval: $::HttpConfig
--- init
main::run_scenario('hup',
    name => 'HUP x3',
    allow => { drop => \&main::old_pid },
    fault => sub {
        my $s = main::now();
        # each HUP once the master has taken the one before
        for my $i (1 .. 3) {
            kill 'HUP', WsgateHttp::nginx_master_pid();
            main::wait_log(qr/signal 1 \(SIGHUP\) received/, $i);
        }
        # the workers of the last configuration, and only them
        my @l = main::log_lines();
        my ($last) = grep { $l[$_]{msg} =~ /signal 1 \(SIGHUP\)/ } reverse 0 .. $#l;
        my $deadline = $s + 10;
        my @new;
        while (@new < 2) {
            die "no 2 new workers after the third reload\n"
                if main::now() > $deadline;
            main::sleep_s(0.01);
            @l = main::log_lines();
            @new = map { $l[$_]{msg} =~ /^start worker process (\d+)/ ? $1 : () }
                   $last + 1 .. $#l;
        }
        my ($ok, @pids) = main::ready(want => \@new, timeout => 10,
                                      cache => !!$ENV{WSGATE_TEST_CACHE});
        die "after the reloads: $pids[0]\n" unless $ok;
        return ($s, main::now(), { workers => { map { $_ => 1 } @pids } });
    },
    effect => sub {
        my ($a, $s, $e, $info) = @_;
        my %late = map { $_->{pid} => 1 }
                   grep { $_->{sent} > $e && $_->{answer} ne 'drop' } @$a;
        delete $late{'-'};
        my @other = grep { !$info->{workers}{$_} } keys %late;
        return (!@other && scalar(keys %late),
                'after the reloads only the new workers answer ('
                . join(' ', sort keys %late) . ')');
    },
    expect => [qr/signal 1 \(SIGHUP\) received/, qr/gracefully shutting down/]);



=== TEST 8: one worker killed with SIGKILL, the master starts another
--- http_config eval: $::HttpConfig
--- init
main::run_scenario('sigkill',
    name => 'SIGKILL',
    allow => { drop => sub { $_[0]->{pid} eq $_[1]->{killed}
                             || $_[0]->{flags} =~ /fresh/ } },
    fault => sub {
        my @old = WsgateHttp::nginx_worker_pids();
        my $victim = $old[0];
        my $s = main::now();
        kill 'KILL', $victim;
        my ($ok, @pids) = main::ready(old => [$victim], timeout => 10,
                                      cache => !!$ENV{WSGATE_TEST_CACHE});
        die "after the kill: $pids[0]\n" unless $ok;
        return ($s, main::now(), { killed => $victim,
                                   workers => { map { $_ => 1 } @pids } });
    },
    signals => sub { $_[0]->{msg} =~ /^worker process (\d+) exited on signal 9$/
                     && $1 == $_[1]->{killed} },
    alerts => sub { $_[0]->{msg} =~ /^worker process (\d+) exited on signal 9$/
                    && $1 == $_[1]->{killed} },
    effect => sub {
        my ($a, $s, $e, $info) = @_;
        my %late = map { $_->{pid} => 1 }
                   grep { $_->{sent} > $e && $_->{answer} ne 'drop' } @$a;
        my @new = grep { $_ != $info->{killed} } keys %{ $info->{workers} };
        return (!$late{ $info->{killed} } && @new == 2,
                "worker $info->{killed} killed, answers no more; workers "
                . join(' ', sort @new) . ' connected to Redis');
    },
    expect => [sub { qr/worker process $_[0]->{killed} exited on signal 9/ }]);
--- no_error_log eval
qr/\[alert\] \d+#\d+: (?:\*\d+ )?wsgate/



=== TEST 9: with the token cache, only the invalidation subscribers killed, and a token revoked at once
--- http_config eval: $::CacheHttpConfig
--- init
main::run_scenario('subscriber',
    name => 'subscribers killed',
    cache => 1,
    revoke => 'fault',
    fault => sub {
        my $s = main::now();
        my $n = main::kill_clients(qr/^wsgate-sub-\d+$/);
        main::rcmd('DEL', 'wsgate:token:' . sha256_hex($::T{rev2}));
        my $revoked = main::now();
        my ($ok, @pids) = main::ready(cache => 1, timeout => 10);
        die "after the kill: $pids[0]\n" unless $ok;
        return ($s, main::now(), { killed => $n, revoked => $revoked });
    },
    effect => sub {
        my ($a, $s, $e, $info) = @_;
        my $hits = grep { $_->{kind} eq 'rev2' && $_->{cache} eq 'HIT'
                          && $_->{done} < $s } @$a;
        return ($info->{killed} == 2 && $hits > 0,
                "$info->{killed} subscribers killed; the revoked token was "
                . "a cache hit $hits times before");
    },
    expect => [qr/wsgate cache: invalidations from \S+ lost/,
               qr/wsgate cache: invalidations from \S+ resumed/]);
