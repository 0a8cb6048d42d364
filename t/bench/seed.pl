#!/usr/bin/perl
#
# Seeds workspace tokens for t/bench/run.sh, by the schema of
# redis/README.md ("Issue a workspace token"), each in its own workspace:
#
#     HSET wsgate:token:<sha256 hex> ws <uuid> kind workspace created_ms <ms>
#     SADD wsgate:ws:{<uuid>}:tokens <sha256 hex>
#
#     seed.pl <count> <tokens file> [prefix] | redis-cli -p PORT --pipe
#
# The tokens (32 bytes from /dev/urandom, base64url without padding) go to
# the tokens file, one a line, for the wrk script; the commands go to
# stdout in Redis's protocol, for `redis-cli --pipe`.

use strict;
use warnings;
use Digest::SHA qw(sha256_hex);
use MIME::Base64 qw(encode_base64);
use Time::HiRes qw(time);

my ($count, $file, $prefix) = @ARGV;
die "usage: seed.pl <count> <tokens file> [prefix]\n"
    unless defined $file && $count =~ /^[1-9][0-9]*$/;
$prefix //= 'wsgate:';

open my $rnd, '<:raw', '/dev/urandom' or die "/dev/urandom: $!\n";
open my $out, '>', $file or die "$file: $!\n";
binmode STDOUT;

sub bytes {
    my $n = shift;
    my $got = read($rnd, my $buf, $n);
    die "/dev/urandom: short read\n" unless defined $got && $got == $n;
    return $buf;
}

sub resp {
    my $s = '*' . scalar(@_) . "\r\n";
    $s .= '$' . length($_) . "\r\n$_\r\n" for @_;
    return $s;
}

my $now_ms = int(time() * 1000);

for (1 .. $count) {
    my $token = encode_base64(bytes(32), '');
    $token =~ tr{+/}{-_};
    $token =~ s/=+$//;

    my @u = unpack 'C16', bytes(16);
    $u[6] = ($u[6] & 0x0f) | 0x40;      # version 4
    $u[8] = ($u[8] & 0x3f) | 0x80;      # RFC 4122 variant
    my $ws = sprintf '%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-'
                   . '%02x%02x%02x%02x%02x%02x', @u;

    my $digest = sha256_hex($token);
    print $out "$token\n";
    print resp('HSET', "${prefix}token:$digest", 'ws', $ws,
               'kind', 'workspace', 'created_ms', $now_ms);
    print resp('SADD', "${prefix}ws:{$ws}:tokens", $digest);
}

close $out or die "$file: $!\n";
