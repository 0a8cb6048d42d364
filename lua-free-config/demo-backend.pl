#!/usr/bin/perl
#
# A stand-in for the workspace platform behind wsgate, for `make demo` and
# the test suites: it answers every request with JSON describing what it
# received, so one can see exactly what wsgate forwarded.
#
#     perl demo-backend.pl [--port N] [--pidfile F] [--exit-with-parent]
#
# The answer:  {"method":..,"path":..,"length":N,"sha256":"<body digest>",
#               "x_workspace_id":..,"x_caller_kind":..,"x_caller_name":..}
# A request header "X-Demo-Status: NNN" makes it answer with that status
# (to play a failing backend), "X-Demo-Delay: 0.5" answer that many seconds
# later (at most 10).  Listens on 127.0.0.1 only.

use strict;
use warnings;

use Digest::SHA qw(sha256_hex);
use IO::Socket::INET;
use POSIX ();

my $port = 8090;
my $pidfile;
my $watch_parent = 0;

while (@ARGV) {
    my $a = shift @ARGV;
    if ($a eq '--port') { $port = shift @ARGV }
    elsif ($a eq '--pidfile') { $pidfile = shift @ARGV }
    elsif ($a eq '--exit-with-parent') { $watch_parent = 1 }
    else { die "usage: $0 [--port N] [--pidfile F] [--exit-with-parent]\n" }
}

my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
                                Proto => 'tcp', Listen => 128,
                                ReuseAddr => 1)
    or die "demo-backend: cannot listen on 127.0.0.1:$port: $!\n";

if ($pidfile) {
    open my $fh, '>', $pidfile or die "demo-backend: $pidfile: $!\n";
    print $fh "$$\n";
    close $fh;
}

$SIG{CHLD} = 'IGNORE';
$SIG{TERM} = sub { unlink $pidfile if $pidfile; exit 0 };

# a test suite that dies hard must not leave the backend behind
if ($watch_parent) {
    my $parent = getppid();
    $SIG{ALRM} = sub {
        exit 0 if getppid() != $parent;
        alarm 1;
    };
    alarm 1;
}

sub json_str {
    my $s = shift;
    return 'null' unless defined $s;
    $s =~ s/(["\\])/\\$1/g;
    $s =~ s/([\x00-\x1f])/sprintf('\\u%04x', ord $1)/ge;
    return qq("$s");
}

sub serve {
    my $c = shift;
    local $/ = "\r\n";

    my $line = <$c>;
    return unless defined $line;
    my ($method, $path) = $line =~ /^(\S+)\s+(\S+)/ or return;

    my %h;
    while (defined(my $l = <$c>)) {
        last if $l eq "\r\n";
        $l =~ s/\r\n$//;
        my ($k, $v) = split /:\s*/, $l, 2;
        next unless defined $v;
        $k = lc $k;
        $h{$k} = exists $h{$k} ? "$h{$k}, $v" : $v;
    }

    my $body = '';
    if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
        while (defined(my $size = <$c>)) {
            $size = hex $size;
            last if $size == 0;
            read($c, my $chunk, $size);
            $body .= $chunk;
            <$c>;
        }
        <$c>;
    } elsif (my $len = $h{'content-length'}) {
        while (length $body < $len) {
            my $n = read $c, my $buf, $len - length $body;
            last unless $n;
            $body .= $buf;
        }
    }

    my $status = ($h{'x-demo-status'} // '') =~ /^([1-5]\d\d)$/ ? $1 : 200;

    if (($h{'x-demo-delay'} // '') =~ /^(\d+(?:\.\d+)?)$/ && $1 <= 10) {
        select(undef, undef, undef, $1);
    }

    my $out = '{' . join(',',
        '"method":' . json_str($method),
        '"path":' . json_str($path),
        '"length":' . length($body),
        '"sha256":' . json_str(sha256_hex($body)),
        '"x_workspace_id":' . json_str($h{'x-workspace-id'}),
        '"x_caller_kind":' . json_str($h{'x-caller-kind'}),
        '"x_caller_name":' . json_str($h{'x-caller-name'})) . "}\n";

    print $c "HTTP/1.1 $status Demo\r\nContent-Type: application/json\r\n"
             . "Content-Length: " . length($out) . "\r\n"
             . "Connection: close\r\n\r\n$out";
}

for (;;) {
    my $c = $srv->accept or next;
    my $pid = fork;
    if (!defined $pid) { close $c; next }
    if ($pid == 0) {
        close $srv;
        serve($c);
        close $c;
        POSIX::_exit(0);
    }
    close $c;
}
