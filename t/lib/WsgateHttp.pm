package WsgateHttp;

# Client-side load for wsgate's suites: requests that stay in flight in
# the background while a block's own request is checked.  Works the same
# under our runner and upstream Test::Nginx:
#
#     use WsgateHttp;
#     ...
#     --- init
#     http_background(count => 20, uri => '/t',
#                     headers => ["Authorization: Bearer ..."]);
#
# http_background(%opts) forks one child that opens `count` connections to
# 127.0.0.1:$TEST_NGINX_SERVER_PORT at once and sends one request on each:
#   uri         => '/t'            (default '/')
#   method      => 'GET'
#   headers     => [ 'Name: value', ... ]
#   body        => ''              (sent with Content-Length)
#   close_after => secs            close every connection after that long,
#                                  without reading: a client that leaves
#   hold        => secs            otherwise, read the answers for at most
#                                  this long (default 10)
# It returns at once with the child's pid; children still running at the
# end of the file are killed and reaped.
#
# http_once(%opts) sends one request on a fresh connection (Connection:
# close, so that any worker may take it) and returns the answer as
# { status, head => { lower-case name => value }, body }, status 0 when
# none came within `timeout` (default 5 s).  Options as above: uri,
# method, headers, body; port => P sends it to another server on
# 127.0.0.1 (a second nginx).
#
# nginx_master_pid() and nginx_worker_pids(): the running test nginx's
# master (from logs/nginx.pid) and its live children, sorted.
#
# http_backend() starts lua-free-config/demo-backend.pl (the platform
# stand-in that echoes what it received, with the body's sha256) on a free
# 127.0.0.1 port, sets $ENV{TEST_NGINX_BACKEND_PORT} and returns the port;
# it is stopped at the end of the file.

use strict;
use warnings;

use Exporter 'import';
use IO::Socket::INET;
use IO::Select;
use POSIX ();
use Time::HiRes qw(time sleep);

our @EXPORT = qw(http_background http_backend redis_probe http_once
                 nginx_master_pid nginx_worker_pids);

my @Children;

# the request of http_background and http_once: method, uri, headers, body
sub request_text {
    my %o = @_;
    my $body = defined $o{body} ? $o{body} : '';
    my $req = ($o{method} || 'GET') . ' ' . ($o{uri} || '/')
              . " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
    $req .= "$_\r\n" for @{ $o{headers} || [] };
    $req .= "Content-Length: " . length($body) . "\r\n" if length $body;
    $req .= "\r\n$body";
    return $req;
}

sub http_background {
    my %o = @_;
    my $count = $o{count} || 1;
    my $port = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
    my $req = request_text(%o);

    my $pid = fork;
    die "http_background: fork failed: $!" unless defined $pid;

    if ($pid) {
        push @Children, $pid;
        return $pid;
    }

    # the child: no END blocks of the test file may run here
    my @socks;
    for (1 .. $count) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp')
            or next;
        $s->autoflush(1);
        print $s $req;
        push @socks, $s;
    }

    if (defined $o{close_after}) {
        sleep $o{close_after};
        close $_ for @socks;
        POSIX::_exit(0);
    }

    my $sel = IO::Select->new(@socks);
    my $deadline = time + ($o{hold} || 10);

    while ($sel->count && time < $deadline) {
        for my $s ($sel->can_read(0.1)) {
            my $n = sysread $s, my $buf, 65536;
            if (!$n) {
                $sel->remove($s);
                close $s;
            }
        }
    }

    POSIX::_exit(0);
}

sub http_once {
    my %o = @_;
    my $port = $o{port} || $ENV{TEST_NGINX_SERVER_PORT}
               || $ENV{TEST_NGINX_PORT} || 1984;
    my $req = request_text(%o);

    my $ans = { status => 0, head => {}, body => '' };
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 5)
        or return $ans;
    local $SIG{PIPE} = 'IGNORE';
    syswrite $s, $req or return $ans;

    my $buf = '';
    my $sel = IO::Select->new($s);
    my $deadline = time + ($o{timeout} || 5);
    while (time < $deadline) {
        next unless $sel->can_read(0.1);
        my $n = sysread $s, my $chunk, 65536;
        last unless $n;
        $buf .= $chunk;
    }
    close $s;

    my ($head, $rest) = split /\r\n\r\n/, $buf, 2;
    return $ans unless defined $head && $head =~ m{\AHTTP/1\.[01] (\d{3})};
    $ans->{status} = $1;
    for my $line (split /\r\n/, $head) {
        $ans->{head}{lc $1} = $2 if $line =~ /^([^:\s]+):\s*(.*)$/;
    }
    $ans->{body} = defined $rest ? $rest : '';
    return $ans;
}

sub nginx_master_pid {
    my $root = Test::Nginx::Util::server_root();
    open my $fh, '<', "$root/logs/nginx.pid" or return 0;
    my $pid = <$fh>;
    close $fh;
    return defined $pid && $pid =~ /(\d+)/ ? $1 : 0;
}

sub nginx_worker_pids {
    my $master = nginx_master_pid() or return ();
    my @w;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $f, '<', $stat or next;
        my $l = <$f>;
        close $f;
        next unless defined $l && $l =~ /^(\d+) \(.*\) (\S) (\d+) /s;
        push @w, $1 if $3 == $master && $2 ne 'Z';
    }
    return sort { $a <=> $b } @w;
}

my $Backend;

sub http_backend {
    return $ENV{TEST_NGINX_BACKEND_PORT} if $Backend;

    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1)
        or die "http_backend: no free port: $!";
    my $port = $s->sockport;
    close $s;

    my $pid = fork;
    die "http_backend: fork failed: $!" unless defined $pid;

    if ($pid == 0) {
        exec $^X, 'lua-free-config/demo-backend.pl', '--port', $port,
             '--exit-with-parent'
            or POSIX::_exit(127);
    }

    for (1 .. 200) {
        my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp');
        if ($c) {
            close $c;
            $Backend = $pid;
            return $ENV{TEST_NGINX_BACKEND_PORT} = $port;
        }
        sleep 0.01;
    }

    die "http_backend: demo-backend.pl did not start on port $port";
}

# Both runners evaluate `--- init` code outside package main.
{
    no strict 'refs';
    for my $pkg (qw(Test::Nginx::Util Test::Base::Filter)) {
        *{"${pkg}::http_background"} = \&http_background;
        *{"${pkg}::http_backend"} = \&http_backend;
        *{"${pkg}::redis_probe"} = \&redis_probe;
    }
}

# Only the test process stops its children: upstream Test::Nginx's fake
# TCP/UDP servers (--- tcp_listen) are forks of it that end with exit(),
# which runs END blocks too.
my $Owner = $$;
my $Probe;

END {
    local $?;    # waitpid must not change the test's exit status

    if ($$ == $Owner) {
        for my $pid (grep { defined } @Children, $Backend, $Probe) {
            kill 'TERM', $pid;
            waitpid $pid, 0;
        }
    }
}

# redis_probe() starts a small HTTP server on a free 127.0.0.1 port that
# reads the suite's Redis (WsgateTest's main redis-server) at the time of a
# request, so a block can check a Redis record between its requests with
# ordinary response checks.  It sets $ENV{TEST_NGINX_PROBE_PORT} and
# returns the port; a block's config routes to it, e.g.
#
#     location /redis/ {
#         proxy_pass http://127.0.0.1:$TEST_NGINX_PROBE_PORT/;
#     }
#
# GET /<COMMAND>/<arg>/<arg>... (each path segment %-decoded) runs that
# command on a fresh connection and answers 200 text/plain with the reply,
# one line per value: an array one line per element, "(nil)" for a nil,
# "(error) <text>" for an error reply.  E.g.
# GET /redis/HMGET/wsgate:ws:%7B<ws>%7D:regfail/status/source -> "400\ngateway\n".
# Call it before run_tests(); it is stopped at the end of the file.

sub redis_probe {
    return $ENV{TEST_NGINX_PROBE_PORT} if $Probe;

    my $redis = $ENV{TEST_NGINX_REDIS_PORT}
        or die "redis_probe: no TEST_NGINX_REDIS_PORT (use WsgateTest first)";
    my $cmd_on = WsgateTest->can('redis_cmd_on')
        or die "redis_probe: use WsgateTest first";

    my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                    Proto => 'tcp', Listen => 16,
                                    ReuseAddr => 1)
        or die "redis_probe: cannot listen: $!";
    my $port = $srv->sockport;
    my $parent = $$;

    my $pid = fork;
    die "redis_probe: fork failed: $!" unless defined $pid;

    if ($pid) {
        close $srv;
        $Probe = $pid;
        return $ENV{TEST_NGINX_PROBE_PORT} = $port;
    }

    # the child: one request at a time.  It must never run the END blocks
    # of the test file (upstream's would stop nginx), so no signal handler
    # inherited from the test process (WsgateTest's exit on TERM) either.
    $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP);
    $SIG{PIPE} = 'IGNORE';
    my $sel = IO::Select->new($srv);
    for (;;) {
        POSIX::_exit(0) if getppid() != $parent;
        next unless $sel->can_read(1);
        my $c = $srv->accept or next;
        probe_serve($c, $cmd_on, $redis);
        close $c;
    }
}

sub probe_serve {
    my ($c, $cmd_on, $redis) = @_;
    local $/ = "\n";
    my $line = <$c>;
    return unless defined $line;
    while (defined(my $h = <$c>)) {
        last if $h =~ /^\r?\n\z/;
    }

    my ($path) = $line =~ m{^\S+\s+(/\S*)} or return;
    $path =~ s/\?.*//s;
    my @args = map { (my $a = $_) =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge; $a }
               grep { length } split m{/}, $path;

    my $out = '';
    if (@args) {
        my $v = eval { $cmd_on->({ port => $redis }, @args) };
        if ($@) {
            (my $e = $@) =~ s/\s+\z//;
            $e =~ s/ at \S+ line \d+\.?\z//;
            $out = "(error) $e\n";
        } else {
            for my $x (ref $v eq 'ARRAY' ? @$v : ($v)) {
                $out .= (defined $x ? (ref $x ? "(array)" : $x) : '(nil)')
                        . "\n";
            }
        }
    } else {
        $out = "(error) no command\n";
    }

    print $c "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
             . "Content-Length: " . length($out) . "\r\n\r\n$out";
}

1;
