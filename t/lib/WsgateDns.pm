package WsgateDns;

# A tiny authoritative DNS server for wsgate's suites, so nginx's
# `resolver` can be pointed at names whose answers the suite decides.
# Works the same under our runner (prove -I t/lib) and under upstream
# Test::Nginx::Socket:
#
#     use Test::Nginx::Socket 'no_plan';
#     use lib 't/lib';
#     use WsgateDns;
#     dns_start();            # at file level, before run_tests()
#     ...
#     --- config
#         resolver 127.0.0.1:$TEST_NGINX_DNS_PORT valid=1s;
#
# Needs Net::DNS (Debian: libnet-dns-perl) for packet parsing and
# building.  The server is one forked child on 127.0.0.1 UDP; it dies with
# the test process (PR_SET_PDEATHSIG and a parent check) and is stopped at
# END.
#
# Exported (into the caller, and aliased into Test::Nginx::Util, where
# upstream evaluates `--- init`, and Test::Base::Filter, where `eval`
# sections run):
#
#   dns_start(zone => { name => answer, ... })
#                       starts the server (once; later calls return the
#                       port).  Sets
#                         $ENV{TEST_NGINX_DNS_PORT}  its UDP port
#                         $ENV{TEST_NGINX_DNS_LOG}   the query log file
#                       and returns the port.  `zone` entries are added to
#                       (and override) the default zone below.
#   dns_stop()          stops it (queries then go unanswered).
#   dns_queries()       the queries seen since the last dns_clear(), as a
#                       list of "name TYPE" strings, e.g. "public.test A"
#                       (the name as it was asked, without the final dot).
#   dns_clear()         empties the query log.
#   dns_port()          the port.
#
# The query log is a plain file with one "name TYPE\n" line per query
# received (written before answering), so a suite can also serve it with
# nginx (`location = /dns-log { alias $TEST_NGINX_DNS_LOG; }`) and check
# it with an ordinary request.
#
# Zone: names are matched case-insensitively, without a final dot.  An
# answer is
#   [ [A => '1.2.3.4'], [AAAA => '::1'], ... ]   the records; a query for
#                        a type with no record gets NOERROR and no answer
#   'NXDOMAIN'           rcode NXDOMAIN for every type
#   'SERVFAIL'           rcode SERVFAIL
#   'DROP'               never answered (the client times out)
# Names not in the zone get NXDOMAIN.
#
# The default zone:
#   public.test      A 93.184.216.34
#   meta.test        A 169.254.169.254
#   both.test        A 93.184.216.34, A 10.0.0.5 (RFC 1918)
#   mixed6.test      A 93.184.216.34, AAAA ::1
#   nx.test          NXDOMAIN
#   slow.test        DROP
#   metadata.google.internal, foo.internal, printer.local, metadata
#                    A 93.184.216.34 (names refused by name, whatever
#                    the DNS says)

use strict;
use warnings;

use Carp qw(croak);
use File::Path qw(remove_tree);
use File::Temp ();
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep time);

use WsgateTest ();

our @EXPORT = qw(dns_start dns_stop dns_queries dns_clear dns_port);

our %DefaultZone = (
    'public.test'              => [[A => '93.184.216.34']],
    'meta.test'                => [[A => '169.254.169.254']],
    'both.test'                => [[A => '93.184.216.34'], [A => '10.0.0.5']],
    'mixed6.test'              => [[A => '93.184.216.34'], [AAAA => '::1']],
    'nx.test'                  => 'NXDOMAIN',
    'slow.test'                => 'DROP',
    'metadata.google.internal' => [[A => '93.184.216.34']],
    'foo.internal'             => [[A => '93.184.216.34']],
    'printer.local'            => [[A => '93.184.216.34']],
    'metadata'                 => [[A => '93.184.216.34']],
);

my $Owner = $$;
my ($Pid, $Port, $Dir, $Log);

sub import {
    my $caller = caller;
    no strict 'refs';
    for my $pkg ($caller, 'Test::Nginx::Util', 'Test::Base::Filter') {
        for my $f (@EXPORT) {
            next if defined &{"${pkg}::$f"};
            *{"${pkg}::$f"} = \&{"WsgateDns::$f"};
        }
    }
}

sub dns_port { return $Port }

sub dns_start {
    my %o = @_;
    return $Port if $Pid;

    eval { require Net::DNS; 1 }
        or die "WsgateDns: Net::DNS is needed (Debian: apt-get install "
               . "libnet-dns-perl): $@";

    my %zone = (%DefaultZone, %{ $o{zone} || {} });
    my %norm;
    for my $name (keys %zone) {
        (my $n = lc $name) =~ s/\.\z//;
        $norm{$n} = $zone{$name};
    }

    $Dir ||= File::Temp::tempdir('wsgate-dns-XXXXXX', TMPDIR => 1,
                                 CLEANUP => 0);
    $Log = "$Dir/queries.log";
    open my $touch, '>', $Log or die "WsgateDns: cannot write $Log: $!\n";
    close $touch;

    # bound here, so the port is known and taken before the child runs
    my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                     LocalPort => $Port || 0,
                                     Proto => 'udp')
        or die "WsgateDns: cannot bind a UDP socket on 127.0.0.1: $!\n";
    $Port = $sock->sockport;

    my $pid = fork();
    die "WsgateDns: fork failed: $!\n" unless defined $pid;

    if ($pid == 0) {
        die_with_parent();
        open STDIN, '<', '/dev/null';
        serve($sock, \%norm, $Log);
        POSIX::_exit(0);
    }

    close $sock;
    $Pid = $pid;
    $ENV{TEST_NGINX_DNS_PORT} = $Port;
    $ENV{TEST_NGINX_DNS_LOG} = $Log;
    return $Port;
}

# In the child: ask Linux to send SIGTERM when the test process goes away,
# even by SIGKILL, so an interrupted suite leaves no server behind.
sub die_with_parent {
    my $nr = eval { require 'syscall.ph'; &SYS_prctl() };
    syscall($nr, 1, 15) if $nr;     # prctl(PR_SET_PDEATHSIG, SIGTERM)
    POSIX::_exit(0) if getppid() != $Owner;
}

sub serve {
    my ($sock, $zone, $log) = @_;
    $SIG{TERM} = sub { POSIX::_exit(0) };

    while (1) {
        my $peer = $sock->recv(my $buf, 65535);
        next unless defined $peer && length $buf;

        POSIX::_exit(0) if getppid() != $Owner;

        my $query = eval { Net::DNS::Packet->new(\$buf) };
        next unless $query;
        my ($q) = $query->question;
        next unless $q;

        (my $qname = $q->qname) =~ s/\.\z//;
        my $qtype = $q->qtype;

        if (open my $fh, '>>', $log) {
            print $fh "$qname $qtype\n";
            close $fh;
        }

        my $answer = $zone->{lc $qname};
        $answer = 'NXDOMAIN' unless defined $answer;
        next if !ref $answer && $answer eq 'DROP';

        my $reply = $query->reply;
        $reply->header->aa(1);
        $reply->header->ra(1);

        if (ref $answer) {
            $reply->header->rcode('NOERROR');
            for my $rr (@$answer) {
                my ($type, $addr) = @$rr;
                next unless $type eq $qtype;
                $reply->push(answer => Net::DNS::RR->new(
                    owner => $q->qname, type => $type, class => 'IN',
                    ttl => 1, address => $addr));
            }
        } else {
            $reply->header->rcode($answer);
        }

        $sock->send($reply->data, 0, $peer);
    }
}

sub read_log {
    return () unless $Log && -e $Log;
    open my $fh, '<', $Log or return ();
    my @lines = <$fh>;
    close $fh;
    chomp @lines;
    return @lines;
}

sub dns_queries {
    return read_log();
}

sub dns_clear {
    croak "dns_clear: the DNS server was not started" unless $Log;
    open my $fh, '>', $Log or croak "dns_clear: $Log: $!";
    close $fh;
}

sub dns_stop {
    my $pid = $Pid;
    undef $Pid;
    return unless $pid;
    kill 'TERM', $pid;
    my $deadline = time + 5;
    while (WsgateTest::alive($pid) && time < $deadline) {
        sleep 0.01;
    }
    if (WsgateTest::alive($pid)) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
    }
}

END {
    if ($$ == $Owner) {
        local $?;
        dns_stop();
        remove_tree($Dir) if $Dir && -d $Dir;
    }
}

1;
