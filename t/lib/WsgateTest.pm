package WsgateTest;

# Project helpers for wsgate's Test::Nginx suites.  Works the same under
# our runner (prove -I t/lib) and under upstream Test::Nginx::Socket:
#
#     use Test::Nginx::Socket 'no_plan';
#     use lib 't/lib';
#     use WsgateTest;
#
# On import it starts ONE private redis-server (redis-server from PATH) on
# a free 127.0.0.1 port, with its files in a temp dir under $TMPDIR (never
# in t/servroot), `save ""` and `appendonly no`, and sets
#
#     $ENV{TEST_NGINX_REDIS_PORT}   its port
#     $ENV{TEST_NGINX_REDIS_HOST}   127.0.0.1
#
# It is stopped at END (also after die, BAIL_OUT, SIGINT/SIGTERM/SIGHUP).
#
# Exported (into the caller; also aliased into Test::Nginx::Util, where
# upstream evaluates `--- init`, and Test::Base::Filter, where `eval`
# sections run, so they can be called unqualified there under both
# runners):
#
#   redis_cmd(@args)    one command on the main server over RESP2.  Returns
#                       a scalar for +simple / :integer / $bulk replies,
#                       undef for a nil bulk or nil array, an arrayref for
#                       arrays (nested as needed).  An -ERR reply DIES
#                       (croak) with "redis error: <text>"; use eval {} to
#                       look at one.
#   redis_flush()       FLUSHALL on the main server.
#   sha256_hex($s)      lowercase hex SHA-256.
#   seed_token($token, ws => $uuid | name => $sysname,
#              kind => 'workspace'|'system', ttl_ms => N,
#              prefix => 'wsgate:', created_ms => N)
#                       writes <prefix>token:<sha256hex> (HSET ws|name,
#                       kind, created_ms; PEXPIRE when ttl_ms) and, for
#                       workspace tokens, SADD <prefix>ws:{<ws>}:tokens.
#                       kind defaults to 'workspace' with ws and 'system'
#                       with name; values are written as given (no case
#                       folding).  Returns the digest.
#   redis_stop()        stops the main server (connections then fail).
#   redis_start()       starts it again on the same port (empty data set).
#   redis_pause($ms)    CLIENT PAUSE $ms ALL: every client, this one
#                       included, waits until the pause ends.
#   redis_port()        the main server's port.
#   redis_extra(%opts)  an additional redis-server, see below.
#   redis_restart_on($inst, conf => [lines], ready => 0)
#                       restarts an instance returned by redis_extra, with
#                       these extra config lines; ready => 0 returns as soon
#                       as it listens (it may still be loading its dataset).
#   redis_stop_on($inst, save => 1)
#                       stops an instance returned by redis_extra; with
#                       save => 1 by SHUTDOWN SAVE (its data set is written
#                       to dump.rdb in its dir, and the next start loads it:
#                       `save ""` only turns off the periodic saves).
#   redis_start_on($inst, conf => [lines], ready => 0)
#                       starts it again (after redis_stop_on), as
#                       redis_restart_on does.
#   redis_cmd_on($inst, @args)
#                       one command on an instance returned by redis_extra
#                       (plain TCP, unix socket or TLS; AUTH is sent when
#                       the instance has a password or `auth => [u, p]` is
#                       set in it).  Same reply rules as redis_cmd; an
#                       error element inside an array reply dies too.
#   flush_each_block()  registers a block preprocessor calling
#                       redis_flush().  Both runners call preprocessors in
#                       run_tests(), one block at a time, right before that
#                       block runs (before its nginx restart, its --- init
#                       and its requests; once per block, not per repeat).
#   redis_conf(@opts)   the http-level line naming the store:
#                           wsgate_redis 127.0.0.1:<port> timeout=2s;
#                       for redis_conf(timeout => '2s'), or in cluster mode
#                           wsgate_redis_cluster 127.0.0.1:<p1>
#                               127.0.0.1:<p2> 127.0.0.1:<p3> timeout=2s;
#                       options as name => value pairs, kept in order; a
#                       value of undef gives the bare word (tls => undef).
#   redis_ports()       the main server's port; in cluster mode every
#                       master's port, in slot order.
#   cluster_spread_ok() in cluster mode, two tests: the token keys, and the
#                       workspace keys ({ws} tags), that seed_token has
#                       written so far sit on every master (the server's
#                       CLUSTER KEYSLOT and slot map say where); else
#                       nothing at all.
#   redis_cluster()     the cluster in use (a WsgateCluster hash), or undef.
#   redis_use_cluster($c)
#                       points redis_cmd and every helper above at that
#                       cluster (one that a suite started itself with
#                       WsgateCluster's cluster_start).
#   cache_conf()        the http-level line
#                           wsgate_cache zone=wsgate_test:1m ttl=60s;
#                       when $ENV{WSGATE_TEST_CACHE} is true, else the
#                       empty string.  A suite puts @{[cache_conf()]} next
#                       to its wsgate_redis line, so that it runs both
#                       without the token cache (the default) and with it:
#                       WSGATE_TEST_CACHE=1 prove -I t/lib t/010-auth.t
#   run_cli($bin, { env => {...} }, @args)
#                       runs the operator CLI (stdin /dev/null, these
#                       environment variables set), killed after 15 s;
#                       returns (exit status, stdout, stderr), or
#                       (-1, '', 'timed out: ...').
#
# Cluster mode: with $ENV{WSGATE_TEST_CLUSTER} true, import starts a Redis
# Cluster of 3 masters (WsgateCluster's cluster_start, cluster-node-timeout
# 5 s) instead of the single server, and the helpers above work against
# it: redis_cmd routes each command by its key's slot and follows MOVED
# and ASK (WsgateCluster's cluster_cmd; FLUSHALL, INFO, KEYS, CLIENT ...
# go to every master, INFO's counters summed); redis_flush flushes every
# master; redis_stop stops every node (wsgate then finds no Redis at all,
# as with the single server) and redis_start starts them again with their
# cluster identities and slots, empty, and returns once cluster_state is
# ok everywhere (about 2.5 s: Redis makes a restarted master wait 2 s);
# TEST_NGINX_REDIS_PORT is the first master's port, and
# TEST_NGINX_REDIS_CLUSTER lists "127.0.0.1:<port>" of every master,
# space-separated.  A suite uses redis_conf() for its directive line:
#     WSGATE_TEST_CLUSTER=1 prove -I t/lib t/010-auth.t
#
# redis_extra(%opts) options:
#   name => 'X'           env prefix TEST_NGINX_REDIS_X_ (default EXTRA)
#   unix => 1             listen on a unix socket (no TCP port)
#   tcp => 1              keep a plain TCP port as well as unix/tls
#   requirepass => 'pw'   requirepass
#   acl => [lines]        `user ...` lines, written to the config verbatim
#   conf => [lines]       any other config lines, verbatim
#   tls => 1              TLS only: a throwaway CA and a server certificate
#                         (SAN IP:127.0.0.1, DNS:localhost) made with the
#                         openssl command, --port 0 --tls-port P
#                         --tls-auth-clients no; plus an unrelated CA
#                         for wrong-CA tests
# It returns a hashref { name, dir, pid, port, path, tls_port, ca, cert,
# key, wrong_ca, password } (absent keys are undef) and sets, for the
# values that exist:
#   TEST_NGINX_REDIS_<NAME>_PORT      plain TCP port
#   TEST_NGINX_REDIS_<NAME>_UNIX      unix socket path
#   TEST_NGINX_REDIS_<NAME>_TLS_PORT  TLS port
#   TEST_NGINX_REDIS_<NAME>_CA        CA certificate (PEM) that signed cert
#   TEST_NGINX_REDIS_<NAME>_WRONG_CA  an unrelated CA certificate
#   TEST_NGINX_REDIS_<NAME>_CERT / _KEY  the server certificate and key
#   TEST_NGINX_REDIS_<NAME>_PASSWORD  requirepass value
#   TEST_NGINX_REDIS_<NAME>_DIR       its temp dir
# Call redis_extra before run_tests() (at file level) so the variables
# exist when the configs are expanded.

use strict;
use warnings;

use Carp qw(croak);
use Digest::SHA ();
use File::Path qw(remove_tree);
use File::Spec ();
use File::Temp ();
use IO::Select;
use IO::Socket::INET;
use IO::Socket::UNIX;
use POSIX qw(WNOHANG);
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(sleep time);

our @EXPORT = qw(
    redis_cmd redis_flush sha256_hex seed_token redis_stop redis_start
    redis_pause redis_port redis_extra redis_cmd_on redis_restart_on
    redis_stop_on redis_start_on
    flush_each_block cache_conf run_cli
    redis_conf redis_ports cluster_spread_ok redis_cluster redis_use_cluster
);

our $StartTimeout = 10;     # seconds to wait for a redis-server to be up
our $IoTimeout    = 30;     # seconds to wait for a reply

my $Owner = $$;
my $Main;                   # the main instance
my @Extra;                  # redis_extra instances
my $Conn;                   # cached connection to the main instance
my $Cluster;                # the cluster in use (cluster mode)
my @Seeded;                 # [token key, workspace key] of seed_token

sub import {
    my $caller = caller;
    if (!$Main && !$Cluster) {
        $ENV{WSGATE_TEST_CLUSTER} ? start_cluster() : start_main();
    }
    no strict 'refs';
    for my $pkg ($caller, 'Test::Nginx::Util', 'Test::Base::Filter') {
        for my $f (@EXPORT) {
            next if defined &{"${pkg}::$f"};
            *{"${pkg}::$f"} = \&{"WsgateTest::$f"};
        }
    }
    for my $sig (qw(INT TERM HUP)) {
        my $cur = $SIG{$sig};
        next if defined $cur && $cur ne 'DEFAULT' && $cur ne '';
        $SIG{$sig} = sub { exit 1 };
    }
}

sub sha256_hex {
    return Digest::SHA::sha256_hex(shift);
}

sub now_ms {
    return int(time * 1000);
}

# ---------------------------------------------------------------------------
# Processes.

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1)
        or die "WsgateTest: cannot find a free port: $!\n";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub alive {
    my $pid = shift;
    return 0 unless $pid;
    return 0 if waitpid($pid, WNOHANG) == $pid;
    return kill 0, $pid;
}

sub write_conf {
    my $inst = shift;
    my @lines = (
        "bind 127.0.0.1",
        "port " . ($inst->{port} || 0),
        'save ""',
        "appendonly no",
        "daemonize no",
        "dir $inst->{dir}",
        "logfile $inst->{dir}/redis.log",
    );
    if ($inst->{path}) {
        push @lines, "unixsocket $inst->{path}", "unixsocketperm 777";
    }
    if ($inst->{tls_port}) {
        push @lines, "tls-port $inst->{tls_port}",
                     "tls-cert-file $inst->{cert}",
                     "tls-key-file $inst->{key}",
                     "tls-ca-cert-file $inst->{ca}",
                     "tls-auth-clients no";
    }
    if (defined $inst->{password}) {
        push @lines, "requirepass $inst->{password}";
    }
    push @lines, @{ $inst->{acl} || [] };
    push @lines, @{ $inst->{conf} || [] };

    my $conf = "$inst->{dir}/redis.conf";
    open my $out, '>', $conf or die "WsgateTest: cannot write $conf: $!\n";
    print $out map { "$_\n" } @lines;
    close $out;
    return $conf;
}

sub log_says_ready {
    my $inst = shift;
    open my $in, '<', "$inst->{dir}/redis.log" or return 0;
    local $/;
    my $log = <$in>;
    close $in;
    return 0 unless defined $log;
    my $offset = $inst->{log_offset} || 0;
    return substr($log, $offset) =~ /ready to accept connections/i;
}

# In a freshly forked child: ask Linux to send SIGTERM when the test
# process goes away, even by SIGKILL (PR_SET_PDEATHSIG survives exec), so
# an interrupted suite leaves no redis-server behind.
sub die_with_parent {
    my $nr = eval { require 'syscall.ph'; &SYS_prctl() };
    syscall($nr, 1, 15) if $nr;     # prctl(PR_SET_PDEATHSIG, SIGTERM)
    POSIX::_exit(0) if getppid() != $Owner;
}

# A one-process nginx for a second server beside the one under test:
# nginx_solo(name => 'nginx_edge', bin => $bin, dir => $dir,
# http => sub { my $port = shift; "..." }, log => 'warn', modules => '')
# writes <dir>/nginx.conf for a free 127.0.0.1 port: `modules` (load_module
# lines), one process, its error log at level `log` and its pid and temp
# paths in <dir>, then an http block of access_log off and the text http
# returns for that port; starts `bin -p <dir>/ -c <dir>/nginx.conf
# -e <dir>/error.log` (stdout to /dev/null, stderr to <dir>/stderr, SIGTERM
# when the test process goes) and returns (port, pid) once it accepts
# connections; up to 5 ports are tried, then it dies naming `name`.
# nginx_solo_stop($pid): QUIT, and KILL after 3 s.
sub nginx_solo {
    my %o = @_;
    my ($name, $bin, $dir) = @o{qw(name bin dir)};
    my $log = $o{log} || 'warn';
    my $modules = $o{modules} || '';
    for (1 .. 5) {
        my $port = free_port();
        open my $f, '>', "$dir/nginx.conf" or die "$dir/nginx.conf: $!\n";
        print $f <<"_EOC_" . $o{http}->($port) . "}\n";
${modules}daemon off;
master_process off;
worker_processes 1;
error_log $dir/error.log $log;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
_EOC_
        close $f;

        my $pid = fork;
        die "$name: fork failed: $!\n" unless defined $pid;
        if ($pid == 0) {
            die_with_parent();
            open STDIN, '<', '/dev/null';
            open STDOUT, '>', '/dev/null';
            open STDERR, '>>', "$dir/stderr";
            exec($bin, '-p', "$dir/", '-c', "$dir/nginx.conf",
                 '-e', "$dir/error.log") or POSIX::_exit(127);
        }
        my $deadline = time + 10;
        while (time < $deadline) {
            last if waitpid($pid, WNOHANG) == $pid;
            my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                          PeerPort => $port, Proto => 'tcp');
            if ($s) {
                close $s;
                return ($port, $pid);
            }
            sleep 0.01;
        }
        kill 'KILL', $pid if waitpid($pid, WNOHANG) == 0;
        waitpid $pid, 0;
    }
    die "$name: $bin did not start; see $dir/error.log\n";
}

sub nginx_solo_stop {
    my $pid = shift;
    kill 'QUIT', $pid;
    my $deadline = time + 3;
    while (waitpid($pid, WNOHANG) == 0) {
        if (time > $deadline) {
            kill 'KILL', $pid;
            waitpid $pid, 0;
            last;
        }
        sleep 0.01;
    }
}

# Start (or restart) the redis-server of $inst; returns 1 when it is ready,
# 0 when it exited (e.g. the port was taken meanwhile).
sub spawn {
    my $inst = shift;
    my $conf = write_conf($inst);
    $inst->{log_offset} = -s "$inst->{dir}/redis.log" || 0;

    my $pid = fork();
    die "WsgateTest: fork failed: $!\n" unless defined $pid;
    if ($pid == 0) {
        die_with_parent();
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>>', "$inst->{dir}/redis.stderr";
        exec('redis-server', $conf) or POSIX::_exit(127);
    }
    $inst->{pid} = $pid;

    my $deadline = time + $StartTimeout;
    while (time < $deadline) {
        if (!alive($pid)) {
            delete $inst->{pid};
            return 0;
        }
        return 1 if $inst->{listening_is_enough}
                    ? accepts($inst) : log_says_ready($inst);
        sleep 0.01;
    }
    stop_instance($inst);
    die "WsgateTest: redis-server did not start in ${StartTimeout}s; see "
        . "$inst->{dir}/redis.log\n";
}

sub stop_instance {
    my $inst = shift;
    my $pid = delete $inst->{pid};
    return unless $pid;
    kill 'TERM', $pid;
    my $deadline = time + 5;
    while (alive($pid) && time < $deadline) {
        sleep 0.01;
    }
    if (alive($pid)) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
    }
}

sub new_instance {
    my %args = @_;
    my $dir = File::Temp::tempdir('wsgate-redis-XXXXXX', TMPDIR => 1,
                                  CLEANUP => 0);
    return { %args, dir => $dir };
}

sub start_main {
    $Main = new_instance(name => 'MAIN');
    for (1 .. 5) {
        $Main->{port} = free_port();
        last if spawn($Main);
    }
    die "WsgateTest: could not start redis-server; see "
        . "$Main->{dir}/redis.log\n" unless $Main->{pid};
    $ENV{TEST_NGINX_REDIS_PORT} = $Main->{port};
    $ENV{TEST_NGINX_REDIS_HOST} = '127.0.0.1';
}

sub start_cluster {
    require WsgateCluster;
    $Cluster = WsgateCluster::cluster_start(replicas => 0);
    my @m = @{ $Cluster->{masters} };
    $ENV{TEST_NGINX_REDIS_PORT} = $m[0]{port};
    $ENV{TEST_NGINX_REDIS_HOST} = '127.0.0.1';
    $ENV{TEST_NGINX_REDIS_CLUSTER} = join ' ', map { "127.0.0.1:$_->{port}" }
                                               @m;
}

sub redis_cluster {
    return $Cluster;
}

sub redis_use_cluster {
    $Cluster = shift;
    croak "redis_use_cluster: a cluster expected"
        unless ref $Cluster eq 'HASH' && $Cluster->{masters};
    return $Cluster;
}

sub redis_port {
    return $Cluster ? $Cluster->{masters}[0]{port} : $Main->{port};
}

sub redis_ports {
    return map { $_->{port} } @{ $Cluster->{masters} } if $Cluster;
    return ($Main->{port});
}

sub redis_stop {
    return WsgateCluster::cluster_stop($Cluster) if $Cluster;
    undef $Conn;
    stop_instance($Main);
}

sub redis_start {
    if ($Cluster) {
        WsgateCluster::cluster_restart($Cluster);
        return;
    }
    return if $Main->{pid} && alive($Main->{pid});
    undef $Conn;
    spawn($Main)
        or die "WsgateTest: redis-server did not restart on port "
               . "$Main->{port}; see $Main->{dir}/redis.log\n";
}

# ---------------------------------------------------------------------------
# TLS material.

sub run_openssl {
    my ($dir, @args) = @_;
    my $pid = fork();
    die "WsgateTest: fork failed: $!\n" unless defined $pid;
    if ($pid == 0) {
        chdir $dir;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', 'openssl.log';
        open STDERR, '>>', 'openssl.log';
        exec('openssl', @args) or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    die "WsgateTest: openssl @args failed; see $dir/openssl.log\n" if $?;
}

sub make_ca {
    my ($dir, $base, $cn) = @_;
    run_openssl($dir, 'req', '-x509', '-newkey', 'ec',
                '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
                '-keyout', "$base.key", '-out', "$base.crt", '-days', '3',
                '-subj', "/CN=$cn",
                '-addext', 'basicConstraints=critical,CA:TRUE',
                '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
}

# In $inst->{dir}: ca.crt, wrong-ca.crt (an unrelated CA) and server.crt
# / server.key (SAN IP:127.0.0.1, DNS:localhost, signed by ca.crt); sets
# $inst->{ca, wrong_ca, cert, key}.  With client => 1 the certificate is
# good for clientAuth as well (a Redis Cluster node presents it on the
# cluster bus, which always asks for a client certificate).
sub make_tls_files {
    my ($inst, %o) = @_;
    my $dir = $inst->{dir};
    make_ca($dir, 'ca', 'wsgate test CA');
    make_ca($dir, 'wrong-ca', 'wsgate unrelated CA');
    run_openssl($dir, 'req', '-new', '-newkey', 'ec',
                '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
                '-keyout', 'server.key', '-out', 'server.csr',
                '-subj', '/CN=localhost');
    open my $ext, '>', "$dir/server.ext" or die "$dir/server.ext: $!\n";
    print $ext "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
               . "basicConstraints=CA:FALSE\n"
               . "keyUsage=critical,digitalSignature,keyEncipherment\n"
               . "extendedKeyUsage=serverAuth"
               . ($o{client} ? ",clientAuth\n" : "\n");
    close $ext;
    run_openssl($dir, 'x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt',
                '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt',
                '-days', '3', '-extfile', 'server.ext');
    $inst->{ca} = "$dir/ca.crt";
    $inst->{wrong_ca} = "$dir/wrong-ca.crt";
    $inst->{cert} = "$dir/server.crt";
    $inst->{key} = "$dir/server.key";
}

# listening, if not yet ready (still loading its dataset, say)
sub accepts {
    my $inst = shift;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $inst->{port}, Proto => 'tcp')
        or return 0;
    close $s;
    return 1;
}

sub redis_restart_on {
    my ($inst, %opts) = @_;
    redis_stop_on($inst);
    return redis_start_on($inst, %opts);
}

sub redis_stop_on {
    my ($inst, %opts) = @_;
    if ($opts{save} && $inst->{pid}) {
        # the server closes the connection once it has saved: no reply
        eval { redis_cmd_on($inst, 'SHUTDOWN', 'SAVE') };
        my $deadline = time + 10;
        while (time < $deadline) {
            if (waitpid($inst->{pid}, WNOHANG) == $inst->{pid}) {
                delete $inst->{pid};    # reaped: the pid is nobody's now
                last;
            }
            sleep 0.005;
        }
    }
    stop_instance($inst);
    return $inst;
}

sub redis_start_on {
    my ($inst, %opts) = @_;
    $inst->{conf} = [@{ $opts{conf} || [] }] if $opts{conf};
    local $inst->{listening_is_enough} = defined $opts{ready} && !$opts{ready};
    spawn($inst)
        or die "WsgateTest: the $inst->{name} redis-server did not restart; "
               . "see $inst->{dir}/redis.log\n";
    return $inst;
}

sub redis_extra {
    my %opts = @_;
    my $name = uc($opts{name} || 'EXTRA');
    croak "redis_extra: bad name $name" unless $name =~ /^[A-Z0-9_]+$/;

    my $inst = new_instance(name => $name);
    push @Extra, $inst;
    $inst->{password} = $opts{requirepass};
    $inst->{acl} = [@{ $opts{acl} || [] }];
    $inst->{conf} = [@{ $opts{conf} || [] }];
    $inst->{path} = "$inst->{dir}/redis.sock" if $opts{unix};
    make_tls_files($inst) if $opts{tls};
    my $plain = $opts{tcp} || !($opts{unix} || $opts{tls});

    for (1 .. 5) {
        $inst->{port} = $plain ? free_port() : undef;
        $inst->{tls_port} = $opts{tls} ? free_port() : undef;
        last if spawn($inst);
    }
    die "WsgateTest: could not start the $name redis-server; see "
        . "$inst->{dir}/redis.log\n" unless $inst->{pid};

    my %env = (
        PORT => $inst->{port}, UNIX => $inst->{path},
        TLS_PORT => $inst->{tls_port}, CA => $inst->{ca},
        WRONG_CA => $inst->{wrong_ca}, CERT => $inst->{cert},
        KEY => $inst->{key}, PASSWORD => $inst->{password},
        DIR => $inst->{dir},
    );
    for my $k (keys %env) {
        $ENV{"TEST_NGINX_REDIS_${name}_$k"} = $env{$k} if defined $env{$k};
    }
    return $inst;
}

# ---------------------------------------------------------------------------
# RESP.

sub encode_command {
    my $out = '*' . scalar(@_) . "\r\n";
    for my $arg (@_) {
        my $a = defined $arg ? "$arg" : '';
        utf8::encode($a) if utf8::is_utf8($a);
        $out .= '$' . length($a) . "\r\n$a\r\n";
    }
    return $out;
}

sub conn_fill {
    my $c = shift;
    my $sel = IO::Select->new($c->{sock});
    if (!$c->{sock}->can('pending') || !$c->{sock}->pending) {
        $sel->can_read($IoTimeout)
            or die "WsgateTest: redis read timed out\n";
    }
    my $n = sysread($c->{sock}, my $buf, 65536);
    die "WsgateTest: redis read failed: $!\n" unless defined $n;
    die "WsgateTest: redis closed the connection\n" if $n == 0;
    $c->{buf} .= $buf;
}

sub conn_line {
    my $c = shift;
    while (1) {
        my $i = index($c->{buf}, "\r\n");
        if ($i >= 0) {
            my $line = substr($c->{buf}, 0, $i);
            substr($c->{buf}, 0, $i + 2) = '';
            return $line;
        }
        conn_fill($c);
    }
}

sub conn_bytes {
    my ($c, $n) = @_;
    conn_fill($c) while length($c->{buf}) < $n + 2;
    my $data = substr($c->{buf}, 0, $n);
    substr($c->{buf}, 0, $n + 2) = '';
    return $data;
}

# -> (value, error text or undef)
sub read_reply {
    my $c = shift;
    my $line = conn_line($c);
    my ($type, $rest) = (substr($line, 0, 1), substr($line, 1));
    return ($rest, undef) if $type eq '+';
    return (undef, $rest) if $type eq '-';
    return ($rest + 0, undef) if $type eq ':';
    if ($type eq '$') {
        return (undef, undef) if $rest < 0;
        return (conn_bytes($c, $rest), undef);
    }
    if ($type eq '*') {
        return (undef, undef) if $rest < 0;
        my (@items, $err);
        for (1 .. $rest) {
            my ($v, $e) = read_reply($c);
            $err = $e if defined $e && !defined $err;
            push @items, $v;
        }
        return (\@items, $err);
    }
    die "WsgateTest: bad reply from redis: $line\n";
}

sub conn_write {
    my ($c, $data) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my $off = 0;
    while ($off < length $data) {
        my $n = syswrite($c->{sock}, $data, length($data) - $off, $off);
        return 0 unless $n;
        $off += $n;
    }
    return 1;
}

sub command {
    my ($c, @args) = @_;
    conn_write($c, encode_command(@args))
        or die "WsgateTest: redis write failed: $!\n";
    my ($v, $err) = read_reply($c);
    croak "redis error: $err" if defined $err;
    return $v;
}

sub main_conn {
    return $Conn if $Conn;
    croak "redis_cmd: the main redis-server is not running"
        unless $Main && $Main->{pid};
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $Main->{port},
                                     Proto => 'tcp', Timeout => 5)
        or croak "redis_cmd: cannot connect to 127.0.0.1:$Main->{port}: $!";
    $Conn = { sock => $sock, buf => '' };
    return $Conn;
}

sub redis_cmd {
    croak "redis_cmd: no command" unless @_;
    return WsgateCluster::cluster_cmd($Cluster, @_) if $Cluster;
    my $c = main_conn();
    # A cached connection may have been closed by a restart: retry once.
    if (!conn_write($c, encode_command(@_))) {
        undef $Conn;
        $c = main_conn();
        conn_write($c, encode_command(@_))
            or croak "redis_cmd: write failed: $!";
    }
    my ($v, $err) = eval { read_reply($c) };
    if ($@) {
        undef $Conn;
        croak "redis_cmd(@_): $@";
    }
    croak "redis error: $err" if defined $err;
    return $v;
}

sub redis_cmd_on {
    my ($inst, @args) = @_;
    croak "redis_cmd_on: no instance" unless ref $inst eq 'HASH';
    my $sock;
    if ($inst->{tls_port}) {
        require IO::Socket::SSL;
        $sock = IO::Socket::SSL->new(
            PeerHost        => '127.0.0.1',
            PeerPort        => $inst->{tls_port},
            SSL_ca_file     => $inst->{ca},
            SSL_verify_mode => IO::Socket::SSL::SSL_VERIFY_PEER(),
            SSL_verifycn_name   => 'localhost',
            SSL_verifycn_scheme => 'default',
            Timeout         => 5,
        ) or croak "redis_cmd_on: TLS connect failed: "
                   . IO::Socket::SSL::errstr();
    } elsif ($inst->{path}) {
        $sock = IO::Socket::UNIX->new(Peer => $inst->{path},
                                      Type => SOCK_STREAM)
            or croak "redis_cmd_on: cannot connect to $inst->{path}: $!";
    } else {
        $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $inst->{port},
                                      Proto => 'tcp', Timeout => 5)
            or croak "redis_cmd_on: cannot connect to port $inst->{port}: $!";
    }
    my $c = { sock => $sock, buf => '' };
    my @auth = $inst->{auth} ? @{ $inst->{auth} }
             : defined $inst->{password} ? ($inst->{password}) : ();
    command($c, 'AUTH', @auth) if @auth;
    my $v = command($c, @args);
    close $sock;
    return $v;
}

# ---------------------------------------------------------------------------
# Data model helpers.

sub redis_flush {
    return redis_cmd('FLUSHALL');
}

sub redis_pause {
    my $ms = shift;
    croak "redis_pause: milliseconds expected" unless defined $ms
                                                      && $ms =~ /^\d+$/;
    return redis_cmd('CLIENT', 'PAUSE', $ms, 'ALL');
}

sub seed_token {
    my ($token, %o) = @_;
    croak "seed_token: token expected" unless defined $token;
    croak "seed_token: give ws => or name =>, not both"
        if defined $o{ws} && defined $o{name};
    croak "seed_token: ws => or name => expected"
        unless defined $o{ws} || defined $o{name};

    my $prefix = defined $o{prefix} ? $o{prefix} : 'wsgate:';
    my $kind = $o{kind} || (defined $o{ws} ? 'workspace' : 'system');
    my $digest = sha256_hex($token);
    my $key = "${prefix}token:$digest";
    my @fields = defined $o{ws} ? (ws => $o{ws}) : (name => $o{name});
    my $created = defined $o{created_ms} ? $o{created_ms} : now_ms();

    redis_cmd('DEL', $key);
    redis_cmd('HSET', $key, @fields, kind => $kind, created_ms => $created);
    redis_cmd('PEXPIRE', $key, $o{ttl_ms}) if $o{ttl_ms};
    my $set;
    if ($kind eq 'workspace' && defined $o{ws}) {
        $set = "${prefix}ws:{$o{ws}}:tokens";
        redis_cmd('SADD', $set, $digest);
    }
    push @Seeded, [$key, $set];
    return $digest;
}

sub conf_opts {
    my @o = @_;
    my $s = '';
    while (@o) {
        my ($k, $v) = splice @o, 0, 2;
        $s .= defined $v ? " $k=$v" : " $k";
    }
    return $s;
}

sub redis_conf {
    return WsgateCluster::cluster_conf($Cluster, @_) if $Cluster;
    return "wsgate_redis 127.0.0.1:$Main->{port}" . conf_opts(@_) . ';';
}

sub cluster_spread_ok {
    return unless $Cluster;
    my (%tok, %ws);
    for my $s (@Seeded) {
        my ($key, $set) = @$s;
        $tok{ WsgateCluster::cluster_master_of($Cluster, $key)->{port} }++;
        $ws{ WsgateCluster::cluster_master_of($Cluster, $set)->{port} }++
            if defined $set;
    }
    my @m = map { $_->{port} } @{ $Cluster->{masters} };
    my $where = sub {
        my $h = shift;
        return join ', ', map { "$_: " . ($h->{$_} || 0) } @m;
    };
    Test::More::ok((grep { $tok{$_} } @m) == @m,
                   'cluster: the seeded token keys are on every master ('
                   . $where->(\%tok) . ')');
    Test::More::ok((grep { $ws{$_} } @m) == @m,
                   'cluster: the seeded workspace keys are on every master ('
                   . $where->(\%ws) . ')');
}

sub cache_conf {
    return $ENV{WSGATE_TEST_CACHE}
        ? 'wsgate_cache zone=wsgate_test:1m ttl=60s;' : '';
}

sub run_cli {
    my ($bin, $o, @args) = @_;
    my $out = File::Temp->new;
    my $err = File::Temp->new;
    my $pid = fork;
    croak "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out->filename;
        open STDERR, '>', $err->filename;
        my $env = $o->{env} || {};
        $ENV{$_} = $env->{$_} for keys %$env;
        exec($bin, @args) or POSIX::_exit(127);
    }
    my $deadline = time() + 15;
    while (waitpid($pid, WNOHANG) == 0) {
        if (time() > $deadline) {
            kill 'KILL', $pid;
            waitpid $pid, 0;
            return (-1, '', "timed out: $bin @args");
        }
        sleep(0.001);
    }
    my $rc = $? >> 8;
    my $slurp = sub { open my $f, '<', $_[0] or return '';
                      local $/; my $s = <$f>; defined $s ? $s : '' };
    return ($rc, $slurp->($out->filename), $slurp->($err->filename));
}

sub flush_each_block {
    my $add = Test::Nginx::Socket->can('add_block_preprocessor')
        or croak "flush_each_block: load Test::Nginx::Socket first";
    &$add(sub { redis_flush() });
}

END {
    if ($$ == $Owner) {
        local $?;
        undef $Conn;
        for my $inst (@Extra, $Main ? ($Main) : ()) {
            stop_instance($inst);
            remove_tree($inst->{dir}) if $inst->{dir} && -d $inst->{dir};
        }
    }
}

1;
