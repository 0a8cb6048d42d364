# vi:filetype=perl
#
# The same gateway over HTTP/2: auth, register (a body read into memory
# and one spilled to a temporary file), A2A caller rewriting and
# wsgate_status answer as over HTTP/1.1, write the same Redis records, and
# a backend that records raw header lines sees each header wsgate sets
# (X-Workspace-ID, X-Caller-Kind, X-Caller-Name on A2A) exactly once.
#
# The runner speaks HTTP/1.1 only, so the HTTP/2 hop is made inside nginx:
# every block also runs a second server, in http_config, that listens
# with HTTP/2 (cleartext, prior knowledge) and holds the same wsgate
# locations as the main server.  The main server's "location ^~ /h2/"
# strips /h2 and forwards with grpc_pass, which speaks HTTP/2 to its
# upstream and passes any method, header, body and answer through.  Each
# wsgate location adds "X-Hop: $server_protocol" to its answer, so every
# /h2/ request proves that the hop was "HTTP/2.0" (TEST 1 also shows
# $http2 = "h2c"); a hop made over HTTP/1.1 fails those checks.
#
# Redis records are read between a block's requests through redis_probe()
# (t/lib/WsgateHttp.pm): /redis/<COMMAND>/<args> answers the reply.
#
# nginx >= 1.25.1 deprecates "listen ... http2" (a [warn] at start) for
# "http2 on;", which older versions do not know: the server is written
# with whichever the binary under test takes.  From 1.25.1 that server
# also answers HTTP/1.1 on the same port, which is why the hop is checked
# in every answer.  Without ngx_http_v2_module (or with the grpc module
# left out) the file is skipped.

use Test::Nginx::Socket;
use lib 't/lib';
use WsgateTest;
use WsgateHttp;

our $WS    = '0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01';
our $TOK   = 'tA3vQm9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';
our $TOK_S = 'sYsRc9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNcEx';
our $TOK_X = 'unKnoWn9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNc';

# uuid.uuid5(uuid.NAMESPACE_URL, 'system:restart-context') in Python
our $ID_RESTART = '1a6dd07d-3c32-5fad-a541-9b52f879b82d';

our $GOOD = qq({"id":"$WS","url":"https://agent.example.com/a2a",)
            . qq("agent_card":{"name":"agent-1"}});
our $BAD  = qq({"id":"$WS","url":"http://127.0.0.1/a2a",)
            . qq("agent_card":{"name":"agent-1"}});
our $BIG  = qq({"id":"$WS","url":"https://agent.example.com/a2a",)
            . qq("agent_card":{"name":"big","description":")
            . ('x' x (1024 * 1024)) . '"}}';

our $REGFAIL = "wsgate:ws:%7B$WS%7D:regfail";
our $RESTART = "wsgate:ws:%7B$WS%7D:restart";

our $NginxV = do {
    my $bin = $ENV{TEST_NGINX_BINARY} || 'nginx';
    `$bin -V 2>&1`;
};

if ($NginxV !~ /--with-http_v2_module/
    || $NginxV =~ /--without-http_grpc_module/)
{
    plan skip_all => 'nginx without ngx_http_v2_module or the grpc module';
}

plan 'no_plan';

our $H2Listen = do {
    my ($maj, $min, $pat) = $NginxV =~ m{nginx/(\d+)\.(\d+)\.(\d+)}
        or die "090-http2.t: no nginx version in: $NginxV";
    $maj * 1000000 + $min * 1000 + $pat >= 1025001
        ? "listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_2;\n        http2 on;"
        : "listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_2 http2;";
};

sub seed {
    redis_flush();
    seed_token($TOK, ws => $WS, kind => 'workspace');
    seed_token($TOK_S, name => 'system:restart-context');
}

seed();
http_backend();
redis_probe();

# nginx's own debug lines (a --with-debug build) carry the Authorization
# header
log_level('info');

# the wsgate locations, in the main server and in the HTTP/2 server alike
our $Locations = <<'_EOC_';
    location = /hop {
        return 200 "$server_protocol $http2\n";
    }

    location = /auth {
        wsgate_auth on;
        add_header X-Hop $server_protocol always;
        proxy_set_header X-Workspace-ID $wsgate_workspace_id;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }

    location = /registry/register {
        wsgate_auth on;
        wsgate_register on;
        add_header X-Hop $server_protocol always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }

    location = /registry/register-big {
        client_body_buffer_size 8k;
        client_max_body_size 2m;
        wsgate_auth on;
        wsgate_register on;
        add_header X-Hop $server_protocol always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }

    # no proxy_set_header for the caller headers: wsgate rewrites them
    location = /a2a {
        wsgate_auth on;
        wsgate_a2a on;
        add_header X-Hop $server_protocol always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }

    # a backend that records the raw request (--- tcp_listen)
    location = /a2a-raw {
        wsgate_auth on;
        wsgate_a2a on;
        add_header X-Hop $server_protocol always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/backend;
    }

    location ~ ^/workspaces/(?<ws>[^/]+)/state$ {
        wsgate_status $ws;
        add_header X-Hop $server_protocol always;
    }
_EOC_

# the main server: the same locations, the HTTP/2 front, the Redis probe
our $Config = $Locations . <<'_EOC_';

    location ^~ /h2/ {
        client_body_buffer_size 2m;
        rewrite ^/h2(/.*)$ $1 break;
        grpc_pass grpc://127.0.0.1:$TEST_NGINX_RAND_PORT_2;
    }

    location /redis/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_PROBE_PORT/;
    }
_EOC_

sub http_config {
    my $redis = shift || '127.0.0.1:$TEST_NGINX_REDIS_PORT';
    (my $locations = $Locations) =~ s/^/    /mg;
    return <<"_EOC_";
    wsgate_redis $redis timeout=2s;

    server {
        $H2Listen
        server_name h2;
        client_max_body_size 30M;

$locations    }
_EOC_
}

our $HttpConfig = http_config();

# nobody listens on $TEST_NGINX_RAND_PORT_3
our $HttpConfigNoRedis = http_config('127.0.0.1:$TEST_NGINX_RAND_PORT_3');

our $RawReply = "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n";

# A raw request as a backend received it: in its header section (the
# lines up to the first empty one) each named header is on exactly one
# line, in any case (or with "_" for "-"), with exactly this value; a
# name whose value is undef is on no line.
sub header_lines {
    my %want = @_;
    my $re = '';
    for my $name (sort keys %want) {
        (my $n = quotemeta $name) =~ s/\\-/[-_]/g;
        my $other = "(?:(?!(?i:$n)[ \\t]*:)[^\\r\\n]+\\r\\n)*";
        my $line = defined $want{$name}
                   ? "(?i:$n):[ \\t]*\Q$want{$name}\E\\r\\n$other" : '';
        $re .= "(?=[^\\r\\n]+\\r\\n$other$line\\r\\n)";
    }
    return qr/\A$re/;
}

# the client's own copies of the caller headers, each twice, in two cases
our $ForgedCallerHeaders = <<'_EOC_';
X-Caller-Kind: workspace
x-caller-kind: workspace
X-Caller-Name: system:scheduler
x-CALLER-name: system:scheduler
_EOC_

our $StateOnline = qq({"workspace_id":"$WS","state":"online",)
                   . qq("last_failure":null,"restart_at_ms":null});

# what lua-free-config/demo-backend.pl answers: the request it got, its
# body's length and sha256, and the caller headers (repeated ones would
# show joined with ", ")
sub backend_json {
    my ($path, $body, $id, $kind, $name) = @_;
    my $q = sub { defined $_[0] ? '"' . quotemeta($_[0]) . '"' : 'null' };
    my $re = '\\A\\{"method":"(?:POST|GET)","path":"' . quotemeta($path)
             . '","length":' . length($body)
             . ',"sha256":"' . sha256_hex($body) . '"'
             . ',"x_workspace_id":' . $q->($id)
             . ',"x_caller_kind":' . $q->($kind)
             . ',"x_caller_name":' . $q->($name) . '\\}\\n\\z';
    return qr/$re/;
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the /h2/ hop reaches the wsgate server over HTTP/2 (h2c), a direct request over HTTP/1.1
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["GET /h2/hop", "GET /hop"]
--- response_body eval
["HTTP/2.0 h2c\n", "HTTP/1.1 \n"]
--- no_error_log
[error]



=== TEST 2: auth over HTTP/2: a valid token reaches the backend as its workspace, as over HTTP/1.1
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::seed();
--- request eval
["GET /h2/auth", "GET /auth"]
--- more_headers eval
["Authorization: Bearer $::TOK", "Authorization: Bearer $::TOK"]
--- error_code eval
[200, 200]
--- response_headers eval
["X-Hop: HTTP/2.0\nContent-Type: application/json",
 "X-Hop: HTTP/1.1\nContent-Type: application/json"]
--- response_body_like eval
[main::backend_json('/auth', '', $::WS), main::backend_json('/auth', '', $::WS)]
--- no_error_log
[error]



=== TEST 3: auth over HTTP/2: no token is 401 "missing" with WWW-Authenticate: Bearer, as over HTTP/1.1
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["GET /h2/auth", "GET /auth"]
--- error_code eval
[401, 401]
--- response_headers eval
["X-Hop: HTTP/2.0\nWWW-Authenticate: Bearer\nContent-Type: application/json",
 "X-Hop: HTTP/1.1\nWWW-Authenticate: Bearer\nContent-Type: application/json"]
--- response_body eval
['{"error":"missing workspace auth token"}',
 '{"error":"missing workspace auth token"}']



=== TEST 4: auth over HTTP/2: an unknown token is 401 "invalid" with error="invalid_token", as over HTTP/1.1
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["GET /h2/auth", "GET /auth"]
--- more_headers eval
["Authorization: Bearer $::TOK_X", "Authorization: Bearer $::TOK_X"]
--- error_code eval
[401, 401]
--- response_headers eval
["X-Hop: HTTP/2.0\nWWW-Authenticate: Bearer error=\"invalid_token\"\nContent-Type: application/json",
 "X-Hop: HTTP/1.1\nWWW-Authenticate: Bearer error=\"invalid_token\"\nContent-Type: application/json"]
--- response_body eval
['{"error":"invalid workspace auth token"}',
 '{"error":"invalid workspace auth token"}']



=== TEST 5: auth over HTTP/2: Redis unreachable is 503 with Retry-After: 1, as over HTTP/1.1
--- http_config eval: $::HttpConfigNoRedis
--- config eval: $::Config
--- request eval
["GET /h2/auth", "GET /auth"]
--- more_headers eval
["Authorization: Bearer $::TOK", "Authorization: Bearer $::TOK"]
--- error_code eval
[503, 503]
--- response_headers eval
["X-Hop: HTTP/2.0\nRetry-After: 1\nContent-Type: application/json\nWWW-Authenticate:",
 "X-Hop: HTTP/1.1\nRetry-After: 1\nContent-Type: application/json\nWWW-Authenticate:"]
--- response_body eval
['{"error":"auth backend unavailable"}',
 '{"error":"auth backend unavailable"}']



=== TEST 6: register over HTTP/2: a good payload reaches the backend byte for byte and clears the failure record and restart marker, as over HTTP/1.1
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::seed();
--- request eval
["GET /redis/HSET/$::REGFAIL/at_ms/1000/status/500/reason/earlier/source/backend",
 "GET /redis/SET/$::RESTART/900/PX/60000",
 "POST /h2/registry/register\n$::GOOD",
 "GET /redis/EXISTS/$::REGFAIL/$::RESTART",
 "GET /h2/workspaces/$::WS/state",
 "GET /redis/HSET/$::REGFAIL/at_ms/1000/status/500/reason/earlier/source/backend",
 "GET /redis/SET/$::RESTART/900/PX/60000",
 "POST /registry/register\n$::GOOD",
 "GET /redis/EXISTS/$::REGFAIL/$::RESTART",
 "GET /workspaces/$::WS/state"]
--- more_headers eval
["", "", "Authorization: Bearer $::TOK\nContent-Type: application/json", "", "",
 "", "", "Authorization: Bearer $::TOK\nContent-Type: application/json", "", ""]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 200, 200]
--- response_headers eval
["", "", "X-Hop: HTTP/2.0", "", "X-Hop: HTTP/2.0",
 "", "", "X-Hop: HTTP/1.1", "", "X-Hop: HTTP/1.1"]
--- response_body_like eval
[qr/\A4\n\z/, qr/\AOK\n\z/,
 main::backend_json('/registry/register', $::GOOD),
 qr/\A0\n\z/,
 qr/\A\Q$::StateOnline\E\z/,
 qr/\A4\n\z/, qr/\AOK\n\z/,
 main::backend_json('/registry/register', $::GOOD),
 qr/\A0\n\z/,
 qr/\A\Q$::StateOnline\E\z/]
--- no_error_log
[error]



=== TEST 7: register over HTTP/2: a bad payload is 400 with field and reason and writes the same gateway failure record as over HTTP/1.1
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::seed();
--- request eval
["POST /h2/registry/register\n$::BAD",
 "GET /redis/HMGET/$::REGFAIL/at_ms/status/reason/source",
 "GET /redis/PTTL/$::REGFAIL",
 "GET /h2/workspaces/$::WS/state",
 "GET /redis/DEL/$::REGFAIL",
 "POST /registry/register\n$::BAD",
 "GET /redis/HMGET/$::REGFAIL/at_ms/status/reason/source",
 "GET /redis/PTTL/$::REGFAIL",
 "GET /workspaces/$::WS/state"]
--- more_headers eval
["Authorization: Bearer $::TOK\nContent-Type: application/json", "", "", "", "",
 "Authorization: Bearer $::TOK\nContent-Type: application/json", "", "", ""]
--- error_code eval
[400, 200, 200, 200, 200, 400, 200, 200, 200]
--- response_headers eval
["X-Hop: HTTP/2.0\nContent-Type: application/json", "", "",
 "X-Hop: HTTP/2.0\nContent-Type: application/json", "",
 "X-Hop: HTTP/1.1\nContent-Type: application/json", "", "",
 "X-Hop: HTTP/1.1\nContent-Type: application/json"]
--- response_body_like eval
[qr/\A\Q{"error":"invalid register payload","field":"url","reason":"address in a blocked range (loopback)"}\E\z/,
 qr/\A\d{13}\n400\nurl: address in a blocked range \(loopback\)\ngateway\n\z/,
 qr/\A[1-9]\d{0,5}\n\z/,
 qr/\A\Q{"workspace_id":"$::WS","state":"degraded","last_failure":{"at_ms":\E\d{13}\Q,"status":400,"reason":"url: address in a blocked range (loopback)","source":"gateway"},"restart_at_ms":null}\E\z/,
 qr/\A1\n\z/,
 qr/\A\Q{"error":"invalid register payload","field":"url","reason":"address in a blocked range (loopback)"}\E\z/,
 qr/\A\d{13}\n400\nurl: address in a blocked range \(loopback\)\ngateway\n\z/,
 qr/\A[1-9]\d{0,5}\n\z/,
 qr/\A\Q{"workspace_id":"$::WS","state":"degraded","last_failure":{"at_ms":\E\d{13}\Q,"status":400,"reason":"url: address in a blocked range (loopback)","source":"gateway"},"restart_at_ms":null}\E\z/]



=== TEST 8: register over HTTP/2: a 1 MiB payload spilled to a temporary file in the HTTP/2 server reaches the backend intact
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::seed();
--- request eval
"POST /h2/registry/register-big\n$::BIG"
--- more_headers eval
"Authorization: Bearer $::TOK\nContent-Type: application/json"
--- response_headers
X-Hop: HTTP/2.0
--- response_body_like eval
main::backend_json('/registry/register-big', $::BIG)
--- error_log eval
qr{a client request body is buffered to a temporary file.*request: "POST /registry/register-big HTTP/2\.0"}
--- no_error_log
[error]
--- timeout: 10



=== TEST 9: A2A over HTTP/2: a system caller is rewritten; the raw backend request has each caller header once, over forged copies
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /h2/a2a-raw
{}
--- more_headers eval
"Authorization: Bearer $::TOK_S
X-Workspace-ID: system:restart-context
$::ForgedCallerHeaders"
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query_auto_timeout: 0.3
--- tcp_reply eval: $::RawReply
--- tcp_query eval
main::header_lines('X-Workspace-ID' => $::ID_RESTART,
                   'X-Caller-Kind' => 'system',
                   'X-Caller-Name' => 'system:restart-context')
--- response_headers
X-Hop: HTTP/2.0
--- response_body
ok
--- no_error_log
[error]



=== TEST 10: A2A over HTTP/1.1: the same system caller, the same raw backend request
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a-raw
{}
--- more_headers eval
"Authorization: Bearer $::TOK_S
X-Workspace-ID: system:restart-context
$::ForgedCallerHeaders"
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query_auto_timeout: 0.3
--- tcp_reply eval: $::RawReply
--- tcp_query eval
main::header_lines('X-Workspace-ID' => $::ID_RESTART,
                   'X-Caller-Kind' => 'system',
                   'X-Caller-Name' => 'system:restart-context')
--- response_headers
X-Hop: HTTP/1.1
--- response_body
ok
--- no_error_log
[error]



=== TEST 11: A2A over HTTP/2: a workspace caller; the raw backend request has X-Workspace-ID and X-Caller-Kind once, no X-Caller-Name
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /h2/a2a-raw
{}
--- more_headers eval
"Authorization: Bearer $::TOK
X-Workspace-ID: " . uc($::WS) . "
$::ForgedCallerHeaders"
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query_auto_timeout: 0.3
--- tcp_reply eval: $::RawReply
--- tcp_query eval
main::header_lines('X-Workspace-ID' => $::WS,
                   'X-Caller-Kind' => 'workspace',
                   'X-Caller-Name' => undef)
--- response_headers
X-Hop: HTTP/2.0
--- response_body
ok
--- no_error_log
[error]



=== TEST 12: A2A over HTTP/1.1: the same workspace caller, the same raw backend request
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a-raw
{}
--- more_headers eval
"Authorization: Bearer $::TOK
X-Workspace-ID: " . uc($::WS) . "
$::ForgedCallerHeaders"
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query_auto_timeout: 0.3
--- tcp_reply eval: $::RawReply
--- tcp_query eval
main::header_lines('X-Workspace-ID' => $::WS,
                   'X-Caller-Kind' => 'workspace',
                   'X-Caller-Name' => undef)
--- response_headers
X-Hop: HTTP/1.1
--- response_body
ok
--- no_error_log
[error]



=== TEST 13: A2A over HTTP/2: system and workspace callers reach the backend with the same headers as over HTTP/1.1
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["POST /h2/a2a\n{}", "POST /a2a\n{}", "POST /h2/a2a\n{}", "POST /a2a\n{}"]
--- more_headers eval
["Authorization: Bearer $::TOK_S\nX-Workspace-ID: system:restart-context\n$::ForgedCallerHeaders",
 "Authorization: Bearer $::TOK_S\nX-Workspace-ID: system:restart-context\n$::ForgedCallerHeaders",
 "Authorization: Bearer $::TOK\n$::ForgedCallerHeaders",
 "Authorization: Bearer $::TOK\n$::ForgedCallerHeaders"]
--- response_headers eval
["X-Hop: HTTP/2.0", "X-Hop: HTTP/1.1", "X-Hop: HTTP/2.0", "X-Hop: HTTP/1.1"]
--- response_body_like eval
[main::backend_json('/a2a', '{}', $::ID_RESTART, 'system', 'system:restart-context'),
 main::backend_json('/a2a', '{}', $::ID_RESTART, 'system', 'system:restart-context'),
 main::backend_json('/a2a', '{}', $::WS, 'workspace'),
 main::backend_json('/a2a', '{}', $::WS, 'workspace')]
--- no_error_log
[error]



=== TEST 14: A2A over HTTP/2: a workspace token forging a system caller is 403 with the security line
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /h2/a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK\nX-Workspace-ID: system:restart-context"
--- error_code: 403
--- response_headers
X-Hop: HTTP/2.0
Content-Type: application/json
--- raw_response_headers_unlike: (?im)^www-authenticate\s*:
--- response_body chomp
{"error":"invalid caller ID"}
--- error_log
forged caller "system:restart-context" refused



=== TEST 15: A2A over HTTP/2: the forged caller is 403 as over HTTP/1.1, also as a second claim line
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["POST /h2/a2a\n{}", "POST /a2a\n{}", "POST /h2/a2a\n{}", "POST /a2a\n{}"]
--- more_headers eval
["Authorization: Bearer $::TOK\nX-Workspace-ID: system:restart-context",
 "Authorization: Bearer $::TOK\nX-Workspace-ID: system:restart-context",
 "Authorization: Bearer $::TOK\nX-Workspace-ID: $::WS\nx-WORKSPACE-id: system:restart-context",
 "Authorization: Bearer $::TOK\nX-Workspace-ID: $::WS\nx-WORKSPACE-id: system:restart-context"]
--- error_code eval
[403, 403, 403, 403]
--- response_headers eval
["X-Hop: HTTP/2.0", "X-Hop: HTTP/1.1", "X-Hop: HTTP/2.0", "X-Hop: HTTP/1.1"]
--- response_body eval
['{"error":"invalid caller ID"}', '{"error":"invalid caller ID"}',
 '{"error":"invalid caller ID"}', '{"error":"invalid caller ID"}']



=== TEST 16: A2A over HTTP/2: two claim lines, even both right, are 401 as over HTTP/1.1
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["POST /h2/a2a\n{}", "POST /a2a\n{}"]
--- more_headers eval
["Authorization: Bearer $::TOK\nX-Workspace-ID: $::WS\nx-workspace-id: $::WS",
 "Authorization: Bearer $::TOK\nX-Workspace-ID: $::WS\nx-workspace-id: $::WS"]
--- error_code eval
[401, 401]
--- response_headers eval
["X-Hop: HTTP/2.0", "X-Hop: HTTP/1.1"]
--- response_body eval
['{"error":"invalid workspace auth token"}',
 '{"error":"invalid workspace auth token"}']



=== TEST 17: wsgate_status over HTTP/2 answers the same JSON as over HTTP/1.1
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::seed();
redis_cmd('SET', "wsgate:ws:{$::WS}:restart", '1700000000000', 'PX', '60000');
redis_cmd('HSET', "wsgate:ws:{$::WS}:regfail", 'at_ms', '1700000000001',
          'status', '500', 'reason', 'backend answered 500',
          'source', 'backend');
redis_cmd('PEXPIRE', "wsgate:ws:{$::WS}:regfail", '60000');
--- request eval
["GET /h2/workspaces/$::WS/state", "GET /workspaces/$::WS/state",
 "GET /h2/workspaces/not-a-uuid/state", "GET /workspaces/not-a-uuid/state"]
--- error_code eval
[200, 200, 400, 400]
--- response_headers eval
["X-Hop: HTTP/2.0\nContent-Type: application/json",
 "X-Hop: HTTP/1.1\nContent-Type: application/json",
 "X-Hop: HTTP/2.0\nContent-Type: application/json",
 "X-Hop: HTTP/1.1\nContent-Type: application/json"]
--- response_body eval
[qq({"workspace_id":"$::WS","state":"restarting","last_failure":{"at_ms":1700000000001,"status":500,"reason":"backend answered 500","source":"backend"},"restart_at_ms":1700000000000}),
 qq({"workspace_id":"$::WS","state":"restarting","last_failure":{"at_ms":1700000000001,"status":500,"reason":"backend answered 500","source":"backend"},"restart_at_ms":1700000000000}),
 '{"error":"invalid workspace id"}', '{"error":"invalid workspace id"}']
--- no_error_log
[error]
