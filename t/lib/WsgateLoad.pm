package WsgateLoad;

# A load process for wsgate's fault suite, and the judge of what it saw.
# Works the same under our runner and under upstream Test::Nginx:
#
#     use WsgateLoad;
#     my $load = load_start(clients => [...], tokens => {...});
#     ... a fault ...
#     my $answers = load_stop($load);
#     judge(answers => $answers, window => [$start, $end], ...);
#
# load_start(%opts) forks ONE process that drives keep-alive HTTP/1.1
# connections to 127.0.0.1:$TEST_NGINX_SERVER_PORT, one per client, each
# sending its next request when the previous answer is in (a closed loop:
# a slow nginx gets fewer requests, never a pile of them) and no sooner
# than its share of `rate`.  Each client cycles through `mix`, a list of
# request kinds (below), starting at a different place.  The process stops
# by itself after `max` seconds, or at load_stop(): it then sends every
# client's `final` requests, one after the other on that client's
# connection, and exits.  Every answer is one line of the file `out`:
#
#   t_sent t_done client kind phase answer pid cache flags detail
#
# (tab separated; times are epoch seconds with microseconds, phase `mix`
# or `final`).  `answer` is the status when the answer is, in its
# headers and body, exactly what SPEC says for that status and kind
# (a 200 for the client's own workspace, the JSON body and
# WWW-Authenticate of a 401, the body and Retry-After of a 503, ...),
# `bad<status>` when it is not, `drop` when the connection closed without
# a whole answer, `timeout` after 5 s without one, `refused` when no
# connection could be made.  A request that met a drop on a connection
# that had served before is sent once more on a new connection (as HTTP
# clients retry on a reused connection closed under them), its line
# flagged `retry`.
#
# Clients: [{ ws => UUID, token => T, final => [kinds] }, ...].
# Tokens: { unknown => T, revoked => T, rev2 => T, rev2_ws => UUID,
#           sys => T, sys_name => NAME, sys_uuid => UUID }.
#
# Kinds and their right answers (see %Right):
#   ws       GET /t with the client's token           200, X-WS its ws
#   unknown  GET /t with a token Redis never had      401 invalid
#   revoked  GET /t with a token revoked before       401 invalid
#   rev2     GET /t with a token revoked during the run: 200 (X-WS
#            rev2_ws) before the revocation, 401 after
#   sys      A2A with the system token, claiming its name: 200, the
#            backend saw X-Workspace-ID = sys_uuid, X-Caller-Kind system
#   forged   A2A with the client's token claiming the system name: 403
#   a2a      A2A with the client's token, no claim: 200, caller its ws
#   reg_ok   register, a good payload                 200 from the backend
#   reg_bad  register, a loopback push URL            400, field url
#   reg_500  register, a good payload the backend fails: 500 from it
#   restart  the restart endpoint (no token)          200 from the backend
#
# load_stop($load) stops it and returns the answers as a list of hashes
# { sent, done, client, kind, phase, answer, pid, cache, flags, detail }.
#
# judge(%o) checks the answers against a fault window and returns
# (\@failures, \%stats); see the comment above it.
#
# nginx_master_pid(), nginx_worker_pids(): WsgateHttp's, exported here too.
#
# nginx_backend() starts the platform the gateway proxies to: a second,
# plain nginx (one process, no master, no wsgate directive) on a free
# 127.0.0.1 port, whose answers the kinds above expect:
#   /be/register      200 "registered", or 500 "backend-500" with X-Want: 500
#   /be/a2a/<target>  200 "caller=<X-Workspace-ID> kind=<X-Caller-Kind>
#                     name=<X-Caller-Name> target=<target>"
#   /be/restart/...   200 "restarted"
# It sets $ENV{TEST_NGINX_BE_PORT}, returns the port, and is stopped at
# the end of the file.  A process of its own, so that a gateway worker
# killed by a test takes no backend request with it.  The binary is
# /usr/sbin/nginx (Debian's, which `make deps` installs) when present,
# else $TEST_NGINX_BINARY: it is not what is under test.

use strict;
use warnings;

use Exporter 'import';
use Errno qw(EAGAIN EINTR EINPROGRESS EWOULDBLOCK);
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Time::HiRes ();
use WsgateHttp qw(nginx_master_pid nginx_worker_pids);
use WsgateTest ();

our @EXPORT = qw(load_start load_stop judge nginx_master_pid
                 nginx_worker_pids nginx_backend now sleep_s);

our $RequestTimeout = 5;

my %Right = (
    ws => '200', unknown => '401', revoked => '401', sys => '200',
    forged => '403', a2a => '200', reg_ok => '200', reg_bad => '400',
    reg_500 => '500', restart => '200',
);

sub now { Time::HiRes::time() }

sub sleep_s { Time::HiRes::sleep($_[0]) if $_[0] > 0 }

# ---------------------------------------------------------------------------
# The backend

my ($Backend, $BackendDir);
my $Owner = $$;

sub nginx_backend {
    return $ENV{TEST_NGINX_BE_PORT} if $Backend;
    require File::Temp;
    $BackendDir = File::Temp::tempdir('wsgate-be-XXXXXX', TMPDIR => 1,
                                      CLEANUP => 1);
    my $bin = -x '/usr/sbin/nginx' ? '/usr/sbin/nginx'
            : ($ENV{TEST_NGINX_BINARY} || 'nginx');
    my $dir = $BackendDir;
    my ($port, $pid) = WsgateTest::nginx_solo(
        name => 'nginx_backend', bin => $bin, dir => $dir, http => sub {
            my $port = shift;
            return <<"_EOC_";
    keepalive_requests 1000000;
    default_type text/plain;
    server {
        listen 127.0.0.1:$port;
        location = /be/register {
            if (\$http_x_want = "500") {
                return 500 "backend-500\n";
            }
            return 200 "registered\n";
        }
        location ~ ^/be/a2a/(?<target>.+)\$ {
            return 200 "caller=\$http_x_workspace_id kind=\$http_x_caller_kind name=\$http_x_caller_name target=\$target\n";
        }
        location ^~ /be/restart/ {
            return 200 "restarted\n";
        }
    }
_EOC_
        });
    $Backend = $pid;
    return $ENV{TEST_NGINX_BE_PORT} = $port;
}

END {
    if ($$ == $Owner && $Backend) {
        local $?;
        WsgateTest::nginx_solo_stop($Backend);
    }
}

# ---------------------------------------------------------------------------
# Requests

our $GoodPayload = '{"id":"%s","url":"https://agent.example.com/a2a",'
                   . '"agent_card":{"name":"agent"}}';
our $BadPayload  = '{"id":"%s","url":"http://127.0.0.1/a2a",'
                   . '"agent_card":{"name":"agent"}}';
our $A2aBody     = '{"jsonrpc":"2.0","method":"message/send","id":1,'
                   . '"params":{}}';

sub request_for {
    my ($kind, $c, $t) = @_;
    my ($method, $uri, @h, $body) = ('GET', '/t');
    my $ws = $c->{ws};

    if ($kind eq 'ws') {
        push @h, "Authorization: Bearer $c->{token}";
    } elsif ($kind eq 'unknown' || $kind eq 'revoked' || $kind eq 'rev2') {
        push @h, "Authorization: Bearer $t->{$kind}";
    } elsif ($kind eq 'sys' || $kind eq 'forged' || $kind eq 'a2a') {
        ($method, $uri, $body) = ('POST', "/workspaces/$ws/a2a", $A2aBody);
        push @h, 'Content-Type: application/json',
                 'Authorization: Bearer '
                 . ($kind eq 'sys' ? $t->{sys} : $c->{token});
        push @h, "X-Workspace-ID: $t->{sys_name}" if $kind ne 'a2a';
    } elsif ($kind =~ /^reg_/) {
        ($method, $uri) = ('POST', '/registry/register');
        $body = sprintf($kind eq 'reg_bad' ? $BadPayload : $GoodPayload, $ws);
        push @h, 'Content-Type: application/json',
                 "Authorization: Bearer $c->{token}";
        push @h, 'X-Want: 500' if $kind eq 'reg_500';
    } elsif ($kind eq 'restart') {
        ($method, $uri, $body) = ('POST', "/workspaces/$ws/restart", '');
    } else {
        die "WsgateLoad: unknown kind $kind\n";
    }

    my $r = "$method $uri HTTP/1.1\r\nHost: localhost\r\n";
    $r .= "$_\r\n" for @h;
    $r .= 'Content-Length: ' . length($body) . "\r\n" if defined $body;
    $r .= "\r\n";
    $r .= $body if defined $body;
    return $r;
}

# Is this answer, in headers and body, what SPEC says for its status and
# kind?  Returns (answer, detail).
sub classify {
    my ($kind, $c, $t, $res) = @_;
    my ($st, $h, $b) = ($res->{status}, $res->{headers}, $res->{body});
    my $ws = lc $c->{ws};
    my $ctype = $h->{'content-type'} // '';

    my $check = sub {
        my ($ok, $why) = @_;
        return $ok ? ($st, '') : ("bad$st", $why . ': ' . short($b));
    };

    if ($st == 503) {
        return $check->($b eq '{"error":"auth backend unavailable"}'
                        && ($h->{'retry-after'} // '') eq '1'
                        && $ctype =~ m{^application/json},
                        '503 without the SPEC body or Retry-After: 1');
    }
    if ($st == 401) {
        return $check->($b eq '{"error":"invalid workspace auth token"}'
                        && ($h->{'www-authenticate'} // '')
                           eq 'Bearer error="invalid_token"',
                        '401 without the invalid-token body or header');
    }
    if ($st == 403) {
        return $check->($b eq '{"error":"invalid caller ID"}',
                        '403 without the SPEC body');
    }
    if ($st == 400) {
        return $check->($b =~ /\A\{"error":"invalid register payload",
                                "field":"url","reason":"address\ in\ a\
                                blocked\ range\ \(loopback\)"\}\z/x,
                        '400 without the url reason');
    }
    if ($st == 500) {
        return $check->($b eq "backend-500\n", 'a 500 not from the backend');
    }
    if ($st == 200) {
        if ($kind eq 'ws' || $kind eq 'rev2') {
            my $want = $kind eq 'ws' ? $ws : lc $t->{rev2_ws};
            return $check->(($h->{'x-ws'} // '') eq $want && $b eq "ok\n",
                            "200 not for workspace $want");
        }
        if ($kind eq 'sys') {
            my $want = "caller=$t->{sys_uuid} kind=system "
                       . "name=$t->{sys_name} target=$ws\n";
            return $check->($b eq $want, 'system caller not rewritten');
        }
        if ($kind eq 'a2a') {
            return $check->($b eq "caller=$ws kind=workspace name= "
                                  . "target=$ws\n",
                            'workspace caller not as sent');
        }
        if ($kind =~ /^reg_/) {
            return $check->($b eq "registered\n", '200 not from the backend');
        }
        if ($kind eq 'restart') {
            return $check->($b eq "restarted\n", '200 not from the backend');
        }
    }
    return ("bad$st", 'unexpected status: ' . short($b));
}

sub short {
    my $s = shift // '';
    $s = substr($s, 0, 120) . '...' if length $s > 120;
    $s =~ s/([^\x20-\x7e])/sprintf '\\x%02x', ord $1/ge;
    return $s;
}

# Parses one response from the front of $$buf.  Returns a hash when it is
# complete (and removes it), undef when more is needed, or dies on garbage.
sub parse_response {
    my $buf = shift;
    my $end = index($$buf, "\r\n\r\n");
    return undef if $end < 0;
    my $head = substr($$buf, 0, $end);
    my @lines = split /\r\n/, $head;
    my $sl = shift @lines;
    die "bad status line: " . short($sl) . "\n"
        unless $sl =~ m{\AHTTP/1\.[01] (\d{3})};
    my $status = $1;
    my %h;
    for (@lines) {
        my ($k, $v) = /\A([^:]+):\s*(.*?)\s*\z/ or next;
        $k = lc $k;
        $h{$k} = exists $h{$k} ? "$h{$k}, $v" : $v;
    }
    my $pos = $end + 4;
    my $body;
    if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
        $body = '';
        while (1) {
            my $le = index($$buf, "\r\n", $pos);
            return undef if $le < 0;
            my $size = hex substr($$buf, $pos, $le - $pos);
            if ($size == 0) {
                my $te = index($$buf, "\r\n\r\n", $le);
                return undef if $te < 0;
                $pos = $te + 4;
                last;
            }
            return undef if length($$buf) < $le + 2 + $size + 2;
            $body .= substr($$buf, $le + 2, $size);
            $pos = $le + 2 + $size + 2;
        }
    } else {
        my $len = $h{'content-length'} // 0;
        return undef if length($$buf) < $pos + $len;
        $body = substr($$buf, $pos, $len);
        $pos += $len;
    }
    substr($$buf, 0, $pos) = '';
    return { status => $status, headers => \%h, body => $body };
}

# ---------------------------------------------------------------------------
# The load process

sub load_start {
    my %o = @_;
    my $port = $o{port} || $ENV{TEST_NGINX_SERVER_PORT}
               || $ENV{TEST_NGINX_PORT} || 1984;
    my $out = $o{out} or die "load_start: out => file expected\n";
    unlink $out;

    my $parent = $$;
    my $pid = fork;
    die "load_start: fork failed: $!\n" unless defined $pid;
    if ($pid) {
        # it is up once it has written its start line
        my $deadline = now() + 10;
        until (-s $out || now() > $deadline) {
            sleep_s(0.005);
        }
        return { pid => $pid, out => $out, started => now() };
    }

    # the child: never the test file's END blocks, never its handlers
    $SIG{$_} = 'DEFAULT' for qw(INT HUP PIPE);
    $SIG{PIPE} = 'IGNORE';
    my $stop = 0;
    $SIG{USR1} = sub { $stop = 1 };
    $SIG{TERM} = sub { POSIX::_exit(1) };
    eval { Test::More->builder->no_ending(1) };

    my $ok = eval { run_load(\%o, $port, $out, $parent, \$stop); 1 };
    if (!$ok) {
        if (open my $f, '>>', $out) {
            print $f "#error\t$@";
            close $f;
        }
        POSIX::_exit(1);
    }
    POSIX::_exit(0);
}

sub run_load {
    my ($o, $port, $out, $parent, $stop) = @_;
    my $t = $o->{tokens} || {};
    my @mix = @{ $o->{mix} || [qw(ws unknown sys reg_ok forged a2a revoked
                                  ws reg_bad rev2 reg_500 restart reg_bad
                                  reg_ok ws sys)] };
    my $rate = $o->{rate} || 300;
    my $max = $o->{max} || 30;
    my @clients;
    my $i = 0;
    for my $spec (@{ $o->{clients} }) {
        push @clients, { %$spec, id => $i, next => 0, step => $i * 3,
                         final => [@{ $spec->{final} || [] }],
                         buf => '', wbuf => '' };
        $i++;
    }
    my $interval = @clients / $rate;

    open my $log, '>', $out or die "cannot write $out: $!\n";
    my $start = now();
    printf $log "#start\t%.6f\n", $start;
    $log->flush;
    my $flushed = $start;

    my $record = sub {
        my ($c, $answer, $pid, $cache, $flags, $detail) = @_;
        $detail =~ s/[\t\n]/ /g;
        printf $log "%.6f\t%.6f\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
               $c->{sent}, now(), $c->{id}, $c->{kind}, $c->{phase},
               $answer, $pid || '-', $cache || '-', $flags || '-',
               $detail || '-';
    };

    my $connect = sub {
        my $c = shift;
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp',
                                      Timeout => 2);
        return undef unless $s;
        $s->blocking(0);
        setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1);
        $c->{sock} = $s;
        $c->{served} = 0;
        $c->{buf} = '';
        return $s;
    };

    my $close = sub {
        my $c = shift;
        close $c->{sock} if $c->{sock};
        delete $c->{sock};
        $c->{buf} = '';
        $c->{wbuf} = '';
    };

    my $send = sub {
        my ($c, $kind, $phase, $retry) = @_;
        $c->{kind} = $kind;
        $c->{phase} = $phase;
        $c->{retry} = $retry;
        $c->{req} = request_for($kind, $c, $t);
        $c->{reused} = $c->{sock} && $c->{served} ? 1 : 0;
        $c->{sent} = now();
        if (!$c->{sock} && !$connect->($c)) {
            $record->($c, 'refused', $c->{lastpid}, '', $retry ? 'retry' : '',
                      "connect: $!");
            $c->{busy} = 0;
            $c->{next} = now() + 0.05;
            return;
        }
        $c->{wbuf} = $c->{req};
        $c->{busy} = 1;
        $c->{deadline} = $c->{sent} + $RequestTimeout;
    };

    my $next_kind = sub {
        my $c = shift;
        if (!$$stop) {
            my $k = $mix[ $c->{step} % @mix ];
            $c->{step}++;
            return ($k, 'mix');
        }
        return () unless @{ $c->{final} };
        return (shift @{ $c->{final} }, 'final');
    };

    # a connection gone without a whole answer
    my $dropped = sub {
        my ($c, $why) = @_;
        my $flags = join ',', grep { $_ } ($c->{retry} ? 'retry' : ''),
                                          ($c->{reused} ? 'reused' : 'fresh'),
                                          (length $c->{buf} ? 'partial' : '');
        $record->($c, 'drop', $c->{lastpid}, '', $flags, $why);
        my $retry = !$c->{retry} && $c->{reused} && !length $c->{buf};
        $close->($c);
        $c->{busy} = 0;
        if ($retry) {
            $send->($c, $c->{kind}, $c->{phase}, 1);
        } else {
            $c->{next} = now() + 0.05;
        }
    };

    while (1) {
        POSIX::_exit(0) if getppid() != $parent;
        my $now = now();
        $$stop = 1 if $now - $start > $max;

        my $idle = 1;
        for my $c (@clients) {
            next if $c->{busy};
            my ($k, $phase) = $next_kind->($c);
            if (!defined $k) {
                $c->{done} = 1;
                next;
            }
            if ($phase eq 'mix' && $now < $c->{next}) {
                $c->{step}--;       # not yet: the same kind next time
                $idle = 0;
                next;
            }
            $idle = 0;
            $c->{next} = $now + $interval;
            $send->($c, $k, $phase, 0);
        }
        last if $$stop && !grep { !$_->{done} || $_->{busy} } @clients;

        my (%by_fd, $rsel, $wsel);
        $rsel = IO::Select->new;
        $wsel = IO::Select->new;
        my $wake = now() + 0.05;
        for my $c (@clients) {
            if (!$c->{busy}) {
                $wake = $c->{next} if !$$stop && $c->{next} < $wake;
                next;
            }
            next unless $c->{sock};
            $by_fd{ fileno $c->{sock} } = $c;
            $rsel->add($c->{sock});
            $wsel->add($c->{sock}) if length $c->{wbuf};
            $wake = $c->{deadline} if $c->{deadline} < $wake;
        }
        my $wait = $wake - now();
        $wait = 0 if $wait < 0;
        my ($r, $w) = IO::Select->select($rsel, $wsel, undef, $wait);

        for my $s (@{ $w || [] }) {
            my $c = $by_fd{ fileno $s } or next;
            my $n = syswrite($s, $c->{wbuf});
            if (defined $n) {
                substr($c->{wbuf}, 0, $n) = '';
            } elsif ($! != EAGAIN && $! != EWOULDBLOCK && $! != EINTR) {
                $dropped->($c, "write: $!");
            }
        }

        for my $s (@{ $r || [] }) {
            my $c = $by_fd{ fileno $s } or next;
            next unless $c->{sock} && fileno($c->{sock}) == fileno($s);
            my $n = sysread($s, my $data, 65536);
            if (!defined $n) {
                next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                $dropped->($c, "read: $!");
                next;
            }
            if ($n == 0) {
                $dropped->($c, 'closed by nginx');
                next;
            }
            $c->{buf} .= $data;
            my $res = eval { parse_response(\$c->{buf}) };
            if ($@) {
                $record->($c, 'bad', $c->{lastpid}, '', '', $@);
                $close->($c);
                $c->{busy} = 0;
                next;
            }
            next unless $res;
            my $pid = $res->{headers}{'x-pid'} // '';
            my ($answer, $detail) = classify($c->{kind}, $c, $t, $res);
            $record->($c, $answer, $pid, $res->{headers}{'x-cache'},
                      join(',', grep { $_ } ($c->{retry} ? 'retry' : ''),
                                            ($c->{reused} ? 'reused'
                                                          : 'fresh')),
                      $detail);
            $c->{lastpid} = $pid;
            $c->{served}++;
            $c->{busy} = 0;
            if (length $c->{buf}
                || ($res->{headers}{connection} // '') =~ /close/i)
            {
                $close->($c);
            }
        }

        $now = now();
        for my $c (@clients) {
            next unless $c->{busy} && $c->{deadline} < $now;
            $record->($c, 'timeout', $c->{lastpid}, '', '',
                      "no answer in ${RequestTimeout}s");
            $close->($c);
            $c->{busy} = 0;
        }

        if ($now - $flushed > 0.5) {
            $log->flush;
            $flushed = $now;
        }
    }

    printf $log "#end\t%.6f\n", now();
    close $log;
}

sub load_stop {
    my ($load, %o) = @_;
    my $pid = $load->{pid};
    kill 'USR1', $pid;
    my $deadline = now() + ($o{timeout} || 20);
    my $gone = 0;
    while (now() < $deadline) {
        if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
            $gone = 1;
            last;
        }
        sleep_s(0.01);
    }
    if (!$gone) {
        kill 'KILL', $pid;
        waitpid $pid, 0;
    }
    my @a;
    my $error;
    open my $f, '<', $load->{out} or die "load_stop: $load->{out}: $!\n";
    while (my $l = <$f>) {
        chomp $l;
        if ($l =~ /^#error\t(.*)/) {
            $error = $1;
            next;
        }
        next if $l =~ /^#/;
        my %r;
        @r{qw(sent done client kind phase answer pid cache flags detail)}
            = split /\t/, $l;
        push @a, \%r;
    }
    close $f;
    $load->{error} = $error // ($gone ? undef : 'did not stop by itself');
    return \@a;
}

# ---------------------------------------------------------------------------
# The judge
#
# judge(answers => [...], window => [S, E], recover => 1.0,
#       allow => { 503 => 1, drop => sub { my $a = shift; ... } },
#       revoked_at => T, revoke_bound => 0.1)
#
# An answer is judged by when it was sent and got, against the fault
# window [S, E]:
#   got before S, or sent after E + recover: only its kind's right answer;
#   in between: also a 503 (SPEC's body, Retry-After: 1) when allow->{503}
#   (never for `restart`, which no Redis answer stands in front of), and a
#   drop when allow->{drop} says so for that answer.
# rev2's right answer is 200 until revoked_at (got before it), 401 once
# sent after revoked_at + revoke_bound, either in between.
#
# Returns (\@failures, \%stats): stats has n, n_before, n_after (answers
# sent after E + recover), recovery (seconds from E to the got time of
# the last answer that was not right, 0 when none), by_answer counts.

sub judge {
    my %o = @_;
    my ($s, $e) = @{ $o{window} };
    my $recover = $o{recover} // 1.0;
    my $allow = $o{allow} || {};
    my $bound = $o{revoke_bound} // 0.1;
    my (@fail, %st);
    $st{recovery} = 0;

    for my $a (@{ $o{answers} }) {
        $st{n}++;
        $st{by_answer}{ $a->{answer} }++;
        my @right;
        if ($a->{kind} eq 'rev2') {
            my $t = $o{revoked_at};
            @right = !defined $t || $a->{done} < $t ? ('200')
                   : $a->{sent} > $t + $bound ? ('401') : ('200', '401');
        } else {
            @right = ($Right{ $a->{kind} });
        }
        my $is_right = grep { $_ eq $a->{answer} } @right;
        my $outside = $a->{done} < $s || $a->{sent} > $e + $recover;
        $st{n_before}++ if $a->{done} < $s;
        $st{n_after}++ if $a->{sent} > $e + $recover;

        if (!$is_right && $a->{done} > $e) {
            my $late = $a->{done} - $e;
            $st{recovery} = $late if $late > $st{recovery};
        }
        next if $is_right;

        my $ok = 0;
        if (!$outside) {
            $ok = 1 if $a->{answer} eq '503' && $allow->{503}
                       && $a->{kind} ne 'restart';
            $ok = 1 if $a->{answer} eq 'drop' && $allow->{drop}
                       && $allow->{drop}->($a);
        }
        next if $ok;
        push @fail, sprintf('%s client %d %s (%s) sent %+.3f got %+.3f s '
                            . 'from the fault start: %s, want %s; pid %s, '
                            . '%s %s',
                            $outside ? 'outside the window' : 'in the window',
                            $a->{client}, $a->{kind}, $a->{phase},
                            $a->{sent} - $s, $a->{done} - $s, $a->{answer},
                            join('|', @right), $a->{pid}, $a->{flags},
                            $a->{detail});
    }
    return (\@fail, \%st);
}

1;
