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
sub sdk_call {
    my @args = @_;
    my $base = 'http://127.0.0.1:' . server_port_for_client()
               . "/workspaces/$WS_B/";

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
