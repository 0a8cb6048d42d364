# vi:filetype=perl
#
# A2A end to end with a real client and server: the JavaScript A2A SDK
# (@a2a-js/sdk, installed by `npm ci` from t/a2a/package-lock.json).  The
# SDK client discovers the agent card through nginx and sends message/send
# through nginx + wsgate to an SDK server whose agent replies with the
# caller headers it received.
#
# Each block's --- init runs the client (t/a2a/client.mjs) once nginx is
# up and stores what it printed, the agent's reply or the SDK's error, in
# html/sdk.txt; the block's request then fetches that file, so the checks
# below compare the SDK client's own output.
#
# Streaming (SSE): the same server also runs a streaming agent
# (capabilities.streaming: true) that nginx serves as workspace $WS_C.
# Its task's events are spaced out in time and stamped with when the agent
# produced them; the client notes when each one arrived, and says
# "unbuffered: first=yes" when the first event arrived before the agent
# produced the last one, "each=yes" when every event arrived before the
# agent produced the next one (after a pause of 300 ms or more).  An edge
# that buffers the response delivers everything at the end: first=no
# each=no, as the location for $WS_D (proxy_buffering on) shows, while
# $WS_E, the same with proxy_buffering off, does not buffer.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use WsgateTest;

use Cwd qw(abs_path);
use IO::Select;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

our $WS_A  = '0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01';
our $WS_B  = '5d0f8a4e-1c2b-4a6d-8e9f-0a1b2c3d4e5f';
our $WS_C  = '9e2d4b6a-7c1f-4d3e-8a5b-2f6c0e1d3a4b';     # streaming agent
our $WS_D  = 'c4a1e7d2-5b3f-4e6a-9d8c-7b0a2e4f6c1d';     # same, buffered
our $WS_E  = '3f8b6d0e-2a4c-4b1d-a7e9-5c3d1f0b8e2a';     # same, HTTP/1.0
our $TOK_A = 'tA3vQm9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';
our $TOK_S = 'sYsRc9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNcEx';

# uuid.uuid5(uuid.NAMESPACE_URL, 'system:restart-context')
our $ID_RESTART = '1a6dd07d-3c32-5fad-a541-9b52f879b82d';

our $Dir = abs_path('t/a2a') or die "t/a2a: $!\n";

# ---------------------------------------------------------------------------
# Node.js and the SDK.  Missing tools fail the suite: a skip would hide it.

my $node_version = `node --version 2>/dev/null`;
die "055-a2a-sdk.t: node not found (make deps installs nodejs)\n"
    unless defined $node_version && $node_version =~ /^v(\d+)\./;
die "055-a2a-sdk.t: node $node_version is too old, 18 or later needed\n"
    if $1 < 18;

# `make test` runs `npm ci` in t/a2a first; do it here when that was not
# done (or the lock file changed since), so the suite also runs alone.
{
    my $installed = "$Dir/node_modules/.package-lock.json";
    if (!-e "$Dir/node_modules/\@a2a-js/sdk/package.json" || !-e $installed
        || -M "$Dir/package-lock.json" < -M $installed)
    {
        system('sh', '-c', "cd '$Dir' && npm ci --no-audit --no-fund "
                           . "--loglevel=error >&2") == 0
            or die "055-a2a-sdk.t: npm ci in $Dir failed\n";
    }
}

# ---------------------------------------------------------------------------
# The SDK agent server, on a free port, for the whole file.

our $A2A_PORT;
our $ServerPid;
my $Owner = $$;

sub start_agent {
    my $base = 'http://127.0.0.1:' . server_port_for_client()
               . "/workspaces/$WS_B/";

    for (1 .. 5) {
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => 0, Listen => 1)
            or die "055-a2a-sdk.t: no free port: $!\n";
        my $port = $s->sockport;
        close $s;

        pipe(my $r, my $w) or die "pipe: $!\n";
        my $pid = fork();
        die "fork: $!\n" unless defined $pid;

        if ($pid == 0) {
            close $r;
            chdir $Dir or POSIX::_exit(127);
            open STDIN, '<', '/dev/null';
            open STDOUT, '>&', $w;
            exec('node', 'server.mjs', $port, $base) or POSIX::_exit(127);
        }

        close $w;
        my $sel = IO::Select->new($r);
        my $deadline = time + 30;
        my $line = '';

        while (time < $deadline && $line !~ /\n/) {
            last unless $sel->can_read($deadline - time);
            my $n = sysread($r, my $buf, 256);
            last unless $n;
            $line .= $buf;
        }

        if ($line =~ /^listening $port$/m) {
            $A2A_PORT = $port;
            $ServerPid = $pid;
            return;
        }

        kill 'TERM', $pid;
        waitpid($pid, 0);
    }

    die "055-a2a-sdk.t: the SDK agent server (t/a2a/server.mjs) did not "
        . "start\n";
}

END {
    if ($ServerPid && $$ == $Owner) {
        local $?;
        kill 'TERM', $ServerPid;
        my $deadline = time + 5;
        sleep 0.05 while waitpid($ServerPid, WNOHANG) == 0
                         && time < $deadline;
        if (kill 0, $ServerPid) {
            kill 'KILL', $ServerPid;
            waitpid($ServerPid, 0);
        }
    }
}

# Runs the SDK client against nginx and leaves its output in html/sdk.txt
# for the block's request.  Called from --- init, after nginx started.
# sdk_call talks to the echo agent ($WS_B), sdk_stream(<workspace>, ...)
# to the streaming agent under that workspace's path.
sub sdk_call {
    sdk_run($WS_B, @_);
}

sub sdk_stream {
    sdk_run(@_);
}

sub sdk_run {
    my ($ws, @args) = @_;
    my $base = 'http://127.0.0.1:' . server_port_for_client()
               . "/workspaces/$ws/";

    my $out = '';
    my $pid = open(my $fh, '-|');
    die "fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        chdir $Dir or POSIX::_exit(127);
        open STDIN, '<', '/dev/null';
        exec('timeout', '30', 'node', 'client.mjs', $base, @args)
            or POSIX::_exit(127);
    }

    {
        local $/;
        $out = <$fh>;
    }
    close $fh;
    $out = "client exited with $?\n" if !defined $out || $out eq '';

    my $file = html_dir() . '/sdk.txt';
    open my $o, '>', $file or die "$file: $!\n";
    print $o $out;
    close $o;
}

start_agent();

redis_flush();
seed_token($TOK_A, ws => $WS_A);
seed_token($TOK_S, name => 'system:restart-context');

# nginx's own debug lines carry the Authorization header
log_level('info');

our $HttpConfig = <<"_EOC_";
    wsgate_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} timeout=2s;
_EOC_

# no proxy_set_header: wsgate rewrites the caller headers itself
our $Config = <<"_EOC_";
    location = /workspaces/$WS_B/.well-known/agent-card.json {
        proxy_pass http://127.0.0.1:$A2A_PORT/.well-known/agent-card.json;
    }

    location = /workspaces/$WS_B/a2a {
        wsgate_auth on;
        wsgate_a2a on;
        wsgate_a2a_validate on;
        proxy_pass http://127.0.0.1:$A2A_PORT/a2a;
    }

    # The streaming agent, served as $WS_C (as lua-free-config/gateway.conf
    # serves A2A), $WS_D (buffered) and $WS_E (unbuffered, HTTP/1.0); its
    # card names the a2a URL under the prefix given here.
    location = /workspaces/$WS_C/.well-known/agent-card.json {
        proxy_set_header X-Forwarded-Prefix /workspaces/$WS_C/;
        proxy_pass http://127.0.0.1:$A2A_PORT/stream/.well-known/agent-card.json;
    }

    location = /workspaces/$WS_D/.well-known/agent-card.json {
        proxy_set_header X-Forwarded-Prefix /workspaces/$WS_D/;
        proxy_pass http://127.0.0.1:$A2A_PORT/stream/.well-known/agent-card.json;
    }

    location = /workspaces/$WS_E/.well-known/agent-card.json {
        proxy_set_header X-Forwarded-Prefix /workspaces/$WS_E/;
        proxy_pass http://127.0.0.1:$A2A_PORT/stream/.well-known/agent-card.json;
    }

    location = /workspaces/$WS_C/a2a {
        wsgate_auth on;
        wsgate_a2a on;
        wsgate_a2a_validate on;
        # Streaming (message/stream, tasks/resubscribe answer with
        # Server-Sent Events): every event goes to the client as the agent
        # sends it, and a quiet agent keeps its stream open for 5 minutes.
        # HTTP/1.1 to the agent (chunked responses, keepalive), without the
        # "Connection: close" nginx sends by default.
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_buffering off;
        proxy_read_timeout 300s;
        # The SDK's server sends "X-Accel-Buffering: no", which would turn
        # buffering off by itself: ignored here, so that this test shows
        # what proxy_buffering off does for an agent that does not send it.
        proxy_ignore_headers X-Accel-Buffering;
        proxy_pass http://127.0.0.1:$A2A_PORT/stream/a2a;
    }

    # The client must notice an edge that buffers.  $WS_D and $WS_E differ
    # only in proxy_buffering, with HTTP/1.0 to the agent (set, since
    # nginx 1.29 defaults to 1.1): the response is not chunked, so with buffering on nginx
    # keeps it until the agent ends it (buffers far larger than the whole
    # stream: nothing leaves early because a buffer filled up).  Not with
    # HTTP/1.1: nginx then hands on each complete chunk as it arrives, even
    # with proxy_buffering on (the SDK's server sends one chunk per event),
    # which is why the edge relies on proxy_buffering off, not on that.
    location = /workspaces/$WS_D/a2a {
        wsgate_auth on;
        wsgate_a2a on;
        wsgate_a2a_validate on;
        proxy_http_version 1.0;
        proxy_buffering on;
        proxy_buffer_size 64k;
        proxy_buffers 4 64k;
        proxy_busy_buffers_size 64k;
        proxy_ignore_headers X-Accel-Buffering;
        proxy_pass http://127.0.0.1:$A2A_PORT/stream/a2a;
    }

    location = /workspaces/$WS_E/a2a {
        wsgate_auth on;
        wsgate_a2a on;
        wsgate_a2a_validate on;
        proxy_http_version 1.0;
        proxy_buffering off;
        proxy_buffer_size 64k;
        proxy_buffers 4 64k;
        proxy_busy_buffers_size 64k;
        proxy_ignore_headers X-Accel-Buffering;
        proxy_pass http://127.0.0.1:$A2A_PORT/stream/a2a;
    }

    location = /sdk.txt {
        default_type text/plain;
    }
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a workspace caller: the agent sees the token's workspace
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::sdk_call($main::TOK_A);
--- request
GET /sdk.txt
--- response_body eval
"reply: id=$::WS_A kind=workspace name=- lines=1/1/0\n"
--- no_error_log
[error]



=== TEST 2: a workspace caller claiming itself, with forged caller headers
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::sdk_call($main::TOK_A, uc $main::WS_A, '--forge');
--- request
GET /sdk.txt
--- response_body eval
"reply: id=$::WS_A kind=workspace name=- lines=1/1/0\n"



=== TEST 3: a system caller is rewritten to its UUID
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::sdk_call($main::TOK_S, 'system:restart-context', '--forge');
--- request
GET /sdk.txt
--- response_body eval
"reply: id=$::ID_RESTART kind=system name=system:restart-context lines=1/1/1\n"
--- no_error_log
[error]



=== TEST 4: a system caller without a claim
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::sdk_call($main::TOK_S);
--- request
GET /sdk.txt
--- response_body eval
"reply: id=$::ID_RESTART kind=system name=system:restart-context lines=1/1/1\n"



=== TEST 5: a workspace token forging system:restart-context is refused
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::sdk_call($main::TOK_A, 'system:restart-context');
--- request
GET /sdk.txt
--- response_body
error: HTTP error for message/send! Status: 403 Forbidden. Response: {"error":"invalid caller ID"}
--- error_log
forged caller "system:restart-context" refused from 127.0.0.1



=== TEST 6: a workspace token claiming another workspace is refused
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::sdk_call($main::TOK_A, $main::WS_B);
--- request
GET /sdk.txt
--- response_body
error: HTTP error for message/send! Status: 401 Unauthorized. Response: {"error":"invalid workspace auth token"}



=== TEST 7: a system token claiming another system caller is refused
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::sdk_call($main::TOK_S, 'system:scheduler');
--- request
GET /sdk.txt
--- response_body
error: HTTP error for message/send! Status: 403 Forbidden. Response: {"error":"invalid caller ID"}
--- error_log
forged caller "system:scheduler" refused



=== TEST 8: a workspace caller streams: every event, one by one
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::sdk_stream($main::WS_C, $main::TOK_A, '--stream');
--- request
GET /sdk.txt
--- response_body eval
"stream: task(submitted) status-update(working) artifact-update(part-1) "
. "artifact-update(part-2) artifact-update(part-3) "
. "status-update(completed,final)\n"
. "reply: id=$::WS_A kind=workspace name=- lines=1/1/0\n"
. "unbuffered: first=yes each=yes\n"
--- no_error_log
[error]



=== TEST 9: a system caller streams, rewritten to its UUID
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::sdk_stream($main::WS_C, $main::TOK_S, 'system:restart-context',
                 '--forge', '--stream');
--- request
GET /sdk.txt
--- response_body eval
"stream: task(submitted) status-update(working) artifact-update(part-1) "
. "artifact-update(part-2) artifact-update(part-3) "
. "status-update(completed,final)\n"
. "reply: id=$::ID_RESTART kind=system name=system:restart-context "
. "lines=1/1/1\n"
. "unbuffered: first=yes each=yes\n"
--- no_error_log
[error]



=== TEST 10: a workspace caller drops its stream and resubscribes
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::sdk_stream($main::WS_C, $main::TOK_A, '--resubscribe');
--- request
GET /sdk.txt
--- response_body eval
"stream: task(submitted) status-update(working) dropped\n"
. "resubscribe: task(working) artifact-update(part-1) "
. "artifact-update(part-2) artifact-update(part-3) "
. "status-update(completed,final)\n"
. "reply: id=$::WS_A kind=workspace name=- lines=1/1/0\n"
. "resubscribed by: id=$::WS_A kind=workspace name=- lines=1/1/0\n"
. "unbuffered: first=yes each=yes\n"
--- error_log
client prematurely closed connection, so upstream connection is closed too
--- no_error_log
[error]



=== TEST 11: a system caller drops its stream and resubscribes
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::sdk_stream($main::WS_C, $main::TOK_S, 'system:restart-context',
                 '--forge', '--resubscribe');
--- request
GET /sdk.txt
--- response_body eval
"stream: task(submitted) status-update(working) dropped\n"
. "resubscribe: task(working) artifact-update(part-1) "
. "artifact-update(part-2) artifact-update(part-3) "
. "status-update(completed,final)\n"
. "reply: id=$::ID_RESTART kind=system name=system:restart-context "
. "lines=1/1/1\n"
. "resubscribed by: id=$::ID_RESTART kind=system "
. "name=system:restart-context lines=1/1/1\n"
. "unbuffered: first=yes each=yes\n"
--- error_log
client prematurely closed connection, so upstream connection is closed too
--- no_error_log
[error]



=== TEST 12: with proxy_buffering on, the client sees the buffering
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::sdk_stream($main::WS_D, $main::TOK_A, '--stream');
--- request
GET /sdk.txt
--- response_body eval
"stream: task(submitted) status-update(working) artifact-update(part-1) "
. "artifact-update(part-2) artifact-update(part-3) "
. "status-update(completed,final)\n"
. "reply: id=$::WS_A kind=workspace name=- lines=1/1/0\n"
. "unbuffered: first=no each=no\n"
--- no_error_log
[error]



=== TEST 13: the same location with proxy_buffering off does not buffer
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::sdk_stream($main::WS_E, $main::TOK_A, '--stream');
--- request
GET /sdk.txt
--- response_body eval
"stream: task(submitted) status-update(working) artifact-update(part-1) "
. "artifact-update(part-2) artifact-update(part-3) "
. "status-update(completed,final)\n"
. "reply: id=$::WS_A kind=workspace name=- lines=1/1/0\n"
. "unbuffered: first=yes each=yes\n"
--- no_error_log
[error]
