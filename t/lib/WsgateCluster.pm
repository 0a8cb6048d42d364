package WsgateCluster;

# A Redis Cluster for wsgate's suites, on loopback, and a client that
# routes commands the way a cluster client must.  Works the same under our
# runner and under upstream Test::Nginx:
#
#     use WsgateTest;
#     use WsgateCluster;
#     my $c = cluster_start(replicas => 0);      # 3 masters
#     my $r = cluster_start(replicas => 1);      # 3 masters + 3 replicas
#
# cluster_start(%opts) starts 3 redis-servers (6 with replicas => 1) on
# free 127.0.0.1 ports, each with a cluster bus port of its own
# (cluster-port, so that no port + 10000 is needed), `save ""`,
# `appendonly no`, `cluster-node-timeout` node_timeout (ms, default 5000),
# `cluster-replica-validity-factor 0` (a replica may always be promoted),
# makes them one cluster with `redis-cli --cluster create ...
# --cluster-replicas 0|1 --cluster-yes`, and waits (cluster_wait) until
# every node says cluster_state:ok and every node returns the same
# CLUSTER SLOTS, all 16384 slots covered (and, with replicas, every
# replica's link to its master is up).  About 2 s.  Returns the cluster:
#   { nodes => [node, ...], masters => [3 nodes, in slot order],
#     replicas => [...], node_timeout => ms, slot => [16384 ports] }
# where a node is a WsgateTest instance hash (port, bus_port, dir, pid,
# id, role, master_id).  Every node is stopped, and its dir removed, at
# END (only the processes started here).  Options: replicas => 0|1,
# node_timeout => ms, conf => [extra config lines], tls => 1.
#
# With tls => 1 each node also has a TLS port of its own (tls_port in the
# node), with `tls-cluster yes` (the cluster bus speaks TLS, and CLUSTER
# SLOTS, CLUSTER NODES and MOVED name the TLS ports to a client on a TLS
# port, the plain ports to one on a plain port), `tls-replication yes` and
# `tls-auth-clients no`; every node has the same certificate (WsgateTest's
# make_tls_files: SAN IP:127.0.0.1 and DNS:localhost, good for clientAuth
# too, as the bus asks for one), and the cluster has ca, wrong_ca (an
# unrelated CA), cert and key (file names).  The fixture itself, and
# redis-cli --cluster create, keep to the plain ports.  MIGRATE (so
# cluster_move_slot) must name the target's TLS port under tls-cluster;
# cluster_move_slot does, redis-cli --cluster reshard on the plain ports
# does not (it fails with IOERR).
#
# cluster_cmd($c, @args)   one command, routed: its key's slot (key_slot)
#     gives the master; a MOVED reply updates that slot and the command
#     goes to the node named, an ASK reply sends ASKING and the command to
#     the node named (the map unchanged), TRYAGAIN is retried every 50 ms
#     (for 2 s at most); at most 10 redirections.  The key is the first
#     argument, or the first of EVAL/EVALSHA/FCALL's keys.  Commands
#     without a key: FLUSHALL, FLUSHDB, DBSIZE, KEYS, SCAN-less listing,
#     INFO, CLIENT, CONFIG, SCRIPT, FUNCTION, WAIT and PING go to every
#     master and the replies are combined: integers summed, arrays
#     concatenated, equal strings given once (OK), INFO merged (see
#     info_merge), other strings concatenated in master order; anything
#     else (CLUSTER ...) goes to the first master.  Replies and errors as
#     WsgateTest's redis_cmd (an -ERR reply croaks "redis error: ...").
# cluster_cmd_node($c, $node, @args)   one command on that node, no
#     routing (a MOVED or ASK reply croaks like any error).
# key_slot($key)   CRC16-XMODEM & 16383 of the key, or of its hash tag:
#     the bytes between the first `{` and the first `}` after it, when
#     there is at least one; exactly as Redis computes it.
# cluster_master_of($c, $key)   the master that owns the key's slot now
#     (the server's CLUSTER KEYSLOT, the slot map read from the cluster).
# cluster_node($c, $port)   the node on that port.
# cluster_refresh($c)   rereads roles and the slot map (CLUSTER NODES and
#     CLUSTER SLOTS of a live node).
# cluster_wait($c, timeout => s, state => 'ok'|'fail', nodes => [...])
#     waits until every live node (or those given) reports that
#     cluster_state and, for 'ok', all agree on the slot map; then
#     refreshes.  Dies after timeout (default 20 s) saying what it saw.
# cluster_stop($c, nodes => [...], signal => 'TERM'|'KILL')   stops those
#     nodes (default every node).
# cluster_restart($c, nodes => [...], wait => 1)   starts stopped nodes
#     again on their ports with their nodes.conf (same identities, empty
#     data: nothing is saved), then cluster_wait (a restarted master waits
#     2 s before it says ok again: Redis's rejoin delay).
# cluster_move_slot($c, $slot, $to, keys => 'all'|[keys], finish => 1)
#     moves a slot the way redis-cli does: SETSLOT IMPORTING on $to,
#     MIGRATING on its owner, MIGRATE of the keys (all of them, or only
#     those given), then, with finish, SETSLOT NODE on $to, the old owner
#     and every other master.  Without finish the slot stays half-moved
#     (its keys given have moved: the old owner answers ASK for them).
# cluster_wait_replicas($c)   WAIT 1 on every master that has a replica:
#     the writes made through cluster_cmd have reached its replica.
# cluster_conf($c, @opts)   "wsgate_redis_cluster 127.0.0.1:<p1>
#     127.0.0.1:<p2> 127.0.0.1:<p3> <opts>;" (the three masters); options
#     as name => value pairs, in order: timeout => '2s' gives timeout=2s,
#     a value of undef gives the bare word (tls => undef); tls_ports => 1
#     (anywhere in the list, not written out) names the masters' TLS ports
#     (a cluster started with tls => 1).
# run_tool($timeout, @cmd)   runs a command (redis-cli) with stdin
#     /dev/null, killed after $timeout s; returns (exit status, output).
# nginx_edge(http_config => '...', config => '...')   a second nginx with
#     the module under test ($TEST_NGINX_BINARY, $TEST_NGINX_LOAD_MODULES),
#     one process, on a free 127.0.0.1 port, its files in a temp dir;
#     returns { port, pid, dir } once it accepts connections; stopped at
#     END, or by nginx_edge_stop($edge).  $TEST_NGINX_* in the two texts
#     are replaced by their values, as Test::Nginx does.  Its error log is
#     <dir>/error.log.

use strict;
use warnings;

use Carp qw(croak);
use Exporter 'import';
use File::Path qw(remove_tree);
use File::Temp ();
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

use WsgateTest ();

our @EXPORT = qw(
    cluster_start cluster_cmd cluster_cmd_node key_slot cluster_master_of
    cluster_refresh cluster_wait cluster_stop cluster_restart
    cluster_move_slot cluster_wait_replicas cluster_conf run_tool
    nginx_edge nginx_edge_stop cluster_node
);

our $WaitTimeout = 20;      # seconds for a cluster to agree / fail

my $Owner = $$;
my @Clusters;
my @Edges;

# ---------------------------------------------------------------------------
# Key slots.

my @Crc;
for my $i (0 .. 255) {
    my $c = $i << 8;
    for (1 .. 8) {
        $c = $c & 0x8000 ? (($c << 1) ^ 0x1021) & 0xffff : ($c << 1) & 0xffff;
    }
    $Crc[$i] = $c;
}

sub crc16 {
    my $s = shift;
    utf8::encode($s) if utf8::is_utf8($s);
    my $c = 0;
    for my $b (unpack 'C*', $s) {
        $c = (($c << 8) & 0xffff) ^ $Crc[(($c >> 8) ^ $b) & 0xff];
    }
    return $c;
}

sub key_slot {
    my $key = shift;
    my $s = index($key, '{');
    if ($s >= 0) {
        my $e = index($key, '}', $s + 1);
        $key = substr($key, $s + 1, $e - $s - 1) if $e > $s + 1;
    }
    return crc16($key) & 16383;
}

# ---------------------------------------------------------------------------
# Processes.

sub run_tool {
    my ($timeout, @cmd) = @_;
    my $out = File::Temp->new;
    my $pid = fork;
    croak "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out->filename;
        open STDERR, '>&', \*STDOUT;
        exec(@cmd) or POSIX::_exit(127);
    }
    my $deadline = time + $timeout;
    while (waitpid($pid, WNOHANG) == 0) {
        if (time > $deadline) {
            kill 'KILL', $pid;
            waitpid $pid, 0;
            return (-1, "timed out after ${timeout}s: @cmd");
        }
        sleep 0.01;
    }
    my $rc = $? >> 8;
    open my $f, '<', $out->filename or return ($rc, '');
    local $/;
    my $text = <$f>;
    return ($rc, defined $text ? $text : '');
}

sub node_conf {
    my ($c, $n) = @_;
    return ['cluster-enabled yes',
            "cluster-config-file $n->{dir}/nodes.conf",
            "cluster-port $n->{bus_port}",
            "cluster-node-timeout $c->{node_timeout}",
            'cluster-replica-validity-factor 0',
            'cluster-allow-replica-migration no',
            $c->{tls} ? ('tls-cluster yes', 'tls-replication yes') : (),
            @{ $c->{extra_conf} }];
}

sub start_node {
    my ($c, $n) = @_;
    for (1 .. 5) {
        if (!$n->{port}) {
            # the client port, the bus port and the TLS port: distinct
            my @p;
            while (@p < ($c->{tls} ? 3 : 2)) {
                my $p = WsgateTest::free_port();
                push @p, $p unless grep { $_ == $p } @p;
            }
            @$n{qw(port bus_port tls_port)} = @p;
        }
        $n->{conf} = node_conf($c, $n);
        return 1 if WsgateTest::spawn($n);
        # the port was taken meanwhile: other ports, unless it has an
        # identity already (nodes.conf names its ports)
        last if -s "$n->{dir}/nodes.conf";
        $n->{port} = 0;
    }
    die "WsgateCluster: redis-server on port $n->{port} did not start; see "
        . "$n->{dir}/redis.log\n";
}

sub cluster_start {
    my %o = @_;
    my $replicas = $o{replicas} ? 1 : 0;
    my $c = { node_timeout => $o{node_timeout} || 5000,
              extra_conf => [@{ $o{conf} || [] }],
              nodes => [], conn => {}, tls => $o{tls} ? 1 : 0 };
    push @Clusters, $c;

    if ($c->{tls}) {
        # one CA and one certificate for every node: a node verifies its
        # peers on the bus against its tls-ca-cert-file
        $c->{tls_dir} = File::Temp::tempdir('wsgate-cluster-tls-XXXXXX',
                                            TMPDIR => 1, CLEANUP => 0);
        my $files = { dir => $c->{tls_dir} };
        WsgateTest::make_tls_files($files, client => 1);
        $c->{$_} = $files->{$_} for qw(ca wrong_ca cert key);
    }
    for my $i (1 .. 3 * (1 + $replicas)) {
        my $n = WsgateTest::new_instance(name => "CLUSTER$i");
        $n->{$_} = $c->{$_} for $c->{tls} ? qw(ca cert key) : ();
        push @{ $c->{nodes} }, $n;
        start_node($c, $n);
    }
    my ($rc, $out) = run_tool(30, 'redis-cli', '--cluster', 'create',
                              (map { "127.0.0.1:$_->{port}" }
                               @{ $c->{nodes} }),
                              '--cluster-replicas', $replicas,
                              '--cluster-yes');
    die "WsgateCluster: redis-cli --cluster create failed ($rc):\n$out\n"
        if $rc;
    for my $n (@{ $c->{nodes} }) {
        $n->{id} = cluster_cmd_node($c, $n, 'CLUSTER', 'MYID');
    }
    cluster_wait($c, replicas => $replicas);
    return $c;
}

sub cluster_stop {
    my ($c, %o) = @_;
    my @nodes = @{ $o{nodes} || $c->{nodes} };
    for my $n (@nodes) {
        close_conn($c, $n->{port});
        next unless $n->{pid};
        if (($o{signal} || 'TERM') eq 'KILL') {
            kill 'KILL', $n->{pid};
            waitpid $n->{pid}, 0;
            delete $n->{pid};
        } else {
            WsgateTest::stop_instance($n);
        }
    }
}

sub cluster_restart {
    my ($c, %o) = @_;
    my @nodes = grep { !$_->{pid} } @{ $o{nodes} || $c->{nodes} };
    for my $n (@nodes) {
        close_conn($c, $n->{port});
        start_node($c, $n);
    }
    cluster_wait($c) if !defined $o{wait} || $o{wait};
    return $c;
}

sub live_nodes {
    my $c = shift;
    return grep { $_->{pid} && WsgateTest::alive($_->{pid}) } @{ $c->{nodes} };
}

# CLUSTER SLOTS as a canonical string: "start-end master replicas;" ...
sub slots_signature {
    my ($c, $n) = @_;
    my $slots = cluster_cmd_node($c, $n, 'CLUSTER', 'SLOTS');
    my (@parts, $covered);
    for my $r (sort { $a->[0] <=> $b->[0] } @$slots) {
        my ($from, $to, $m, @rep) = @$r;
        $covered += $to - $from + 1;
        push @parts, "$from-$to $m->[1]/"
                     . join(',', sort map { $_->[1] } @rep);
    }
    return (join('; ', @parts), $covered || 0);
}

sub cluster_wait {
    my ($c, %o) = @_;
    my $want = $o{state} || 'ok';
    my $deadline = time + ($o{timeout} || $WaitTimeout);
    my $why;
    while (1) {
        $why = undef;
        my @nodes = $o{nodes} ? @{ $o{nodes} } : live_nodes($c);
        my %sig;
        for my $n (@nodes) {
            my $info = eval { cluster_cmd_node($c, $n, 'CLUSTER', 'INFO') };
            if (!defined $info) {
                $why = "node $n->{port}: " . ($@ || 'no answer');
                last;
            }
            my ($state) = $info =~ /^cluster_state:(\w+)/m;
            if (($state || '') ne $want) {
                $why = "node $n->{port}: cluster_state:" . ($state || '?');
                last;
            }
            next unless $want eq 'ok';
            my ($s, $covered) = eval { slots_signature($c, $n) };
            if (!defined $s || $covered != 16384) {
                $why = "node $n->{port}: " . (defined $s ? "$covered slots"
                                                        : $@);
                last;
            }
            $sig{$s}{ $n->{port} } = 1;
        }
        if (!$why && keys %sig > 1) {
            $why = 'the nodes disagree on the slot map: '
                   . join(' | ', map { join(',', sort keys %{ $sig{$_} })
                                       . ": $_" } sort keys %sig);
        }
        if (!$why && $want eq 'ok') {
            cluster_refresh($c);
            if ($o{replicas} && @{ $c->{replicas} } < @{ $c->{masters} }) {
                $why = 'not every master has its replica yet';
            }
            for my $r (@{ $c->{replicas} }) {
                last if $why;
                my $info = eval { cluster_cmd_node($c, $r, 'INFO',
                                                   'replication') } || '';
                $why = "replica $r->{port}: link to its master not up"
                    unless $info =~ /^master_link_status:up/m;
            }
        }
        return $c unless $why;
        die "WsgateCluster: cluster_state:$want not reached in "
            . ($o{timeout} || $WaitTimeout) . "s: $why\n" if time > $deadline;
        sleep 0.02;
    }
}

sub cluster_refresh {
    my $c = shift;
    my ($any) = live_nodes($c) or croak "cluster_refresh: no live node";
    my %by_id = map { $_->{id} => $_ } grep { $_->{id} } @{ $c->{nodes} };
    my %first;
    for my $line (split /\n/, cluster_cmd_node($c, $any, 'CLUSTER', 'NODES')) {
        my ($id, $addr, $flags, $master, undef, undef, undef, $link, @slots)
            = split / /, $line;
        my $n = $by_id{$id} or next;
        $n->{role} = $flags =~ /\bmaster\b/ ? 'master'
                   : $flags =~ /\bslave\b/ ? 'replica' : 'unknown';
        $n->{failed} = $flags =~ /\bfail\b/ ? 1 : 0;
        $n->{master_id} = $master eq '-' ? undef : $master;
        for my $r (@slots) {
            next unless $r =~ /^(\d+)/;
            $first{$id} = $1 if !defined $first{$id} || $1 < $first{$id};
        }
    }
    $c->{masters} = [sort { $first{ $a->{id} } <=> $first{ $b->{id} } }
                     grep { $_->{role} eq 'master' && !$_->{failed}
                            && defined $first{ $_->{id} } }
                     @{ $c->{nodes} }];
    $c->{replicas} = [grep { $_->{role} eq 'replica' && !$_->{failed} }
                      @{ $c->{nodes} }];
    my @slot;
    for my $r (@{ cluster_cmd_node($c, $any, 'CLUSTER', 'SLOTS') }) {
        my ($from, $to, $m) = @$r;
        @slot[$from .. $to] = ($m->[1]) x ($to - $from + 1);
    }
    $c->{slot} = \@slot;
    return $c;
}

sub cluster_node { node_by_port(@_) }

sub node_by_port {
    my ($c, $port) = @_;
    my ($n) = grep { $_->{port} == $port } @{ $c->{nodes} };
    return $n;
}

# ---------------------------------------------------------------------------
# Commands.

sub close_conn {
    my ($c, $port) = @_;
    my $conn = delete $c->{conn}{$port} or return;
    close $conn->{sock} if $conn->{sock};
}

sub get_conn {
    my ($c, $port) = @_;
    return $c->{conn}{$port} if $c->{conn}{$port};
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $port, Proto => 'tcp',
                                     Timeout => 5)
        or croak "redis_cmd: cannot connect to 127.0.0.1:$port: $!";
    return $c->{conn}{$port} = { sock => $sock, buf => '' };
}

# a pipeline of commands on one node -> the last reply, (value, error);
# an error in any but the last one is returned as the error
sub node_call {
    my ($c, $port, @cmds) = @_;
    my $data = join '', map { WsgateTest::encode_command(@$_) } @cmds;
    my $conn = get_conn($c, $port);
    # a cached connection may have been closed by a restart: once more
    if (!WsgateTest::conn_write($conn, $data)) {
        close_conn($c, $port);
        $conn = get_conn($c, $port);
        WsgateTest::conn_write($conn, $data)
            or croak "redis_cmd: write to port $port failed: $!";
    }
    my ($v, $err);
    for my $i (0 .. $#cmds) {
        my ($rv, $re) = eval { WsgateTest::read_reply($conn) };
        if ($@) {
            close_conn($c, $port);
            croak "redis_cmd(@{ $cmds[$i] }) on port $port: $@";
        }
        $err = $re if defined $re && !defined $err;
        $v = $rv;
    }
    return ($v, $err);
}

sub cluster_cmd_node {
    my ($c, $n, @args) = @_;
    my ($v, $err) = node_call($c, $n->{port}, \@args);
    croak "redis error: $err" if defined $err;
    return $v;
}

my %Everywhere = map { $_ => 1 } qw(FLUSHALL FLUSHDB DBSIZE KEYS INFO CLIENT
                                    CONFIG SCRIPT FUNCTION WAIT PING);

sub command_key {
    my @args = @_;
    my $cmd = uc $args[0];
    if ($cmd eq 'EVAL' || $cmd eq 'EVALSHA' || $cmd eq 'FCALL'
        || $cmd eq 'EVAL_RO' || $cmd eq 'EVALSHA_RO' || $cmd eq 'FCALL_RO')
    {
        return defined $args[2] && $args[2] > 0 ? $args[3] : undef;
    }
    return undef if $Everywhere{$cmd} || $cmd eq 'CLUSTER'
                    || $cmd eq 'MULTI' || $cmd eq 'EXEC';
    return $args[1];
}

sub cluster_cmd {
    my ($c, @args) = @_;
    croak "redis_cmd: no command" unless @args;
    my $key = command_key(@args);
    if (!defined $key) {
        my $cmd = uc $args[0];
        return cluster_cmd_node($c, $c->{masters}[0], @args)
            unless $Everywhere{$cmd};
        my @replies = map { cluster_cmd_node($c, $_, @args) }
                      @{ $c->{masters} };
        return combine($cmd, @replies);
    }

    my $slot = key_slot($key);
    my $port = $c->{slot}[$slot];
    my ($asking, $tryagain) = (0, 0);
    for (my $hops = 0; $hops <= 10; ) {
        my ($v, $err) = node_call($c, $port, $asking ? (['ASKING'], \@args)
                                                     : (\@args));
        return $v unless defined $err;
        if ($err =~ /^MOVED (\d+) [^ ]*:(\d+)$/) {
            $c->{slot}[$1] = $2;
            ($port, $asking) = ($2, 0);
            $hops++;
        } elsif ($err =~ /^ASK (\d+) [^ ]*:(\d+)$/) {
            ($port, $asking) = ($2, 1);
            $hops++;
        } elsif ($err =~ /^TRYAGAIN/ && $tryagain++ < 40) {
            sleep 0.05;
        } else {
            croak "redis error: $err";
        }
    }
    croak "redis_cmd(@args): more than 10 redirections";
}

# INFO of every master as one: in the sections Clients, Stats,
# Commandstats, Errorstats and Keyspace every number is summed over the
# masters (cmdstat_get:calls=3,usec=10,... field by field; avg_ttl and
# the ratios are not sums, the first master's are kept), a line only some
# masters have is kept as it is; every other section is the first
# master's.
my %SumSection = map { $_ => 1 } qw(Clients Stats Commandstats Errorstats
                                     Keyspace);

sub info_merge {
    my @infos = @_;
    my (@order, %val, %sect);
    for my $i (0 .. $#infos) {
        my $section = '';
        for my $line (split /\r?\n/, $infos[$i]) {
            if ($line =~ /^# (\w+)/) {
                $section = $1;
                if (!$sect{"#$section"}++) {
                    push @order, "# $section";
                }
                next;
            }
            next unless $line =~ /^([^:]+):(.*)$/;
            my ($k, $v) = ($1, $2);
            my $id = "$section\0$k";
            if (!exists $val{$id}) {
                push @order, $id;
                $val{$id} = $v;
                next;
            }
            next unless $SumSection{$section};
            $val{$id} = sum_fields($val{$id}, $v);
        }
    }
    my $out = '';
    for my $id (@order) {
        if ($id =~ /^# /) {
            $out .= "\r\n" if length $out;
            $out .= "$id\r\n";
            next;
        }
        my ($s, $k) = split /\0/, $id, 2;
        $out .= "$k:$val{$id}\r\n";
    }
    return $out;
}

sub sum_fields {
    my ($a, $b) = @_;
    return $a + $b if $a =~ /^\d+$/ && $b =~ /^\d+$/;
    my @b = split /,/, $b;
    my %b = map { split /=/, $_, 2 } @b;
    my @out;
    for my $f (split /,/, $a) {
        my ($k, $v) = split /=/, $f, 2;
        if (defined $v && defined $b{$k} && $v =~ /^\d+$/
            && $b{$k} =~ /^\d+$/ && $k ne 'avg_ttl')
        {
            $v += $b{$k};
        }
        push @out, defined $v ? "$k=$v" : $k;
    }
    return join ',', @out;
}

sub combine {
    my ($cmd, @r) = @_;
    return info_merge(@r) if $cmd eq 'INFO';
    return undef unless grep { defined } @r;
    if (!grep { !defined $_ || ref $_ || !/^-?\d+$/ } @r) {
        my $sum = 0;
        $sum += $_ for @r;
        return $sum;
    }
    if (!grep { ref $_ ne 'ARRAY' } @r) {
        return [map { @$_ } @r];
    }
    my %seen = map { (defined $_ ? $_ : '') => 1 } @r;
    return $r[0] if keys %seen == 1;
    return join '', map { defined $_ ? $_ : '' } @r;
}

sub cluster_master_of {
    my ($c, $key) = @_;
    my $slot = cluster_cmd_node($c, $c->{masters}[0], 'CLUSTER', 'KEYSLOT',
                                $key);
    cluster_refresh($c);
    return node_by_port($c, $c->{slot}[$slot]);
}

sub cluster_move_slot {
    my ($c, $slot, $to, %o) = @_;
    cluster_refresh($c);
    my $from = node_by_port($c, $c->{slot}[$slot]);
    croak "cluster_move_slot: slot $slot is on $to->{port} already"
        if $from == $to;
    cluster_cmd_node($c, $to, 'CLUSTER', 'SETSLOT', $slot, 'IMPORTING',
                     $from->{id});
    cluster_cmd_node($c, $from, 'CLUSTER', 'SETSLOT', $slot, 'MIGRATING',
                     $to->{id});
    my @keys;
    if (ref $o{keys}) {
        @keys = @{ $o{keys} };
    } else {
        @keys = @{ cluster_cmd_node($c, $from, 'CLUSTER', 'GETKEYSINSLOT',
                                    $slot, 100000) };
    }
    if (@keys) {
        # under tls-cluster the source connects to the target with TLS
        cluster_cmd_node($c, $from, 'MIGRATE', '127.0.0.1',
                         $c->{tls} ? $to->{tls_port} : $to->{port}, '',
                         0, 5000, 'KEYS', @keys);
    }
    if (!defined $o{finish} || $o{finish}) {
        for my $n ($to, $from, grep { $_ != $to && $_ != $from }
                               @{ $c->{masters} })
        {
            cluster_cmd_node($c, $n, 'CLUSTER', 'SETSLOT', $slot, 'NODE',
                             $to->{id});
        }
    }
    return $from;
}

sub cluster_wait_replicas {
    my $c = shift;
    cluster_refresh($c);
    my %has = map { ($_->{master_id} || '') => 1 } @{ $c->{replicas} };
    for my $m (grep { $has{ $_->{id} } } @{ $c->{masters} }) {
        my $n = cluster_cmd_node($c, $m, 'WAIT', 1, 5000);
        croak "cluster_wait_replicas: no replica of $m->{port} acknowledged"
            unless $n >= 1;
    }
}

sub cluster_conf {
    my ($c, @in) = @_;
    my ($key, @opts) = ('port');
    while (@in) {
        my ($k, $v) = splice @in, 0, 2;
        if ($k eq 'tls_ports') {
            $key = $v ? 'tls_port' : 'port';
            next;
        }
        push @opts, $k, $v;
    }
    croak "cluster_conf: tls_ports => 1 on a cluster without TLS"
        if grep { !$_->{$key} } @{ $c->{masters} };
    return 'wsgate_redis_cluster '
           . join(' ', map { "127.0.0.1:$_->{$key}" } @{ $c->{masters} })
           . WsgateTest::conf_opts(@opts) . ';';
}

# ---------------------------------------------------------------------------
# A second nginx edge.

sub nginx_edge {
    my %o = @_;
    my $dir = File::Temp::tempdir('wsgate-edge-XXXXXX', TMPDIR => 1,
                                  CLEANUP => 0);
    my $bin = $ENV{TEST_NGINX_BINARY} || 'nginx';
    my $modules = join '', map { "load_module $_;\n" }
                           split ' ', $ENV{TEST_NGINX_LOAD_MODULES} || '';
    for my $text ($o{http_config}, $o{config}) {
        $text = '' unless defined $text;
        $text =~ s{\$(TEST_NGINX_[A-Z0-9_]+)}{
            defined $ENV{$1} ? $ENV{$1}
                             : die "nginx_edge: \$$1 is not set\n"
        }ge;
    }
    mkdir "$dir/logs";
    my ($port, $pid) = WsgateTest::nginx_solo(
        name => 'nginx_edge', bin => $bin, dir => $dir, log => 'info',
        modules => $modules, http => sub {
            my $port = shift;
            return <<"_EOC_";
    default_type text/plain;
$o{http_config}
    server {
        listen 127.0.0.1:$port;
$o{config}
    }
_EOC_
        });
    my $edge = { port => $port, pid => $pid, dir => $dir };
    push @Edges, $edge;
    return $edge;
}

sub nginx_edge_stop {
    my $e = shift;
    my $pid = delete $e->{pid} or return;
    WsgateTest::nginx_solo_stop($pid);
}

END {
    if ($$ == $Owner) {
        local $?;
        for my $e (@Edges) {
            nginx_edge_stop($e);
            remove_tree($e->{dir}) if -d $e->{dir};
        }
        for my $c (@Clusters) {
            $c->{conn} = {};
            for my $n (@{ $c->{nodes} }) {
                WsgateTest::stop_instance($n);
                remove_tree($n->{dir}) if $n->{dir} && -d $n->{dir};
            }
            remove_tree($c->{tls_dir}) if $c->{tls_dir} && -d $c->{tls_dir};
        }
    }
}

1;
