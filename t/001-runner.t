# Self-test of our Test::Nginx::Socket runner (t/lib/Test/Nginx).
#
# Writes small .t files into a temp dir, runs each in a subprocess with
# `perl -I<abs t/lib>`, its own TEST_NGINX_SERVROOT and a free
# TEST_NGINX_SERVER_PORT, and checks that correct files pass with the
# expected number of tests and that each kind of broken expectation is
# reported as a failing test.  No nginx module is needed.
#
# WSGATE_RUNNER_LIB=/other/lib runs the same samples against another
# Test::Nginx (e.g. upstream) to compare behaviour.

use strict;
use warnings;

use Test::More;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Socket::INET;

my $lib = $ENV{WSGATE_RUNNER_LIB}
          || abs_path(File::Spec->catdir(dirname(__FILE__), 'lib'));
my $tmp = tempdir('wsgate-runner-XXXXXX', TMPDIR => 1, CLEANUP => 1);

my $header = <<'_EOC_';
use Test::Nginx::Socket 'no_plan';
no_shuffle();
run_tests();

__DATA__

_EOC_

my $hello_config = <<'_EOC_';
--- config
    location = /t {
        add_header X-Foo bar;
        return 200 "hello\n";
    }
_EOC_

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1)
        or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

# Write $name.t with $text and run it; returns (exit code, output).
sub run_sample {
    my ($name, $text) = @_;
    my $file = "$tmp/$name.t";
    open my $out, '>', $file or die "$file: $!";
    print $out $text;
    close $out;

    local $ENV{TEST_NGINX_SERVROOT} = "$tmp/servroot-$name";
    local $ENV{TEST_NGINX_SERVER_PORT} = free_port();
    local $ENV{TEST_NGINX_NO_SHUFFLE} = 1;
    delete local $ENV{TEST_NGINX_PORT};
    delete local $ENV{TEST_NGINX_CLIENT_PORT};
    delete local $ENV{TEST_NGINX_NO_CLEAN};
    delete local $ENV{TEST_NGINX_LOAD_MODULES};
    delete local $ENV{TEST_NGINX_RANDOMIZE};

    my $output = `cd $tmp && $^X -I$lib $name.t 2>&1`;
    return ($? >> 8, $output);
}

sub count_ok {
    my $output = shift;
    my @ok = $output =~ /^ok \d+/mg;
    return scalar @ok;
}

# A sample that must pass with exactly $tests tests.
sub passes {
    my ($name, $text, $tests) = @_;
    my ($rc, $out) = run_sample($name, $text);
    my $good = $rc == 0 && $out !~ /^not ok/m && count_ok($out) == $tests
               && $out =~ /^1\.\.$tests$/m;
    ok($good, "$name passes with $tests tests") or diag($out);
    return $out;
}

# A sample that must fail, with a failing test whose name matches $what.
sub fails {
    my ($name, $text, $what) = @_;
    my ($rc, $out) = run_sample($name, $text);
    ok($rc != 0 && $out =~ /^not ok \d+ - .*$what/m,
       "$name is reported as a failure ($what)") or diag($out);
    return $out;
}

# --- correct files -------------------------------------------------------

my $good = passes('good', $header . <<'_EOC_' . $hello_config . <<'_EOC_', 10);
=== TEST 1: hello
_EOC_
--- request
GET /t
--- error_code: 200
--- response_headers
X-Foo: bar
!X-Bar
--- response_body
hello
--- no_error_log
[error]



=== TEST 2: body like and a 404 error log line
--- config
    location = /t { return 200 "hello\n"; }
--- request
GET /missing.html
--- error_code: 404
--- response_body_like: 404 Not Found
--- error_log
open()
No such file or directory
--- no_error_log
[crit]
_EOC_

like($good, qr/^ok \d+ - good\.t TEST 1: hello - header X-Foo ok$/m,
     'test names are "$0 $blockname - check"');

# repeat_each(2) doubles everything; request eval arrays count per request;
# SKIP drops a block, LAST drops the blocks after it.
passes('counts', <<'_EOC_', 2 * (1 + 4 + 3));
use Test::Nginx::Socket;
repeat_each(2);
plan tests => repeat_each() * (1 + 4 + 3);
run_tests();

__DATA__

=== TEST 1: status only
--- config
    location = /t { return 200; }
--- request
GET /t



=== TEST 2: skipped
--- SKIP
--- config
    location = /t { return 200; }
--- request
GET /t



=== TEST 3: two requests
--- config
    location = /a { return 200 "a"; }
    location = /b { return 404; }
--- request eval
["GET /a", "GET /b"]
--- error_code eval
[200, 404]
--- response_body eval
["a", qr/Not Found/]



=== TEST 4: POST body is trimmed and counted
--- config
    location = /p {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- request
POST /p

  a
b

--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query eval: qr/\r\nContent-Length: 3\r\n\r\na\nb\z/
--- tcp_reply eval
"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"
--- response_body chomp
ok
--- LAST



=== TEST 5: after LAST
--- config
    location = /t { return 500; }
--- request
GET /t
_EOC_

my $only = passes('only', $header . <<'_EOC_', 1);
=== TEST 1: not run
--- config
    location = /t { return 500; }
--- request
GET /t



=== TEST 2: the only one
--- ONLY
--- config
    location = /t { return 200; }
--- request
GET /t
_EOC_
like($only, qr/I found ONLY/, 'ONLY is announced');

# --- each broken expectation fails ----------------------------------------

my $hello_req = $hello_config . "--- request\nGET /t\n";

fails('bad_status', $header . "=== TEST 1: status\n" . $hello_req
                    . "--- error_code: 404\n",
      'status code ok');

fails('bad_body', $header . "=== TEST 1: body\n" . $hello_req
                  . "--- response_body\nhellO\n",
      'response_body - response is expected');

fails('bad_body_like', $header . "=== TEST 1: body like\n" . $hello_req
                       . "--- response_body_like: ^bye\n",
      'response_body_like - response is expected');

fails('bad_header', $header . "=== TEST 1: header value\n" . $hello_req
                    . "--- response_headers\nX-Foo: baz\n",
      'header X-Foo ok');

fails('present_header', $header . "=== TEST 1: header absent\n" . $hello_req
                        . "--- response_headers\n!X-Foo\n",
      'header X-Foo not present in the raw headers');

fails('missing_error_log', $header . "=== TEST 1: error log\n" . $hello_req
                           . "--- error_log\nno such line in the log\n",
      'should match a line in error.log');

fails('unexpected_log_line', $header . <<'_EOC_',
=== TEST 1: no_error_log
--- config
    location = /t { return 200; }
--- request
GET /missing.html
--- error_code: 404
--- no_error_log
No such file or directory
_EOC_
      'should not match any line in error.log');

fails('client_timeout', $header . <<'_EOC_',
=== TEST 1: incomplete request, no answer
--- config
    location = /t { return 200; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\n"
--- timeout: 300ms
_EOC_
      'ERROR: client socket timed out');

# block-form error_code carries a newline and cannot match (upstream too)
fails('error_code_block_form', $header . "=== TEST 1: block form\n"
                               . $hello_req . "--- error_code\n200\n",
      'status code ok');

# --- must_die, both ways, and the bail-out on a broken config -------------

my $bad_config = <<'_EOC_';
--- config
    no_such_directive_here on;
_EOC_

passes('must_die_ok', $header . "=== TEST 1: must die\n" . $bad_config
                      . "--- must_die\n--- error_log\n"
                      . "unknown directive \"no_such_directive_here\"\n", 2);

fails('must_die_bad', $header . "=== TEST 1: must die but starts\n"
                      . $hello_config . "--- must_die\n",
      'die as expected');

{
    my ($rc, $out) = run_sample('bail', $header . "=== TEST 1: broken\n"
                                . $bad_config . "--- request\nGET /t\n");
    ok($rc == 255 && $out =~ /^Bail out!.*Cannot start nginx/m,
       'a config that does not start bails out') or diag($out);
}

# --- the generated nginx.conf ---------------------------------------------

{
    my $conf = do {
        open my $in, '<', "$tmp/servroot-good/conf/nginx.conf" or die $!;
        local $/;
        <$in>;
    };
    my @order = map { index($conf, $_) } (
        'worker_processes  1;', 'daemon on;', 'master_process off;',
        'error_log ', 'pid ', 'env LD_PRELOAD;', 'http {',
        'access_log ', 'default_type text/plain;', 'server {', 'listen ',
        "server_name     'localhost';", 'client_max_body_size 30M;',
        'location = /t', 'location / {', 'events {', 'accept_mutex off;',
        'worker_connections  64;', 'env ASAN_OPTIONS;');
    ok(!grep({ $_ < 0 } @order)
       && join(',', @order) eq join(',', sort { $a <=> $b } @order),
       'nginx.conf has the upstream layout') or diag($conf);
    if ($> == 0) {
        like($conf, qr/\nuser root;\n\s*\z/, 'user root; last when root');
    } else {
        unlike($conf, qr/^user /m, 'no user line when not root');
    }
}

done_testing();
