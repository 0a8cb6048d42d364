package Test::Nginx::Socket;

# wsgate's own Test::Nginx::Socket-compatible runner: the client half
# (building and sending requests, parsing responses, the response and log
# checks).  Server management lives in Test::Nginx::Util.  Behaviour follows
# /work/shared/test-nginx-format.md (upstream test-nginx 0.33); no upstream
# code is used.  The block parser is Debian's Test::Base.

use strict;
use warnings;

use Test::Base -base;

our $VERSION = '0.01';

use POSIX qw(EAGAIN EINTR EWOULDBLOCK);
use Encode ();
use Time::HiRes qw(sleep time);
use IO::Socket::INET;
use IO::Select;
use List::Util qw(min);
use Digest::MD5 ();
use Digest::SHA ();
use HTTP::Response;
use Test::LongString ();

use Test::Nginx::Util;

our @EXPORT = qw(
    env_to_nginx is_str run_tests repeat_each config_preamble
    worker_connections master_process_enabled no_long_string workers
    master_on master_off log_level no_shuffle no_root_location
    server_name server_addr server_root html_dir server_port
    server_port_for_client timeout check_accum_error_log
    add_block_preprocessor bail_out add_cleanup_handler
    add_response_body_check
);

our @ResponseBodyChecks;
our $TotalConnectingTimeouts = 0;

$RunTestHelper         = \&run_test_helper;
$CheckErrorLog         = \&check_error_log;
$CheckShutdownErrorLog = \&check_shutdown_error_log;

sub add_response_body_check ($) {
    push @ResponseBodyChecks, shift;
}

sub expand_env {
    my ($text, $name) = @_;
    return Test::Nginx::Util::expand_env_in_text(
        $text, $name, $Test::Nginx::Util::CurrentRandPorts ||= {});
}

# ---------------------------------------------------------------------------
# Building requests.

# --- more_headers text -> ("Key: value\r\n"..., is_chunked)
sub parse_more_headers ($) {
    my $in = shift;
    my ($out, $chunked) = ('', 0);
    for my $line (split /\n+/, $in) {
        next if $line =~ /^\s*#/;
        my ($key, $val) = split /:\s*/, $line, 2;
        $key = '' unless defined $key;
        $val = '' unless defined $val;
        $chunked = 1 if lc($key) eq 'transfer-encoding' && $val eq 'chunked';
        $out .= "$key: $val\r\n";
    }
    return ($out, $chunked);
}

# Apply a list of [consumed_length, replacement] edits, in order, to the
# concatenation of @$packets while keeping the packet boundaries: a
# replacement that consumes text from several packets is spread over them
# (each packet gets as many leading characters as it gave up, the last one
# the rest).
sub apply_edits {
    my ($packets, $edits) = @_;
    my @in = map { defined $_ ? $_ : '' } @$packets;
    my @out = ('') x @in;
    my ($k, $pos) = (0, 0);

    for my $edit (@$edits) {
        my ($n, $new) = @$edit;
        while ($n > length($in[$k]) - $pos && $k < $#in) {
            my $left = length($in[$k]) - $pos;
            $out[$k] .= substr($new, 0, $left);
            $new = length($new) > $left ? substr($new, $left) : '';
            $n -= $left;
            $k++;
            $pos = 0;
        }
        $out[$k] .= $new;
        $pos += $n;
    }
    $out[$k] .= substr($in[$k], $pos) if $pos < length $in[$k];
    $out[$_] .= $in[$_] for $k + 1 .. $#in;
    return \@out;
}

# One request in --- request syntax ("METHOD [URI [VERSION]]" then the
# body), possibly split into packets -> the packets to send.
sub build_request {
    my ($name, $hdr, $is_chunked, $conn, $packets) = @_;

    my $text = join '', map { defined $_ ? $_ : '' } @$packets;
    my ($first, $content) = $text =~ /\A([^\n]*\n?)(.*)\z/s;
    if (!length $first) {
        bail_out("$name - Request line should be non-empty");
    }

    $first =~ /^(\s*)(\S+)( *)(?:(\S+)( *))?(?:(\S+)( *))?(\s*)$/
        or bail_out("$name - Request line is not valid. Should be "
                    . "'meth [url [version]]' but got \"$first\".");
    my ($pre, $meth, $sp1, $url, $sp2, $ver, $sp3, $end)
        = ($1, $2, $3, $4, $5, $6, $7, $8);

    my $len_header = '';
    my $new_content = $content;
    if (!$is_chunked && $content ne ''
        && $hdr !~ /(?:^|\n)Content-Length:/)
    {
        $new_content =~ s/^\s+|\s+$//g;
        $len_header = "Content-Length: " . length($new_content) . "\r\n";
    }

    $hdr =~ s/(?<!\r)\n/\r\n/g;
    my $headers = '';
    $headers .= "Host: $ServerName\r\n" if $hdr !~ /(?:^|\n)Host:/i;
    $headers .= "Connection: $conn\r\n" if $hdr !~ /(?:^|\n)Connection/i;
    $headers .= "$hdr$len_header\r\n";

    my @edits = (
        [length $pre, ''],
        [length $meth, "$meth "],
        [length $sp1, ''],
        [defined $url ? length $url : 0, (defined $url ? $url : '/') . ' '],
        [defined $url ? length $sp2 : 0, ''],
        [defined $ver ? length $ver : 0,
         (defined $ver ? $ver : 'HTTP/1.1') . "\r\n"],
        [(defined $ver ? length $sp3 : 0) + length $end, ''],
        [0, $headers],
        [length $content, $new_content],
    );

    return apply_edits($packets, \@edits);
}

# Returns a list of requests; each request is a list of packets
# ({ value => bytes, delay_before => secs }).
sub get_req_from_block ($) {
    my $block = shift;
    my $name = $block->name;

    if (defined(my $raw = $block->raw_request)) {
        if (ref $raw eq 'ARRAY') {
            return [[map { { value => $_ } } @$raw]];
        }
        return [[{ value => $raw }]];
    }

    my $request;
    if (defined $block->request_eval) {
        diag("$name - request_eval DEPRECATED. Use request eval instead.");
        $request = eval $block->request_eval;
        warn $@ if $@;
    } else {
        $request = $block->request;
        if (defined $request && !ref $request) {
            1 while $request =~ s/^\s*#[^\n]+\s+|^\s+//s;
        }
    }

    my $more = $block->more_headers || '';
    my $headers_for = sub {
        my ($i, $what) = @_;
        return parse_more_headers($more) unless ref $more eq 'ARRAY';
        my $h = $more->[$i];
        bail_out("--- more_headers lacks data for the $what") unless defined $h;
        return parse_more_headers($h);
    };

    if (my $pipe = $block->pipelined_requests) {
        if (ref $pipe ne 'ARRAY') {
            bail_out("$name - invalid entries in --- pipelined_requests");
        }
        my $all = '';
        for my $i (0 .. $#$pipe) {
            my ($hdr, $chunked) = $headers_for->($i, "$i pipelined request");
            my $conn = $i == $#$pipe ? 'close' : 'keep-alive';
            my $text = expand_env($pipe->[$i], $name);
            $all .= build_request($name, $hdr, $chunked, $conn, [$text])->[0];
        }
        return [[{ value => $all }]];
    }

    if (!ref $request) {
        my ($hdr, $chunked) = $headers_for->(0, 'request');
        my $out = build_request($name, $hdr, $chunked, 'close', [$request]);
        return [[{ value => $out->[0] }]];
    }

    if (ref $request ne 'ARRAY') {
        bail_out("$name - invalid ---request : MUST be string or array of "
                 . "requests");
    }

    my @reqs;
    for my $i (0 .. $#$request) {
        my ($hdr, $chunked) = $headers_for->($i, "${i}th request");
        my $one = $request->[$i];

        if (!ref $one) {
            my $out = build_request($name, $hdr, $chunked, 'close', [$one]);
            push @reqs, [{ value => $out->[0] }];
            next;
        }

        if (ref $one ne 'ARRAY') {
            bail_out("$name - Invalid syntax. $one should be a string or an "
                     . "array of packets.");
        }

        my @texts = map {
            !ref $_ ? $_
            : ref $_ eq 'HASH' ? $_->{value}
            : bail_out("$name - Invalid syntax. $_ should be a string or "
                       . "hash with value.")
        } @$one;
        my $out = build_request($name, $hdr, $chunked, 'close', \@texts);
        push @reqs, [map {
            ref $one->[$_] ? { %{ $one->[$_] }, value => $out->[$_] }
                           : { value => $out->[$_] }
        } 0 .. $#$out];
    }
    return \@reqs;
}

# ---------------------------------------------------------------------------
# Sending.

sub connect_to_server {
    my ($addr, $port, $timeout, $name) = @_;
    my $total = $TotalConnectingTimeouts ? 20 : 50;
    for my $try (1 .. $total + 1) {
        my $sock = IO::Socket::INET->new(
            PeerAddr => $addr,
            PeerPort => $port,
            Proto    => 'tcp',
            Timeout  => $timeout,
        );
        return $sock if $sock;
        last if $try > $total;
        my $wait = (sleep_time() + sleep_time() * $try) * $try / 2;
        $wait = 1 if $wait > 1;
        if ($wait >= 0.6) {
            warn "$name - Can't connect to $addr:$port: $!\n"
                 . "\tRetry connecting after $wait sec\n";
        }
        sleep $wait;
    }

    my $msg = "$name - Can't connect to $addr:$port: $! (aborted)\n";
    if (++$TotalConnectingTimeouts < 3) {
        fail($msg);
    } else {
        bail_out($msg);
    }
    return undef;
}

# Send one request (a list of packets) on a new connection and read until
# the server closes it or nothing happens for $timeout seconds.
sub send_request ($$$$) {
    my ($req, $middle_delay, $timeout, $block) = @_;
    my $name = $block->name;
    my @bits = @$req;

    my $joined = join '', map { defined $_->{value} ? $_->{value} : '' }
                          @bits;
    my $head_req = $joined =~ /^\s*HEAD\s+/ ? 1 : 0;

    my $addr = $block->server_addr_for_client;
    $addr = $ServerAddr unless defined $addr;

    my $sock = connect_to_server($addr, $ServerPortForClient, $timeout,
                                 $name)
        or return (undef, $head_req);
    $sock->blocking(0);

    local $SIG{PIPE} = 'IGNORE';

    my $resp = '';
    my $wbuf = (shift @bits)->{value};
    $wbuf = '' unless defined $wbuf;
    my $woff = 0;
    my ($reading, $writing) = (1, 1);
    my $sel = IO::Select->new($sock);

    IO: while ($reading || $writing) {
        $! = 0;
        my ($r, $w) = IO::Select->select($reading ? $sel : undef,
                                         $writing ? $sel : undef,
                                         undef, $timeout);
        if (!$r && !$w) {
            next IO if $! == EINTR;
            close $sock;
            if (defined $block->abort) {
                sleep 0.005;
            } else {
                fail("ERROR: client socket timed out - $name\n");
            }
            return ($resp, $head_req);
        }

        if ($w && @$w) {
            while (1) {
                if ($woff < length $wbuf) {
                    my $n = syswrite($sock, $wbuf, length($wbuf) - $woff,
                                     $woff);
                    if (!defined $n) {
                        last if $! == EAGAIN || $! == EWOULDBLOCK;
                        my $err = "write failed: $!";
                        warn "$err\n";
                        $resp = $err unless length $resp;
                        last IO;
                    }
                    $woff += $n;
                    next;
                }

                my $next = shift @bits;
                if (!$next) {
                    $writing = 0;
                    if (defined(my $how = $block->shutdown)) {
                        $how = 1 if $how eq '';
                        shutdown($sock, $how);
                    }
                    last;
                }
                $wbuf = defined $next->{value} ? $next->{value} : '';
                $woff = 0;
                my $wait = defined $next->{delay_before}
                           ? $next->{delay_before} : $middle_delay;
                sleep $wait if $wait;
            }
        }

        if ($r && @$r) {
            while (1) {
                my $n = sysread($sock, my $buf, 4096);
                if (!defined $n) {
                    last if $! == EAGAIN || $! == EWOULDBLOCK;
                    warn "WARNING: $name - HTTP response read failure: $!";
                    last IO;
                }
                last IO if $n == 0;
                $resp .= $buf;
            }
        }
    }

    close $sock;
    return ($resp, $head_req);
}

# ---------------------------------------------------------------------------
# Parsing responses.
#
# Note: upstream calls Test::Builder->no_ending(1) next to the failures that
# can exceed the plan (timeouts, repeated no_error_log matches, Assertion
# lines, bad chunked data).  We do not: the run fails either way, and this
# way the exit code and the no_plan "1..N" line stay right.

sub decode_chunked {
    my $raw = shift;
    my $decoded = '';
    pos($raw) = 0;
    while (1) {
        if ($raw =~ /\G0[ \t]*\r\n\r\n/gc) {
            my $left = substr($raw, pos($raw));
            return ($decoded, length $left ? $left : undef);
        }
        if ($raw =~ /\G[ \t]*([A-Fa-f0-9]+)[ \t]*\r\n/gc) {
            my $size = hex $1;
            my $at = pos($raw);
            if (length($raw) - $at < $size) {
                return (undef, undef, "invalid chunked data received "
                        . "(not enough octets for the data section)");
            }
            $decoded .= substr($raw, $at, $size);
            pos($raw) = $at + $size;
            if ($raw !~ /\G\r\n/gc) {
                return (undef, undef,
                        "invalid chunked data received (expected CRLF).");
            }
            next;
        }
        if ($raw =~ /\G(.+)/gcs) {
            return (undef, undef, "invalid chunked body received: $1");
        }
        return (undef, undef, "no last chunk found - $raw");
    }
}

# -> (HTTP::Response, raw header text, bytes after this response)
sub parse_response ($$$) {
    my ($name, $raw, $head_req) = @_;

    my $raw_headers = $raw =~ /(.*?\r\n)\r\n/s ? $1 : '';
    my $res = HTTP::Response->parse($raw);

    my $code = $res->code;
    if (defined $code && $code !~ /^\d+$/) {
        undef $code;
        $res->code(undef);
    }
    return ($res, $raw_headers) if $code && ($code == 304 || $code == 101);

    my $te = $res->header('Transfer-Encoding');
    my $len = $res->header('Content-Length');
    my $left;

    if (defined $te && $te eq 'chunked') {
        my $body = $res->content;
        $body = '' unless defined $body;
        my ($decoded, $rest, $err) = decode_chunked($body);
        if (defined $err) {
            fail("$name - $err");
            return;
        }
        $res->content($decoded);
        $left = $rest;

    } elsif (defined $len && $len =~ /^\d+$/) {
        my $body = $res->content;
        $body = '' unless defined $body;
        if (length $body < $len) {
            warn "WARNING: $name - response body truncated: $len expected, "
                 . "but got " . length($body) . "\n" unless $head_req;
        } elsif (length $body > $len) {
            $left = substr($body, $len);
            $res->content(substr($body, 0, $len));
        }
    }

    return ($res, $raw_headers, $left);
}

# ---------------------------------------------------------------------------
# Running one repeat of a block.

sub run_test_helper ($$$) {
    my ($block, $dry_run, $repeated_req_idx) = @_;
    my $name = $block->name;

    my $reqs = get_req_from_block($block);
    bail_out("$name - request empty") unless @$reqs;

    my $timeout = parse_time($block->timeout);
    $timeout = timeout() unless defined $timeout;

    my $pipelined = $block->pipelined_requests;
    my $need_array = $pipelined ? 1 : @$reqs > 1;
    my $ignore = defined $block->ignore_response;
    my $res;
    my $req_idx = 0;

    for my $ri (0 .. $#$reqs) {
        my ($raw, $head_req);
        if ($dry_run) {
            $raw = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
        } else {
            ($raw, $head_req) = send_request($reqs->[$ri],
                                             $block->raw_request_middle_delay,
                                             $timeout, $block);
        }

        # pipelined: several responses to cut out of one byte stream
        my $more = $pipelined ? scalar @$pipelined : 0;

        while (1) {
            $raw = '' unless defined $raw;
            my ($raw_headers, $left);

            if (!$ignore) {
                if (defined $block->http09) {
                    $res = HTTP::Response->new(200, 'OK', [], $raw);
                    $raw_headers = '';
                } else {
                    ($res, $raw_headers, $left)
                        = parse_response($name, $raw, $head_req);
                }
            }

            if (!$more) {
                if (defined $left && length $left) {
                    (my $shown = $left)
                        =~ s/([\0-\037\200-\377])/sprintf('\x{%02x}',ord $1)/eg;
                    warn "WARNING: $name - unexpected extra bytes after last "
                         . "chunk in response: \"$shown\"\n";
                }
            } else {
                $raw = $left;
                $more--;
            }

            if (!$ignore) {
                check_error_code($block, $res, $dry_run, $req_idx,
                                 $need_array);
                check_raw_response_headers($block, $raw_headers, $dry_run,
                                           $req_idx, $need_array);
                check_response_headers($block, $res, $raw_headers, $dry_run,
                                       $req_idx, $need_array);
                transform_response_body($block, $res, $req_idx);
                check_response_body($block, $res, $dry_run, $req_idx,
                                    $repeated_req_idx, $need_array);
            }

            if ($more || $ri < $#$reqs) {
                sleep $block->wait if $block->wait;
                check_error_log($block, $res, $dry_run, $repeated_req_idx,
                                $need_array);
                check_access_log($block, $dry_run, $repeated_req_idx)
                    unless $ignore;
            }

            $req_idx++;
            last unless $more;
        }
    }

    sleep $block->wait if $block->wait;
    check_error_log($block, $res, $dry_run, $repeated_req_idx, $need_array);
    check_access_log($block, $dry_run, $repeated_req_idx) unless $ignore;
}

# An expectation for request $idx: arrays are indexed; a plain value is
# only allowed when the block sends one request.
sub get_indexed_value ($$$$) {
    my ($name, $value, $idx, $need_array) = @_;
    my $is_array = ref $value && ref $value eq 'ARRAY';
    if ($need_array) {
        return $value->[$idx] if $is_array;
        bail_out("$name - You asked for many requests, the expected results "
                 . "should be arrays as well.");
    }
    return $is_array ? $value->[0] : $value;
}

sub check_error_code {
    my ($block, $res, $dry_run, $idx, $need_array) = @_;
    my $name = $block->name;
    my $code = ($res && $res->code) || '';
    SKIP: {
        skip("$name - tests skipped due to $dry_run", 1) if $dry_run;
        if (defined $block->error_code_like) {
            my $v = get_indexed_value($name, $block->error_code_like, $idx,
                                      $need_array);
            like($code, qr/$v/sm, "$name - status code ok");
        } elsif (defined $block->error_code) {
            is($code, get_indexed_value($name, $block->error_code, $idx,
                                        $need_array),
               "$name - status code ok");
        } else {
            is($code, 200, "$name - status code ok");
        }
    }
}

sub check_raw_response_headers {
    my ($block, $raw_headers, $dry_run, $idx, $need_array) = @_;
    my $name = $block->name;
    $raw_headers = '' unless defined $raw_headers;
    for my $kind (qw(like unlike)) {
        my $method = "raw_response_headers_$kind";
        my $spec = $block->$method;
        next unless defined $spec;
        SKIP: {
            skip("$name - $method - tests skipped due to $dry_run", 1)
                if $dry_run;
            my $re = get_indexed_value($name, $spec, $idx, $need_array);
            if ($kind eq 'like') {
                like($raw_headers, qr/$re/s, "$name - raw resp headers like");
            } else {
                unlike($raw_headers, qr/$re/s,
                       "$name - raw resp headers unlike");
            }
        }
    }
}

sub check_response_headers {
    my ($block, $res, $raw_headers, $dry_run, $idx, $need_array) = @_;
    my $name = $block->name;
    $raw_headers = '' unless defined $raw_headers;

    if (defined $block->response_headers) {
        my $pairs = parse_headers(get_indexed_value(
            $name, $block->response_headers, $idx, $need_array));
        for my $pair (@$pairs) {
            my ($key, $val) = @$pair;
            if (!defined $val) {
                SKIP: {
                    skip("$name - response_headers - tests skipped due to "
                         . "$dry_run", 1) if $dry_run;
                    unlike($raw_headers, qr/^\s*\Q$key\E\s*:/ms,
                           "$name - header $key not present in the raw "
                           . "headers");
                }
                next;
            }
            $val =~ s/\$ServerPort\b/$ServerPort/g;
            $val =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
            my $actual = $res ? $res->header($key) : undef;
            $actual = '' unless defined $actual;
            SKIP: {
                skip("$name - response_headers - tests skipped due to "
                     . "$dry_run", 1) if $dry_run;
                is($actual, $val, "$name - header $key ok");
            }
        }

    } elsif (defined $block->response_headers_like) {
        my $pairs = parse_headers(get_indexed_value(
            $name, $block->response_headers_like, $idx, $need_array));
        for my $pair (@$pairs) {
            my ($key, $val) = @$pair;
            $val = '' unless defined $val;
            my $actual = $res ? $res->header($key) : undef;
            $actual = '' unless defined $actual;
            SKIP: {
                skip("$name - response_headers_like - tests skipped due to "
                     . "$dry_run", 1) if $dry_run;
                like($actual, qr/^$val$/, "$name - header $key like ok");
            }
        }
    }
}

sub run_body_filter {
    my ($block, $filter, $content) = @_;
    my $name = $block->name;
    return $filter->($content) if ref $filter eq 'CODE';
    if (ref $filter) {
        bail_out("$name - the --- response_body_filters section only "
                 . "supports subroutine reference values and string values");
    }
    my %simple = (
        md5_hex  => \&Digest::MD5::md5_hex,
        sha1_hex => \&Digest::SHA::sha1_hex,
        uc       => sub { uc $_[0] },
        lc       => sub { lc $_[0] },
        ucfirst  => sub { ucfirst $_[0] },
        lcfirst  => sub { lcfirst $_[0] },
        length   => sub { length $_[0] },
    );
    my $f = $simple{$filter}
        or bail_out("$name - unknown filter, \"$filter\", specified in the "
                    . "--- response_body_filters section");
    return $f->($content);
}

sub transform_response_body {
    my ($block, $res, $idx) = @_;
    return unless defined $res;
    my $filters = $block->response_body_filters;
    return unless defined $filters;
    my $content = $res->content;
    return unless defined $content;

    if (!ref $filters) {
        (my $s = $filters) =~ s/^\s+|\s+$//g;
        $filters = [split /\s+/, $s];
    } elsif (ref $filters ne 'ARRAY') {
        $filters = [$filters];
    }

    if (@$filters && ref $filters->[0] eq 'ARRAY') {
        for my $f (@$filters) {
            bail_out($block->name . " - the --- response_body_filters "
                     . "two-dimensional array must be like [[uc], [lc]]")
                if ref $f ne 'ARRAY';
        }
        $filters = $filters->[$idx];
        bail_out($block->name . " - no --- response_body_filters entry "
                 . "for request $idx") unless defined $filters;
    }

    for my $f (ref $filters eq 'ARRAY' ? @$filters : ($filters)) {
        $content = run_body_filter($block, $f, $content);
    }
    $res->content($content);
}

sub check_response_body {
    my ($block, $res, $dry_run, $idx, $rep, $need_array) = @_;
    my $name = $block->name;

    my $content = $res ? $res->content : undef;
    if (defined $content) {
        $content =~ s/^TE: deflate,gzip;q=0\.3\r\n//gm;
        $content =~ s/^Connection: TE, close\r\n//gm;
    }

    if (defined $block->response_body || defined $block->response_body_eval) {
        my $expected;
        if ($block->response_body_eval) {
            diag("$name - response_body_eval is DEPRECATED. Use "
                 . "response_body eval instead.");
            $expected = eval get_indexed_value(
                $name, $block->response_body_eval, $idx, $need_array);
            warn $@ if $@;
        } else {
            $expected = get_indexed_value($name, $block->response_body,
                                          $idx, $need_array);
        }

        if ($block->charset) {
            Encode::from_to($expected, 'UTF-8', $block->charset);
        }

        if (defined $expected && !ref $expected) {
            $expected = expand_env($expected, $name);
            $expected =~ s/\$ServerPort\b/$ServerPort/g;
            $expected =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
        }

        SKIP: {
            skip("$name - response_body - tests skipped due to $dry_run", 1)
                if $dry_run;
            if (ref $expected) {
                like($content, $expected, "$name - response_body - like "
                     . "(repeated req $rep, req $idx)");
            } else {
                my $desc = "$name - response_body - response is expected "
                           . "(repeated req $rep, req $idx)";
                if ($NoLongString) {
                    is($content, $expected, $desc);
                } else {
                    Test::LongString::is_string($content, $expected, $desc);
                }
            }
        }

    } elsif (defined $block->response_body_like
             || defined $block->response_body_unlike)
    {
        my $type = defined $block->response_body_like ? 'like' : 'unlike';
        my $method = "response_body_$type";
        my $pat = get_indexed_value($name, $block->$method, $idx,
                                    $need_array);
        if (defined $pat && !ref $pat) {
            $pat =~ s/\$ServerPort\b/$ServerPort/g;
            $pat =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
        }
        my $summary = Test::Nginx::Util::trim_text($content);
        $summary = '' unless defined $summary;
        SKIP: {
            skip("$name - response_body_$type - tests skipped due to "
                 . "$dry_run", 1) if $dry_run;
            my $desc = "$name - response_body_$type - response is expected "
                       . "($summary)";
            if ($type eq 'like') {
                like($content, qr/$pat/s, $desc);
            } else {
                unlike($content, qr/$pat/s, $desc);
            }
        }
    }

    for my $check (@ResponseBodyChecks) {
        $check->($block, $res ? $res->content : undef, $idx, $rep, $dry_run);
    }
}

# ---------------------------------------------------------------------------
# Log checks.

sub pattern_list {
    my $pats = shift;
    if (!ref $pats) {
        chomp $pats;
        return [split /\n+/, $pats];
    }
    return [$pats] if ref $pats eq 'Regexp';
    return [@$pats];
}

sub line_matches {
    my ($line, $pat) = @_;
    return $line =~ /$pat/ if ref $pat;
    return index($line, $pat) >= 0;
}

sub value_contains {
    my ($val, $needle) = @_;
    return 0 unless defined $val;
    if (ref $val eq 'ARRAY') {
        for my $v (@$val) {
            return 1 if value_contains($v, $needle);
        }
        return 0;
    }
    return index("$val", $needle) >= 0;
}

sub fmt_str {
    my $s = shift;
    chomp $s;
    $s =~ s/"/\\"/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\n/\\n/g;
    return $s;
}

# One pass per pattern found in some line, one failure per pattern found
# in none.  Passes come out in log-line order, like upstream.
sub check_patterns_present {
    my ($pats, $lines, $dry_run, $skip_what, $pass_fmt, $fail_fmt) = @_;
    my @left = @$pats;
    for my $line (@$lines) {
        for my $pat (@left) {
            next unless defined $pat;
            next unless line_matches($line, $pat);
            SKIP: {
                skip("$skip_what - tests skipped due to $dry_run", 1)
                    if $dry_run;
                pass(sprintf $pass_fmt, $pat);
            }
            undef $pat;
        }
    }
    for my $pat (@left) {
        next unless defined $pat;
        SKIP: {
            skip("$skip_what - tests skipped due to $dry_run", 1) if $dry_run;
            fail(sprintf $fail_fmt, $pat);
        }
    }
}

# One failure per (line, pattern) match, one pass per pattern that matched
# no line.
sub check_patterns_absent {
    my ($pats, $lines, $dry_run, $skip_what, $pass_fmt, $fail_fmt,
        $with_context) = @_;
    my %found;
    for my $i (0 .. $#$lines) {
        my $line = $lines->[$i];
        for my $pat (@$pats) {
            next unless defined $pat;
            next unless line_matches($line, $pat);
            $found{$pat}++;
            SKIP: {
                skip("$skip_what - tests skipped due to $dry_run ($line)", 1)
                    if $dry_run;
                my $msg = sprintf $fail_fmt, fmt_str($pat), fmt_str($line);
                if ($with_context) {
                    my $last = min($i + 10, scalar(@$lines) - 1);
                    $msg .= "\n" . join '', @$lines[$i + 1 .. $last - 1];
                }
                fail($msg);
            }
        }
    }
    for my $pat (@$pats) {
        next if !defined $pat || $found{$pat};
        SKIP: {
            skip("$skip_what - tests skipped due to $dry_run", 1) if $dry_run;
            pass(sprintf $pass_fmt, fmt_str($pat));
        }
    }
}

sub check_access_log {
    my ($block, $dry_run, $rep) = @_;
    my $name = $block->name;
    my $lines;

    if (defined $block->access_log) {
        $lines ||= access_log_data();
        check_patterns_present(
            pattern_list($block->access_log), $lines, $dry_run,
            "$name - access_log",
            "$name - pattern \"%s\" matches a line in access.log (req $rep)",
            "$name - pattern \"%s\" should match a line in access.log "
            . "(req $rep)");
    }

    if (defined $block->no_access_log) {
        $lines ||= access_log_data();
        check_patterns_absent(
            pattern_list($block->no_access_log), $lines, $dry_run,
            "$name - no_access_log",
            "$name - pattern \"%s\" does not match a line in access.log "
            . "(req $rep)",
            "$name - pattern \"%s\" should not match any line in access.log "
            . "but matches line \"%s\" (req $rep)", 1);
    }
}

sub check_error_log {
    my ($block, $res, $dry_run, $rep, $need_array) = @_;
    my $name = $block->name;
    my $lines;
    my %warn_level = map { $_ => 1 } qw(alert crit emerg);

    my $grep_pats = $block->grep_error_log;
    my $grep_pat;
    if (defined $grep_pats) {
        $grep_pat = ref $grep_pats eq 'ARRAY' ? $grep_pats->[$rep]
                                              : $grep_pats;
    } elsif (defined $block->grep_error_log_out) {
        bail_out("$name - No --- grep_error_log defined but "
                 . "--- grep_error_log_out is defined");
    }

    if (defined $grep_pat) {
        my $expected = $block->grep_error_log_out;
        if (!defined $expected) {
            bail_out("$name - No --- grep_error_log_out defined but "
                     . "--- grep_error_log is defined");
        }
        $expected = $expected->[$rep] if ref $expected eq 'ARRAY';
        $expected = expand_env($expected, $name)
            if defined $expected && !ref $expected;

        SKIP: {
            skip("$name - error_log - tests skipped due to $dry_run", 1)
                if $dry_run;
            $lines ||= error_log_data();
            my $matched = '';
            for my $line (@$lines) {
                my $m;
                if (ref $grep_pat) {
                    $m = $& if $line =~ /$grep_pat/;
                } elsif ($line =~ /\Q$grep_pat\E/) {
                    $m = $&;
                }
                $matched .= "$m\n" if defined $m && $m !~ /\n/;
            }
            my $desc = "$name - grep_error_log_out (req $rep)";
            if (ref $expected eq 'Regexp') {
                like($matched, $expected, $desc);
            } elsif ($NoLongString) {
                is($matched, $expected, $desc);
            } else {
                Test::LongString::is_string($matched, $expected, $desc);
            }
        }
    }

    for my $section (qw(error_log no_error_log)) {
        my $pats = $block->$section;
        next unless defined $pats;
        for my $level (keys %warn_level) {
            delete $warn_level{$level} if value_contains($pats, "[$level");
        }
    }

    if (defined $block->error_log) {
        $lines ||= error_log_data();
        check_patterns_present(
            pattern_list($block->error_log), $lines, $dry_run,
            "$name - error_log",
            "$name - pattern \"%s\" matches a line in error.log (req $rep)",
            "$name - pattern \"%s\" should match a line in error.log "
            . "(req $rep)");
    }

    if (defined $block->no_error_log) {
        $lines ||= error_log_data();
        check_patterns_absent(
            pattern_list($block->no_error_log), $lines, $dry_run,
            "$name - no_error_log",
            "$name - pattern \"%s\" does not match a line in error.log "
            . "(req $rep)",
            "$name - pattern \"%s\" should not match any line in error.log "
            . "but matches line \"%s\" (req $rep)", 1);
    }

    if (!$dry_run) {
        $lines ||= error_log_data();
        for my $line (@{ $lines || [] }) {
            for my $level (sort keys %warn_level) {
                if ($line =~ /\[$level\]/) {
                    warn "WARNING: $name - " . fmt_str($line) . "\n";
                }
            }
        }
    }

    for my $line (@{ $lines || [] }) {
        if ($line =~ /\bAssertion .*?failed\b/) {
            (my $l = $line) =~ s/\n\z//;
            fail("$name - $l\n");
        }
    }
}

# --- shutdown_error_log / --- no_shutdown_error_log of a block, checked
# against what nginx logged while stopping.
sub check_shutdown_error_log {
    my ($block, $dry_run) = @_;
    my $name = $block->name;
    my $lines = error_log_data();
    my $dry = $dry_run ? 'dry_run' : 0;

    if (defined $block->no_shutdown_error_log) {
        check_patterns_absent(
            pattern_list($block->no_shutdown_error_log), $lines, $dry,
            "$name - no_shutdown_error_log",
            "$name - pattern \"%s\" does not match a line in error.log",
            "$name - pattern \"%s\" should not match any line in error.log "
            . "but matches line \"%s\"", 0);
    }

    check_patterns_present(
        pattern_list($block->shutdown_error_log), $lines, $dry,
        "$name - shutdown_error_log",
        "$name - pattern \"%s\" matches a line in error.log",
        "$name - pattern \"%s\" should match a line in error.log");

    for my $line (@{ $lines || [] }) {
        if ($line =~ /\bAssertion .*? failed\.$/) {
            (my $l = $line) =~ s/\n\z//;
            fail("$name - $l");
        }
    }
}

1;
