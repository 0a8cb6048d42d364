# vi:filetype=perl
#
# Issue 13: the shared-memory token cache (wsgate_cache), invalidated by
# Redis server-assisted client-side caching.
#
# nginx runs with a master and 2 workers in every block: the cache is one
# zone shared by both, and each worker has its own subscriber connection
# (CLIENT SETNAME wsgate-sub-<pid>, SUBSCRIBE __redis__:invalidate) and
# lookup connection (wsgate-<pid>, CLIENT TRACKING on REDIRECT <sub id>
# BCAST PREFIX wsgate:token:).  Every block with a config starts from a
# fresh Redis (up, empty, the tokens below seeded: a block preprocessor,
# before its nginx starts), and before it checks anything it waits until
# Redis shows for every worker the subscriber (CLIENT LIST: sub=1) and the
# lookup connection tracking into it (flag t, redir= the subscriber's id):
# a worker that is not subscribed yet rightly bypasses the cache.
#
# What is measured in time (a revocation reaching both workers within
# 100 ms, recovery after Redis or the subscriber comes back, the LRU run
# with wrk) is done by the block's --- init, in Perl, on fresh connections
# (Connection: close) so that both workers answer, with plain Test::More
# checks that say what they measured; the block's own request then checks
# the state it left with the ordinary sections.  `eval` sections are
# computed when the file is parsed, so every token a request section
# carries is a constant of this file.
#
# Answers carry X-Pid ($pid), X-Cache ($wsgate_cache_status) and the
# identity in the body; Redis traffic is counted with INFO commandstats
# (cmdstat_hmget: one HMGET per lookup that asks Redis).

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use WsgateTest;
use WsgateHttp;

use Cwd ();
use File::Temp ();
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes ();

our $WS_A  = '0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01';
our $WS_B  = '5d0f8a4e-1c2b-4a6d-8e9f-0a1b2c3d4e5f';
our $WS_C  = '9e2d4b6a-7c1f-4d3e-8a5b-2f6c0e1d3a4b';
our $TOK_A = 'cAcHeA9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';
our $TOK_B = 'cAcHeB9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';
our $TOK_C = 'cAcHeC9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';
our $TOK_U = 'cAcHeU9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';
our $TOK_S = 'cAcHeS9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';
our $TOK_N = 'cAcHeN9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';     # issued late
our $TOK_X = 'cAcHeX9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';     # unknown
our $TOK_Y = 'cAcHeY9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';     # unknown
our $SYS   = 'system:scheduler';

our $WORKERS = 2;
our $CLI     = Cwd::abs_path('build/wsgate-token') || 'build/wsgate-token';
our $ROUNDS  = 10;          # revocation rounds per way of revoking
our $BOUND   = 0.100;       # s: a change must reach every worker within

# LRU run: tokens 0 .. $LRU_TOTAL - 1 through a 1 MiB zone, RSS measured
# after the first $LRU_SPLIT (the zone is full by then) and at the end
our $LRU_TOTAL = 1_000_000;
our $LRU_SPLIT = 50_000;
our $LRU_HOT   = 'cachelruhot000000000';
our $LRU_HOT_WS = '00000000-0000-4000-8000-999999999999';

sub lru_token { sprintf 'cachelru%s%011d', $_[0] % 2 ? 'u' : 'v', $_[0] }
sub lru_ws    { sprintf '00000000-0000-4000-8000-%012d', $_[0] }

# the fixed token of revocation round $i ('cli' or 'del')
sub round_token {
    my ($how, $i) = @_;
    my $t = sprintf 'rV%s%02d', $how, $i;
    return $t . substr('9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNcEx1234567', 0,
                       43 - length $t);
}

sub round_ws {
    my ($how, $i) = @_;
    return sprintf 'c0ffee00-0000-4000-8%03d-%012d', $how eq 'cli' ? 1 : 2,
                   $i;
}

sub now { Time::HiRes::time() }
sub sleep_s { Time::HiRes::sleep($_[0]) if $_[0] > 0 }
sub ms { sprintf '%.1f', $_[0] * 1000 }

sub key_of { 'wsgate:token:' . sha256_hex($_[0]) }

sub rss_kb {
    my $pid = shift;
    open my $f, '<', "/proc/$pid/status" or return undef;
    while (my $line = <$f>) {
        return $1 if $line =~ /^VmRSS:\s+(\d+)\s+kB/;
    }
    return undef;
}

# the nginx under test is built with AddressSanitizer
sub asan_binary {
    my $bin = $ENV{TEST_NGINX_BINARY} || 'nginx';
    open(my $fh, '<', $bin) or return 0;
    binmode $fh;
    local $/ = \1048576;
    my $tail = '';
    while (my $chunk = <$fh>) {
        $chunk = $tail . $chunk;
        return 1 if index($chunk, '__asan_init') >= 0;
        $tail = substr($chunk, -16);
    }
    return 0;
}

# ---------------------------------------------------------------------------
# Redis introspection

# CLIENT LIST as a list of { id, name, flags, sub, redir, ... }
sub clients {
    my $list = redis_cmd('CLIENT', 'LIST');
    my @c;
    for my $line (split /\r?\n/, $list) {
        my %f = map { my ($k, $v) = split /=/, $_, 2; ($k, $v // '') }
                split / /, $line;
        push @c, \%f if defined $f{id};
    }
    return @c;
}

# name -> the newest client of that name
sub clients_by_name {
    my %by;
    for my $c (sort { $a->{id} <=> $b->{id} } clients()) {
        $by{ $c->{name} } = $c if length $c->{name};
    }
    return \%by;
}

sub hmget_calls {
    my $info = redis_cmd('INFO', 'commandstats');
    return $info =~ /^cmdstat_hmget:calls=(\d+)/m ? $1 : 0;
}

# Waits (at most $timeout s) until there are $WORKERS workers and Redis
# shows each one subscribed and tracking into its subscriber.  Returns
# (1, "pids") or (0, why).  A lookup on a throwaway token is sent now and
# then, in case a worker only connects when it needs Redis.
sub ready {
    my %o = @_;
    my $start = now();
    my $deadline = $start + ($o{timeout} || 5);
    my $poke = $start + 0.5;
    my $why;
    while (1) {
        my @pids = nginx_worker_pids();
        my $by = clients_by_name();
        $why = @pids == $WORKERS ? undef
             : "$WORKERS workers expected, found " . scalar(@pids);
        for my $pid (@pids) {
            last if $why;
            my $sub = $by->{"wsgate-sub-$pid"};
            my $look = $by->{"wsgate-$pid"};
            if (!$sub || !$sub->{sub}) {
                $why = "worker $pid has no subscribed wsgate-sub-$pid";
            } elsif (!$look || $look->{flags} !~ /t/) {
                $why = "worker $pid: no wsgate-$pid with tracking on";
            } elsif ($look->{redir} ne $sub->{id}) {
                $why = "worker $pid: wsgate-$pid tracks into $look->{redir}, "
                       . "its subscriber is $sub->{id}";
            }
        }
        return (1, "@pids", now() - $start) unless $why;
        return (0, $why, now() - $start) if now() > $deadline;
        if (now() > $poke) {
            burst(1, 'cAcHePrObE9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5t');
            $poke = now() + 0.5;
        }
        sleep_s(0.01);
    }
}

# A fresh start for every block with a --- config, as a block preprocessor:
# Redis up (a block may have stopped it), every command allowed again,
# empty, and the tokens seeded, all before the block's nginx starts.  (Seeded
# later, the invalidations of these writes would still be on their way to
# the workers during the first lookups, and a worker rightly does not cache
# an answer when an invalidation arrives while it waits for it.)
sub fresh {
    redis_start();
    redis_cmd('ACL', 'SETUSER', 'default', 'on', 'nopass', '+@all', '~*',
              '&*');
    redis_flush();
    seed_token($TOK_A, ws => $WS_A);
    seed_token($TOK_B, ws => $WS_B);
    seed_token($TOK_C, ws => $WS_C);
    seed_token($TOK_U, ws => $WS_C);
    seed_token($TOK_S, name => $SYS);
}

# ready() as a test
sub start_block {
    my $what = shift;
    my ($ok, $why, $took) = ready();
    Test::More::ok($ok, "$what: every worker subscribed and tracking"
                        . ($ok ? sprintf(' (after %s ms)', ms($took)) : ''))
        or Test::More::diag($why);
    return $ok;
}

# ---------------------------------------------------------------------------
# HTTP, on fresh connections

sub request_text {
    my ($token, $uri) = @_;
    my $r = 'GET ' . ($uri || '/t') . " HTTP/1.1\r\nHost: localhost\r\n"
            . "Connection: close\r\n";
    $r .= "Authorization: Bearer $token\r\n" if defined $token;
    return "$r\r\n";
}

# $n connections opened at once, one request each (the same token); the
# answers as [{ status, pid, cache, ws, kind, sent, got }]
sub burst {
    my ($n, $token, $uri) = @_;
    my $port = server_port_for_client();
    my @c;
    for (1 .. $n) {
        my $c = { sent => now(), buf => '', status => 0, pid => '',
                  cache => '', ws => '', kind => '' };
        push @c, $c;
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp',
                                      Timeout => 5);
        if (!$s) {
            $c->{error} = "connect: $!";
            next;
        }
        $c->{sock} = $s;
        local $SIG{PIPE} = 'IGNORE';
        syswrite($s, request_text($token, $uri))
            or $c->{error} = "write: $!";
    }
    my %by_fd = map { fileno($_->{sock}) => $_ } grep { $_->{sock} } @c;
    my $sel = IO::Select->new(map { $_->{sock} } values %by_fd);
    my $deadline = now() + 5;
    while ($sel->count && now() < $deadline) {
        for my $s ($sel->can_read(0.5)) {
            my $c = $by_fd{ fileno $s };
            my $got = sysread($s, my $buf, 65536);
            if ($got) {
                $c->{buf} .= $buf;
                next;
            }
            $c->{got} = now();
            $sel->remove($s);
            close $s;
        }
    }
    for my $c (@c) {
        if ($c->{sock} && !$c->{got}) {
            $c->{error} ||= 'no answer within 5 s';
            close $c->{sock};
        }
        delete $c->{sock};
        my ($head, $body) = split /\r\n\r\n/, delete $c->{buf}, 2;
        next unless defined $head
                    && $head =~ m{\AHTTP/1\.[01] (\d{3})};
        $c->{status} = $1;
        $c->{pid} = $1 if $head =~ /^X-Pid: *(\d+)/mi;
        $c->{cache} = $1 if $head =~ /^X-Cache: *(\S+)/mi;
        $body = '' unless defined $body;
        $c->{ws} = $1 if $body =~ /^ws=(\S*)/;
        $c->{kind} = $1 if $body =~ /\bkind=(\S*)/;
    }
    return @c;
}

sub show {
    my $r = shift;
    return $r->{error} ? "error: $r->{error}"
         : "$r->{status} pid=$r->{pid} cache=$r->{cache} ws=$r->{ws}";
}

# Sends the token until every pid of @$pids has answered 200 HIT (at most
# 3 s).  Returns (1) or (0, why).  Any answer other than 200 is a failure.
sub warm {
    my ($token, $pids) = @_;
    my %hit;
    my $deadline = now() + 3;
    my $n = 0;
    while (now() < $deadline) {
        for my $r (burst(2, $token)) {
            $n++;
            return (0, "a warm-up request got " . show($r))
                unless $r->{status} == 200;
            $hit{ $r->{pid} } = 1 if $r->{cache} eq 'HIT';
        }
        return (1) unless grep { !$hit{$_} } @$pids;
    }
    return (0, "after $n requests, 200 HIT only from pids "
               . join(' ', sort keys %hit) . " of @$pids");
}

# After a change at $t0: sends each item's token (round robin, bursts of
# two fresh connections) until, past $bound, every pid of @$pids has
# answered every item as wanted (at most $t0 + $bound + 2 s).  An item is
# [token, status, ws or undef].  Returns { last_wrong (s after $t0, or -1),
# first_right, late (wrong answers sent after $bound), complete, n, log }.
sub measure {
    my ($t0, $bound, $items, $pids) = @_;
    my %after;              # "item pid" -> answered right after $bound
    my $m = { last_wrong => -1, first_right => undef, late => 0,
              complete => 0, n => 0, log => [] };
    my $deadline = $t0 + $bound + 2;
    my $i = 0;
    if (@$pids != $WORKERS) {
        push @{ $m->{log} }, "$WORKERS workers expected, got (@$pids)";
        $deadline = 0;
    }
    while (1) {
        my $k = $i++ % @$items;
        my ($token, $status, $ws) = @{ $items->[$k] };
        for my $r (burst(2, $token)) {
            $m->{n}++;
            my $at = $r->{sent} - $t0;
            my $right = !$r->{error} && $r->{status} == $status
                        && (!defined $ws || $r->{ws} eq $ws);
            push @{ $m->{log} }, sprintf('+%s ms item %d: %s', ms($at), $k,
                                         show($r))
                if @{ $m->{log} } < 40 && (!$right || $at > $bound);
            if ($right) {
                $m->{first_right} = $r->{got} - $t0
                    unless defined $m->{first_right};
                $after{"$k $r->{pid}"} = 1 if $at > $bound;
            } else {
                $m->{last_wrong} = $at if $at > $m->{last_wrong};
                $m->{late}++ if $at > $bound;
            }
        }
        my $missing = 0;
        for my $k (0 .. $#$items) {
            $missing += grep { !$after{"$k $_"} } @$pids;
        }
        if (!$missing && now() > $t0 + $bound && $deadline) {
            $m->{complete} = 1;
            last;
        }
        last if now() > $deadline;
    }
    return $m;
}

# one line for a test name
sub summary {
    my $m = shift;
    return sprintf('last wrong answer sent at %s, first right one at +%s ms,'
                   . ' %d requests',
                   $m->{last_wrong} < 0 ? 'none' : '+' . ms($m->{last_wrong})
                                                  . ' ms',
                   defined $m->{first_right} ? ms($m->{first_right}) : '?',
                   $m->{n});
}

# The test verdict of one measure(): within $bound, both workers covered.
sub check_measure {
    my ($what, $m, $bound) = @_;
    my $ok = $m->{late} == 0 && $m->{complete};
    Test::More::ok($ok, "$what: every worker answers right within "
                        . ms($bound) . ' ms (' . summary($m) . ')')
        or Test::More::diag(join "\n", "late wrong answers: $m->{late}, "
                            . "every worker covered: $m->{complete}",
                            @{ $m->{log} });
    return $ok;
}

# ---------------------------------------------------------------------------
# The CLI: (exit status, stdout, stderr)

sub cli {
    my @args = @_;
    return (-1, '', "$CLI not found (make cli)") unless -x $CLI;
    return run_cli($CLI, { env => { WSGATE_REDIS_URL =>
                       'redis://127.0.0.1:' . redis_port() . '/0' } },
                   @args);
}

# ---------------------------------------------------------------------------
# Revocation rounds: a token warmed until both workers answered 200 HIT,
# then revoked ('cli': wsgate-token revoke; 'del': a bare DEL of its key),
# then measure() from the moment the revoke returned.

sub revoke_rounds {
    my ($how) = @_;
    my $what = $how eq 'cli' ? 'wsgate-token revoke' : 'a bare DEL';
    my @pids = nginx_worker_pids();
    my (@problems, @m);
    for my $i (1 .. $ROUNDS) {
        my $ws = round_ws($how, $i);
        my ($token, $subject, $rc, $out, $err);
        if ($how eq 'cli' && $i % 3 == 1) {
            ($rc, $out, $err) = cli('issue', $ws);
            $subject = $ws;
        } elsif ($how eq 'cli' && $i % 3 == 2) {
            $subject = "system:cache-round-$i";
            ($rc, $out, $err) = cli('issue-system', $subject);
        } else {
            $token = round_token($how, $i);
            seed_token($token, ws => $ws);
            $subject = $ws;
        }
        if (!defined $token) {
            if ($rc != 0 || $out !~ /\A([A-Za-z0-9_-]{43})\n\z/) {
                push @problems, "round $i: wsgate-token issue: exit $rc, "
                                . "stderr $err";
                next;
            }
            $token = $1;
        }
        my ($ok, $why) = warm($token, \@pids);
        if (!$ok) {
            push @problems, "round $i: $why";
            next;
        }
        my $t0;
        if ($how eq 'cli') {
            ($rc, $out, $err) = cli('revoke', $subject);
            $t0 = now();
            if ($rc != 0) {
                push @problems, "round $i: wsgate-token revoke $subject: "
                                . "exit $rc, $err";
                next;
            }
        } else {
            my $n = redis_cmd('DEL', key_of($token));
            $t0 = now();
            if ($n != 1) {
                push @problems, "round $i: DEL removed $n keys";
                next;
            }
        }
        my $m = measure($t0, $BOUND, [[$token, 401]], \@pids);
        $m->{round} = $i;
        push @m, $m;
    }
    Test::More::is(join("\n", @problems), '',
                   "$what: all $ROUNDS rounds warmed on both workers "
                   . "(@pids) and revoked");
    my @late = grep { $_->{late} } @m;
    my @incomplete = grep { !$_->{complete} } @m;
    my ($worst) = sort { $b->{last_wrong} <=> $a->{last_wrong} } @m;
    my $worst_ms = $worst && $worst->{last_wrong} > 0
                   ? $worst->{last_wrong} * 1000 : 0;
    my ($slowest) = sort { ($b->{first_right} // 9) <=> ($a->{first_right} // 9) }
                    @m;
    Test::More::cmp_ok($worst_ms, '<=', $BOUND * 1000,
        "$what: worst latency over " . scalar(@m) . " rounds: "
        . sprintf('%.1f', $worst_ms) . " ms (last 200 sent after the "
        . "revoke returned; slowest first 401 at +"
        . ($slowest && defined $slowest->{first_right}
           ? ms($slowest->{first_right}) : '?') . ' ms)')
        or Test::More::diag(join "\n", "round $worst->{round}:",
                            @{ $worst->{log} });
    Test::More::is(scalar(@late), 0,
                   "$what: no 200 more than " . ms($BOUND) . " ms after the "
                   . "revoke, in any round")
        or Test::More::diag(join "\n", map { "round $_->{round}: $_->{late} "
                            . "late; " . join('; ', @{ $_->{log} }) } @late);
    Test::More::is(scalar(@incomplete), 0,
                   "$what: in every round, both workers answered 401 after "
                   . ms($BOUND) . " ms")
        or Test::More::diag(join "\n", map { "round $_->{round}: "
                            . summary($_) } @incomplete);
}

# ---------------------------------------------------------------------------
# Every other change to a token key: HSET, expiry, rotate, FLUSHALL.

sub other_changes {
    my @pids = nginx_worker_pids();
    my ($ok, $why, $t0, $m);

    # HSET: the new workspace is served
    ($ok, $why) = warm($TOK_A, \@pids);
    Test::More::ok($ok, 'HSET: warmed') or Test::More::diag($why);
    redis_cmd('HSET', key_of($TOK_A), 'ws', $WS_B);
    $t0 = now();
    check_measure('HSET ws of a cached token',
                  measure($t0, $BOUND, [[$TOK_A, 200, $WS_B]], \@pids),
                  $BOUND);

    # HDEL kind: the record no longer makes a token
    ($ok, $why) = warm($TOK_B, \@pids);
    Test::More::ok($ok, 'HDEL: warmed') or Test::More::diag($why);
    redis_cmd('HDEL', key_of($TOK_B), 'kind');
    $t0 = now();
    check_measure('HDEL kind of a cached token',
                  measure($t0, $BOUND, [[$TOK_B, 401]], \@pids), $BOUND);

    # expiry: Redis tells when it expires the key (its active expiry runs
    # 10 times a second), so 300 ms from the expiry instant
    ($ok, $why) = warm($TOK_C, \@pids);
    Test::More::ok($ok, 'expiry: warmed') or Test::More::diag($why);
    redis_cmd('PEXPIRE', key_of($TOK_C), 300);
    $t0 = now() + 0.3;
    sleep_s($t0 - now());
    check_measure('the key of a cached token expires',
                  measure($t0, 0.3, [[$TOK_C, 401]], \@pids), 0.3);

    # rotate, no grace: the old token stops, the new one works
    my $ws = 'c0ffee00-0000-4000-8003-000000000001';
    my ($rc, $out, $err) = cli('issue', $ws);
    my ($old) = $out =~ /\A([A-Za-z0-9_-]{43})\n\z/;
    Test::More::ok($rc == 0 && $old, 'rotate: issued')
        or Test::More::diag($err);
    ($ok, $why) = warm($old || 'none', \@pids);
    Test::More::ok($ok, 'rotate: warmed') or Test::More::diag($why);
    ($rc, $out, $err) = cli('rotate', $ws);
    $t0 = now();
    my ($new) = $out =~ /\A([A-Za-z0-9_-]{43})\n\z/;
    Test::More::ok($rc == 0 && $new, 'rotate: done') or Test::More::diag($err);
    check_measure('wsgate-token rotate',
                  measure($t0, $BOUND, [[$old || 'none', 401],
                                        [$new || 'none', 200, $ws]], \@pids),
                  $BOUND);

    # rotate --grace 1s: the old token works in the grace, not after it
    ($ok, $why) = warm($new || 'none', \@pids);
    Test::More::ok($ok, 'rotate --grace: warmed') or Test::More::diag($why);
    ($rc, $out, $err) = cli('rotate', $ws, '--grace', '1s');
    my $t_rot = now();
    Test::More::is($rc, 0, 'rotate --grace 1s: done')
        or Test::More::diag($err);
    my @in_grace = (burst(2, $new || 'none'));
    sleep_s($t_rot + 0.4 - now());
    push @in_grace, burst(2, $new || 'none');
    Test::More::is(join(' ', map { $_->{status} } @in_grace),
                   '200 200 200 200',
                   'rotate --grace 1s: the old token still works in the grace')
        or Test::More::diag(join "\n", map { show($_) } @in_grace);
    sleep_s($t_rot + 1.0 - now());
    check_measure('rotate --grace 1s, after the grace',
                  measure($t_rot + 1.0, 0.3, [[$new || 'none', 401]], \@pids),
                  0.3);

    # FLUSHALL: everything goes
    seed_token($TOK_A, ws => $WS_A);
    ($ok, $why) = warm($TOK_A, \@pids);
    Test::More::ok($ok, 'FLUSHALL: warmed A') or Test::More::diag($why);
    ($ok, $why) = warm($TOK_S, \@pids);
    Test::More::ok($ok, 'FLUSHALL: warmed S') or Test::More::diag($why);
    redis_flush();
    $t0 = now();
    check_measure('FLUSHALL',
                  measure($t0, $BOUND, [[$TOK_A, 401], [$TOK_S, 401]], \@pids),
                  $BOUND);
}

# ---------------------------------------------------------------------------
# The subscriber or the tracking lost

# kills every client whose name matches; returns how many
sub kill_clients {
    my $re = shift;
    my $n = 0;
    for my $c (clients()) {
        next unless $c->{name} =~ $re;
        $n += eval { redis_cmd('CLIENT', 'KILL', 'ID', $c->{id}) } || 0;
    }
    return $n;
}

sub missed_invalidation {
    my ($what, $re) = @_;
    my @pids = nginx_worker_pids();
    my ($ok, $why) = warm($TOK_A, \@pids);
    Test::More::ok($ok, "$what: warmed") or Test::More::diag($why);

    my $killed = kill_clients($re);
    my $t_kill = now();
    redis_cmd('DEL', key_of($TOK_A));
    Test::More::is($killed, $WORKERS, "$what: killed one connection a worker");
    check_measure("$what, then a DEL at once: refused",
                  measure($t_kill, 1.0, [[$TOK_A, 401]], \@pids), 1.0);

    ($ok, $why) = ready(timeout => 3);
    Test::More::ok($ok, "$what: the workers subscribed and tracking again "
                        . sprintf('(seen %s ms after the kill)',
                                  ms(now() - $t_kill)))
        or Test::More::diag($why);

    # invalidation works again, through the new connections
    ($ok, $why) = warm($TOK_U, \@pids);
    Test::More::ok($ok, "$what: the cache is used again (200 HIT)")
        or Test::More::diag($why);
    redis_cmd('DEL', key_of($TOK_U));
    my $t0 = now();
    check_measure("$what: a later DEL still reaches every worker",
                  measure($t0, $BOUND, [[$TOK_U, 401]], \@pids), $BOUND);
}

# The subscribers killed and kept from coming back (ACL: no SUBSCRIBE):
# no worker trusts the cache, every lookup asks Redis; a DEL meanwhile of
# a token nobody asks for; then SUBSCRIBE allowed again.
sub subscriber_down {
    my @pids = nginx_worker_pids();
    my ($ok, $why) = warm($TOK_A, \@pids);
    Test::More::ok($ok, 'subscriber down: A warmed') or Test::More::diag($why);
    ($ok, $why) = warm($TOK_B, \@pids);
    Test::More::ok($ok, 'subscriber down: B warmed') or Test::More::diag($why);

    redis_cmd('ACL', 'SETUSER', 'default', '-subscribe', '-psubscribe',
              '-ssubscribe');
    my $killed = kill_clients(qr/^wsgate-sub-\d+$/);
    Test::More::is($killed, $WORKERS,
                   'subscriber down: killed every subscriber');

    # every worker says BYPASS, within a second
    my %bypass;
    my @seen;
    my $deadline = now() + 1;
    while (now() < $deadline && grep { !$bypass{$_} } @pids) {
        for my $r (burst(2, $TOK_B)) {
            push @seen, show($r) if @seen < 20;
            $bypass{ $r->{pid} } = 1
                if $r->{status} == 200 && $r->{cache} eq 'BYPASS';
        }
    }
    Test::More::ok(!grep({ !$bypass{$_} } @pids),
                   'subscriber down: every worker answers 200 BYPASS')
        or Test::More::diag(join "\n", @seen);

    # nothing from the cache: one HMGET per lookup
    my $h0 = hmget_calls();
    my @r = map { burst(1, $TOK_B) } 1 .. 10;
    my $h1 = hmget_calls();
    Test::More::is(join(' ', map { "$_->{status} $_->{cache}" } @r),
                   join(' ', ('200 BYPASS') x 10),
                   'subscriber down: 10 lookups, all 200 BYPASS');
    Test::More::is($h1 - $h0, 10, 'subscriber down: 10 lookups, 10 HMGET');

    # a change nobody asks about while the subscribers are away
    redis_cmd('DEL', key_of($TOK_A));
    sleep_s(0.2);

    redis_cmd('ACL', 'SETUSER', 'default', '+@all');
    my $t_back = now();
    ($ok, $why) = ready(timeout => 3);
    Test::More::ok($ok, 'subscriber down: the workers subscribe again by '
                        . 'themselves once SUBSCRIBE is allowed, within 3 s '
                        . sprintf('(%s ms)', ms(now() - $t_back)))
        or Test::More::diag($why);
    if (!$ok) {
        # the rest of the test needs them back: a new connection
        kill_clients(qr/^wsgate-sub-\d+$/);
        ($ok, $why) = ready(timeout => 3);
        Test::More::ok($ok, 'subscriber down: back after their connection '
                            . 'was closed once more')
            or Test::More::diag($why);
    }
    sleep_s(0.05);
}

# ---------------------------------------------------------------------------
# The LRU run with wrk

sub seed_lru {
    my $out = File::Temp->new;
    my $pid = open(my $pipe, '|-');
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDOUT, '>', $out->filename;
        open STDERR, '>&', \*STDOUT;
        exec('redis-cli', '-p', redis_port(), '--pipe') or POSIX::_exit(127);
    }
    binmode $pipe;
    my $resp = sub {
        my $s = '*' . scalar(@_) . "\r\n";
        $s .= '$' . length($_) . "\r\n$_\r\n" for @_;
        return $s;
    };
    my $now = int(now() * 1000);
    my $n = 0;
    my $buf = '';
    for (my $i = 0; $i < $LRU_TOTAL; $i += 2) {
        $buf .= $resp->('HSET', key_of(lru_token($i)), 'ws', lru_ws($i),
                        'kind', 'workspace', 'created_ms', $now);
        $n++;
        if (length $buf > 1 << 20) {
            print $pipe $buf;
            $buf = '';
        }
    }
    $buf .= $resp->('HSET', key_of($LRU_HOT), 'ws', $LRU_HOT_WS,
                    'kind', 'workspace', 'created_ms', $now);
    $n++;
    print $pipe $buf;
    close $pipe;
    open my $f, '<', $out->filename;
    local $/;
    my $said = <$f>;
    return ($said =~ /errors: 0, replies: $n\b/, $n, $said);
}

# wrk over tokens $first .. $last; the LRU line's values, and seconds
sub wrk_run {
    my ($first, $last) = @_;
    my $dir = File::Temp::tempdir('wsgate-lru-XXXXXX', TMPDIR => 1,
                                  CLEANUP => 1);
    my $threads = 2;
    my $url = 'http://127.0.0.1:' . server_port_for_client() . '/mem';
    my $start = now();
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', "$dir/out";
        open STDERR, '>&', \*STDOUT;
        exec('wrk', '-t', $threads, '-c', 32, '-d', '300s', '--timeout', '10s',
             '-s', Cwd::abs_path('t/cache/lru.lua'), $url, '--',
             $first, $last, $threads, 64, $dir)
            or POSIX::_exit(127);
    }
    my $deadline = now() + 150;
    while (now() < $deadline) {
        last if waitpid($pid, POSIX::WNOHANG()) == $pid;
        my @done = glob "$dir/done-*";
        last if @done == $threads;
        sleep_s(0.05);
    }
    if (kill 0, $pid) {
        kill 'INT', $pid;
        my $t = now() + 10;
        sleep_s(0.05) while waitpid($pid, POSIX::WNOHANG()) == 0 && now() < $t;
        if (kill 0, $pid) {
            kill 'KILL', $pid;
            waitpid $pid, 0;
        }
    }
    my $secs = now() - $start;
    open my $f, '<', "$dir/out";
    local $/;
    my $said = <$f>;
    $said = '' unless defined $said;
    my %v;
    if ($said =~ /^LRU (.*)$/m) {
        my $line = $1;
        %v = $line =~ /(\w+)=(\S*)/g;
    }
    $v{secs} = $secs;
    $v{output} = $said;
    return \%v;
}

sub check_wrk {
    my ($what, $v, $count) = @_;
    my $ok = Test::More::is(
        join(' ', map { "$_=" . (defined $v->{$_} ? $v->{$_} : '?') }
                  qw(answered good bad hot_bad hit)),
        "answered=$count good=$count bad=0 hot_bad=0 hit=0",
        "$what: $count distinct tokens, each answered right (even: 200 with "
        . "its workspace, odd: 401), never HIT on first use; "
        . sprintf('%.1f s, %d hot-token requests', $v->{secs},
                  $v->{hot} || 0));
    my ($connect, $read, $write, $status, $timeout)
        = split m{/}, $v->{errors} || '////';
    $ok &= Test::More::is("connect=$connect read=$read write=$write "
                          . "timeout=$timeout",
                          'connect=0 read=0 write=0 timeout=0',
                          "$what: no socket error or timeout");
    Test::More::diag($v->{output}) unless $ok;
}

# the error log's lines from wsgate, for a diagnostic
sub wsgate_log_lines {
    open my $f, '<', server_root() . '/logs/error.log' or return '';
    my @l = grep { /wsgate (?:cache|redis)/ } <$f>;
    return join '', @l[ ($#l > 20 ? $#l - 20 : 0) .. $#l ];
}

sub lru_run {
    my ($seeded, $n, $said) = seed_lru();
    Test::More::ok($seeded,
                   "LRU: $n valid tokens seeded with redis-cli --pipe")
        or Test::More::diag($said);
    my ($ok, $why) = ready();
    Test::More::ok($ok, 'LRU: every worker subscribed and tracking')
        or Test::More::diag($why);

    my @pids = nginx_worker_pids();
    my %rss0 = map { $_ => rss_kb($_) } @pids;
    my $h0 = hmget_calls();

    my $v1 = wrk_run(0, $LRU_SPLIT - 1);
    check_wrk("LRU tokens 0..$LRU_SPLIT", $v1, $LRU_SPLIT);
    my %rss1 = map { $_ => rss_kb($_) } @pids;

    my $v2 = wrk_run($LRU_SPLIT, $LRU_TOTAL - 1);
    check_wrk("LRU tokens $LRU_SPLIT..$LRU_TOTAL", $v2,
              $LRU_TOTAL - $LRU_SPLIT);
    my %rss2 = map { $_ => rss_kb($_) } @pids;
    my $h1 = hmget_calls();

    Test::More::is(join(' ', nginx_worker_pids()), join(' ', @pids),
                   'LRU: the same workers at the end (none crashed)');

    # the zone full, a new entry still goes in: 20 new tokens (10 valid,
    # 10 unknown), each asked twice: MISS, then HIT
    my @new = (2 * $LRU_TOTAL + 1 .. 2 * $LRU_TOTAL + 20);
    seed_token(lru_token($_), ws => lru_ws($_)) for grep { $_ % 2 == 0 } @new;
    sleep_s(0.2);       # their invalidations delivered
    my @bad;
    for my $i (@new) {
        my $tok = lru_token($i);
        my $want = $i % 2 ? 401 : 200;
        my @r = (burst(1, $tok, "/mem?n=$i"), burst(1, $tok, "/mem?n=$i"));
        my $got = join ' ', map { "$_->{status} $_->{cache}" } @r;
        push @bad, "$i: $got" unless $got eq "$want MISS $want HIT";
    }
    Test::More::is(join("\n", @bad), '',
                   'LRU: 20 new tokens after the run, each MISS then HIT')
        or Test::More::diag(wsgate_log_lines());

    # every distinct token asked Redis exactly once; the hot one a few times
    my $d = $h1 - $h0;
    Test::More::ok($d >= $LRU_TOTAL && $d <= $LRU_TOTAL + 100,
                   "LRU: $d HMGET for $LRU_TOTAL distinct tokens and the hot "
                   . "one (between $LRU_TOTAL and " . ($LRU_TOTAL + 100) . ')');

    # Under AddressSanitizer freed memory waits in a quarantine that
    # takes 256 MiB before it recycles any (a request frees a few kB, so
    # it fills over the first few hundred thousand requests), and the
    # heap has shadow memory: RSS climbs by about 400 MiB in all.  There
    # the bounds are what the quarantine and its shadow explain (320 and
    # 640 MiB); a leak of a few hundred bytes per token still breaks them.
    my ($late, $all) = asan_binary() ? (327680, 655360) : (4096, 8192);

    for my $pid (@pids) {
        my ($a, $b, $c) = map { $_->{$pid} || 0 } \%rss0, \%rss1, \%rss2;
        Test::More::cmp_ok($c - $b, '<', $late,
            "LRU: worker $pid VmRSS ${a} kB at the start, ${b} kB after "
            . "$LRU_SPLIT tokens, ${c} kB after $LRU_TOTAL: under "
            . $late / 1024 . " MiB growth over the last "
            . ($LRU_TOTAL - $LRU_SPLIT));
        Test::More::cmp_ok($c - $a, '<', $all,
            "LRU: worker $pid VmRSS grew under " . $all / 1024
            . " MiB over the whole run");
    }
}

# ---------------------------------------------------------------------------

redis_flush();
redis_probe();
add_block_preprocessor(sub { fresh() if defined $_[0]->config });

our $HttpCache = <<"_EOC_";
    wsgate_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} timeout=1s;
    wsgate_cache zone=wsgate_test:1m ttl=60s;
_EOC_

our $Config = <<"_EOC_";
    location = /t {
        wsgate_auth on;
        add_header X-Pid \$pid always;
        add_header X-Cache \$wsgate_cache_status always;
        proxy_set_header X-WS \$wsgate_workspace_id;
        proxy_set_header X-Kind \$wsgate_token_kind;
        proxy_pass http://127.0.0.1:\$server_port/echo;
    }

    location = /echo {
        return 200 "ws=\$http_x_ws kind=\$http_x_kind\\n";
    }

    location /redis/ {
        proxy_pass http://127.0.0.1:$ENV{TEST_NGINX_PROBE_PORT}/;
    }
_EOC_

master_on();
workers($WORKERS);
log_level('info');
no_shuffle();
run_tests();

__DATA__

=== TEST 1: MISS then HIT, one HMGET per token, valid or unknown; no token, no status
--- http_config eval: $::HttpCache
--- config eval: $::Config
--- init
main::start_block('TEST 1');
redis_cmd('CONFIG', 'RESETSTAT');
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t",
 "GET /t", "GET /redis/INFO/commandstats"]
--- more_headers eval
["Authorization: Bearer $::TOK_A", "Authorization: Bearer $::TOK_A",
 "Authorization: Bearer $::TOK_S", "Authorization: Bearer $::TOK_S",
 "Authorization: Bearer $::TOK_X", "Authorization: Bearer $::TOK_X",
 "", "Authorization: Bearer short!", ""]
--- error_code eval
[200, 200, 200, 200, 401, 401, 401, 401, 200]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "X-Cache: MISS", "X-Cache: HIT",
 "X-Cache: MISS", "X-Cache: HIT", "!X-Cache", "!X-Cache", "!X-Cache"]
--- response_body_like eval
[qr/\Aws=\Q$::WS_A\E kind=workspace\n\z/,
 qr/\Aws=\Q$::WS_A\E kind=workspace\n\z/,
 qr/\Aws= kind=system\n\z/,
 qr/\Aws= kind=system\n\z/,
 qr/"invalid workspace auth token"/,
 qr/"invalid workspace auth token"/,
 qr/"missing workspace auth token"/,
 qr/"missing workspace auth token"/,
 qr/^cmdstat_hmget:calls=3,/m]
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: a token cached as unknown, then issued: 200 within 100 ms
--- http_config eval: $::HttpCache
--- config eval: $::Config
--- init
if (main::start_block('TEST 2')) {
    my @pids = main::nginx_worker_pids();
    my @r = (main::burst(1, $::TOK_N), main::burst(1, $::TOK_N));
    Test::More::is(join(' ', map { "$_->{status} $_->{cache}" } @r),
                   '401 MISS 401 HIT',
                   'TEST 2: unknown, then cached as unknown');
    seed_token($::TOK_N, ws => $::WS_B);
    my $t0 = main::now();
    main::check_measure('TEST 2: issued after being cached as unknown',
        main::measure($t0, $::BOUND, [[$::TOK_N, 200, $::WS_B]], \@pids),
        $::BOUND);
}
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK_N"
--- response_body eval
"ws=$::WS_B kind=workspace\n"



=== TEST 3: wsgate-token revoke, 10 rounds: 401 on both workers within 100 ms
--- http_config eval: $::HttpCache
--- config eval: $::Config
--- init
main::revoke_rounds('cli') if main::start_block('TEST 3');
--- request
GET /t
--- more_headers eval
"Authorization: Bearer " . main::round_token('cli', 9)
--- error_code: 401
--- response_body chomp
{"error":"invalid workspace auth token"}



=== TEST 4: a bare DEL, 10 rounds: 401 on both workers within 100 ms
--- http_config eval: $::HttpCache
--- config eval: $::Config
--- init
main::revoke_rounds('del') if main::start_block('TEST 4');
--- request
GET /t
--- more_headers eval
"Authorization: Bearer " . main::round_token('del', 10)
--- error_code: 401
--- response_body chomp
{"error":"invalid workspace auth token"}



=== TEST 5: HSET, HDEL, expiry, rotate, rotate --grace, FLUSHALL reach both workers
--- http_config eval: $::HttpCache
--- config eval: $::Config
--- init
main::other_changes() if main::start_block('TEST 5');
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::TOK_A", "Authorization: Bearer $::TOK_S"]
--- error_code eval
[401, 401]
--- no_error_log
[alert]
[crit]



=== TEST 6: 1,000,000 tokens through a 1 MiB zone: right answers, LRU, bounded memory
--- log_level: warn
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=5s;
    wsgate_cache zone=small:1m ttl=1h negative_ttl=1h;
--- config
    location = /mem {
        wsgate_auth on;
        access_log off;
        add_header X-N $arg_n always;
        add_header X-WS $wsgate_workspace_id always;
        add_header X-Cache $wsgate_cache_status always;
        root html;
        try_files /ok.txt =404;
    }

    location = /ping {
        access_log off;
        return 204;
    }
--- user_files
>>> ok.txt
ok
--- init
main::lru_run() if main::start_block('TEST 6');
--- request eval
["GET /mem?n=hot", "GET /mem?n=0", "GET /mem?n=1"]
--- more_headers eval
["Authorization: Bearer $::LRU_HOT",
 "Authorization: Bearer " . main::lru_token(0),
 "Authorization: Bearer " . main::lru_token(1)]
--- error_code eval
[200, 200, 401]
--- response_headers eval
["X-Cache: HIT\nX-WS: $::LRU_HOT_WS",
 "X-Cache: MISS\nX-WS: " . main::lru_ws(0),
 "X-Cache: MISS\n!X-WS"]
--- timeout: 10
--- no_error_log
[crit]
[alert]
[emerg]
ngx_slab_alloc() failed



=== TEST 7: stale_if_error, Redis stopped: cached valid tokens STALE, unknown ones 503
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=1s;
    wsgate_cache zone=z:1m stale_if_error=30s;
--- config eval: $::Config
--- init
if (main::start_block('TEST 7')) {
    my @pids = main::nginx_worker_pids();
    for my $t ($::TOK_A, $::TOK_B) {
        my ($ok, $why) = main::warm($t, \@pids);
        Test::More::ok($ok, 'TEST 7: warmed') or Test::More::diag($why);
    }
    my @r = (main::burst(1, $::TOK_X), main::burst(1, $::TOK_X));
    Test::More::is(join(' ', map { "$_->{status} $_->{cache}" } @r),
                   '401 MISS 401 HIT', 'TEST 7: X cached as unknown');
}
redis_stop();
main::sleep_s(0.2);
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::TOK_A", "Authorization: Bearer $::TOK_B",
 "Authorization: Bearer $::TOK_X", "Authorization: Bearer $::TOK_Y"]
--- error_code eval
[200, 200, 503, 503]
--- response_headers eval
["X-Cache: STALE", "X-Cache: STALE",
 "Retry-After: 1\nX-Cache: BYPASS", "Retry-After: 1"]
--- response_body eval
["ws=$::WS_A kind=workspace\n", "ws=$::WS_B kind=workspace\n",
 '{"error":"auth backend unavailable"}',
 '{"error":"auth backend unavailable"}']



=== TEST 8: Redis back, empty, A re-seeded: within 1 s A 200, B and X 401
--- init
redis_start();
seed_token($::TOK_A, ws => $::WS_A);
{
    my $t0 = main::now();
    my @pids = main::nginx_worker_pids();
    my $m = main::measure($t0, 1.0, [[$::TOK_A, 200, $::WS_A],
                                     [$::TOK_B, 401], [$::TOK_X, 401]],
                          \@pids);
    main::check_measure('TEST 8: Redis back', $m, 1.0);
}
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::TOK_A", "Authorization: Bearer $::TOK_B",
 "Authorization: Bearer $::TOK_X"]
--- error_code eval
[200, 401, 401]



=== TEST 9: stale_if_error=3s: seen valid 1.3 s ago (past ttl) STALE, 6 s ago 503
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=1s;
    wsgate_cache zone=z:1m ttl=1s stale_if_error=3s;
--- config eval: $::Config
--- init
if (main::start_block('TEST 9')) {
    my @pids = main::nginx_worker_pids();
    my ($ok, $why) = main::warm($::TOK_A, \@pids);
    Test::More::ok($ok, 'TEST 9: A warmed') or Test::More::diag($why);
    main::sleep_s(4.7);
    ($ok, $why) = main::warm($::TOK_C, \@pids);
    Test::More::ok($ok, 'TEST 9: C warmed') or Test::More::diag($why);
    main::sleep_s(1.3);
}
redis_stop();
main::sleep_s(0.1);
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::TOK_C", "Authorization: Bearer $::TOK_A"]
--- error_code eval
[200, 503]
--- response_headers eval
["X-Cache: STALE", "Retry-After: 1"]



=== TEST 10: without stale_if_error, Redis stopped: a cached token gets 503
--- http_config eval: $::HttpCache
--- config eval: $::Config
--- init
if (main::start_block('TEST 10')) {
    my ($ok, $why) = main::warm($::TOK_A, [main::nginx_worker_pids()]);
    Test::More::ok($ok, 'TEST 10: warmed') or Test::More::diag($why);
}
redis_stop();
main::sleep_s(0.2);
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::TOK_A", "Authorization: Bearer $::TOK_A"]
--- error_code eval
[503, 503]
--- response_headers eval
["Retry-After: 1", "Retry-After: 1"]
--- response_body eval
['{"error":"auth backend unavailable"}', '{"error":"auth backend unavailable"}']



=== TEST 11: subscribers killed, a DEL at once: 401 within 1 s; invalidation back
--- http_config eval: $::HttpCache
--- config eval: $::Config
--- init
main::missed_invalidation('subscribers killed', qr/^wsgate-sub-\d+$/)
    if main::start_block('TEST 11');
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::TOK_A", "Authorization: Bearer $::TOK_U"]
--- error_code eval
[401, 401]



=== TEST 12: lookup connections killed (tracking lost), a DEL at once: 401 within 1 s
--- http_config eval: $::HttpCache
--- config eval: $::Config
--- init
main::missed_invalidation('lookup connections killed', qr/^wsgate-\d+$/)
    if main::start_block('TEST 12');
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::TOK_A", "Authorization: Bearer $::TOK_U"]
--- error_code eval
[401, 401]



=== TEST 13: subscribers kept away: BYPASS; back: a DEL missed meanwhile is seen
--- http_config eval: $::HttpCache
--- config eval: $::Config
--- init
main::subscriber_down() if main::start_block('TEST 13');
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::TOK_A", "Authorization: Bearer $::TOK_B",
 "Authorization: Bearer $::TOK_B"]
--- error_code eval
[401, 200, 200]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "X-Cache: HIT"]



=== TEST 14: a reload (HUP) keeps the cache: the new workers answer HIT
--- http_config eval: $::HttpCache
--- config eval: $::Config
--- init
if (main::start_block('TEST 14')) {
    my @old = main::nginx_worker_pids();
    my ($ok, $why) = main::warm($::TOK_A, \@old);
    Test::More::ok($ok, 'TEST 14: warmed') or Test::More::diag($why);
    $::OLD_PIDS = "@old";
    $::HMGET_BEFORE = main::hmget_calls();
    kill 'HUP', main::nginx_master_pid();
    my %old = map { $_ => 1 } @old;
    my $deadline = main::now() + 5;
    my @now;
    while (main::now() < $deadline) {
        @now = main::nginx_worker_pids();
        last if @now == $::WORKERS && !grep { $old{$_} } @now;
        main::sleep_s(0.02);
    }
    Test::More::ok(@now == $::WORKERS && !grep({ $old{$_} } @now),
                   "TEST 14: new workers (@now) replaced the old ones (@old)");
    ($ok, $why) = main::ready();
    Test::More::ok($ok, 'TEST 14: the new workers subscribed and tracking')
        or Test::More::diag($why);
    main::sleep_s(0.05);
}
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- response_headers
X-Cache: HIT
--- response_body eval
"ws=$::WS_A kind=workspace\n"
--- error_log
reconfiguring



=== TEST 15: after the reload: no HMGET for a cached token, a DEL still reaches both
--- init
{
    my @pids = main::nginx_worker_pids();
    my %old = map { $_ => 1 } split ' ', $::OLD_PIDS;
    Test::More::ok(!grep({ $old{$_} } @pids), 'TEST 15: new workers');
    my ($ok, $why) = main::warm($::TOK_A, \@pids);
    Test::More::ok($ok, 'TEST 15: both new workers answer 200 HIT')
        or Test::More::diag($why);
    Test::More::is(main::hmget_calls() - $::HMGET_BEFORE, 0,
                   'TEST 15: no HMGET since the reload');
    redis_cmd('DEL', main::key_of($::TOK_A));
    my $t0 = main::now();
    main::check_measure('TEST 15: DEL after the reload',
        main::measure($t0, $::BOUND, [[$::TOK_A, 401]], \@pids), $::BOUND);
}
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- error_code: 401



=== TEST 16: without wsgate_cache, $wsgate_cache_status is empty
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=1s;
--- config
    location = /t {
        wsgate_auth on;
        add_header X-Cache-Status "[$wsgate_cache_status]" always;
        proxy_pass http://127.0.0.1:$server_port/echo;
    }

    location = /echo {
        return 200 "ok\n";
    }
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::TOK_A", "Authorization: Bearer $::TOK_A",
 "Authorization: Bearer $::TOK_X", ""]
--- error_code eval
[200, 200, 401, 401]
--- response_headers eval
["X-Cache-Status: []", "X-Cache-Status: []", "X-Cache-Status: []",
 "X-Cache-Status: []"]



=== TEST 17: with wsgate_cache, no usable token: $wsgate_cache_status is empty
--- http_config eval: $::HttpCache
--- config
    location = /t {
        wsgate_auth on;
        add_header X-Cache-Status "[$wsgate_cache_status]" always;
        proxy_pass http://127.0.0.1:$server_port/echo;
    }

    location = /open {
        add_header X-Cache-Status "[$wsgate_cache_status]" always;
        return 200 "ok\n";
    }

    location = /echo {
        return 200 "ok\n";
    }
--- request eval
["GET /t", "GET /t", "GET /open"]
--- more_headers eval
["", "Authorization: Bearer short!", "Authorization: Bearer $::TOK_A"]
--- error_code eval
[401, 401, 200]
--- response_headers eval
["X-Cache-Status: []", "X-Cache-Status: []", "X-Cache-Status: []"]



=== TEST 18: every parameter, a zone of exactly 32k: nginx starts and caches
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    wsgate_cache zone=edge:32k ttl=5s negative_ttl=1s stale_if_error=10s;
--- config eval: $::Config
--- init
main::start_block('TEST 18');
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::TOK_A", "Authorization: Bearer $::TOK_A"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT"]
--- no_error_log
[emerg]
[alert]



=== TEST 19: a zone under 32k is too small
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    wsgate_cache zone=x:31k;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*zone "(?:zone=)?x(?::31k)?" is too small/



=== TEST 20: wsgate_cache twice
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    wsgate_cache zone=x:1m;
    wsgate_cache zone=y:1m;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*wsgate_cache.* is duplicate/



=== TEST 21: an unknown parameter
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    wsgate_cache zone=x:1m colour=blue;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*invalid parameter "colour=blue"/



=== TEST 22: no zone parameter
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    wsgate_cache ttl=60s;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"wsgate_cache" must have "zone" parameter/



=== TEST 23: a ttl that is not a time
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
    wsgate_cache zone=x:1m ttl=soon;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*ttl=soon/



=== TEST 24: wsgate_cache without wsgate_redis
--- http_config
    wsgate_cache zone=x:1m;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*wsgate_redis/
