# vi:filetype=perl
#
# A2A fronting: who may claim which caller in X-Workspace-ID, the 401 and
# 403 answers, system callers rewritten to UUIDs, the caller headers the
# backend sees (whatever the client sent, with no proxy_set_header in the
# configuration), the caller variables, and wsgate_a2a_validate.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use WsgateTest;

our $WS_A   = '0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01';
our $WS_B   = '5d0f8a4e-1c2b-4a6d-8e9f-0a1b2c3d4e5f';
our $TOK_A  = 'tA3vQm9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';
our $TOK_U  = 'uPpErQm9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNa';
our $TOK_S  = 'sYsRc9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNcEx';
our $TOK_SC = 'sChEd9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNcEx';
our $TOK_WH = 'wEbHk9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNcEx';
our $TOK_BC = 'bOtCr9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNcEx';
our $TOK_NL = 'nEwLn9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5bNcEx';
# on a cluster (WSGATE_TEST_CLUSTER=1): a workspace on the third master
our $WS_C   = '7e1d2c3b-4a59-4687-9a0b-1c2d3e4f5001';
our $TOK_C  = 'tCmAsTr900QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq5b';

# uuid.uuid5(uuid.NAMESPACE_URL, name) in Python
our $ID_RESTART = '1a6dd07d-3c32-5fad-a541-9b52f879b82d';  # system:restart-context
our $ID_SCHED   = 'db57ccad-2abd-5fe0-ba3c-84eacd9eafe4';  # system:scheduler
our $ID_GITHUB  = 'bf48cadf-d1ba-5c8f-afc6-c6c7a2933081';  # webhook:github
our $ID_CRON    = 'e50ac6b1-3857-55af-b241-139c3b2dc89b';  # bot:cron
# uuid.uuid5(UUID('9b2f4c1e-0d3a-4e5f-8a6b-7c8d9e0f1a2b'), 'system:restart-context')
our $ID_OWN_NS  = '5eb8e67f-291b-5cdd-96a9-6a5d4ce479f2';
our $ID_MAPPED  = '11111111-2222-4333-8444-555555555555';

redis_flush();
seed_token($TOK_A, ws => $WS_A);
seed_token($TOK_U, ws => uc $WS_B);
seed_token($TOK_S, name => 'system:restart-context');
seed_token($TOK_SC, name => 'system:scheduler');
seed_token($TOK_WH, name => 'webhook:github');
seed_token($TOK_BC, name => 'bot:cron');
seed_token($TOK_NL, name => "system:evil\r\nX-Caller-Kind: workspace");
seed_token($TOK_C, ws => $WS_C);
cluster_spread_ok();

# nginx's own debug lines carry the Authorization header
log_level('info');

our $HttpConfig = <<"_EOC_";
    @{[redis_conf(timeout => '2s')]}
    @{[cache_conf()]}
_EOC_

# no proxy_set_header for the caller headers anywhere: wsgate rewrites them
our $Config = <<'_EOC_';
    location = /a2a {
        wsgate_auth on;
        wsgate_a2a on;
        proxy_pass http://127.0.0.1:$server_port/echo;
    }

    location = /vars {
        wsgate_auth on;
        wsgate_a2a on;
        proxy_set_header X-V "$wsgate_caller_id|$wsgate_caller_name|$wsgate_caller_kind";
        proxy_set_header X-Workspace-ID $http_x_workspace_id;
        proxy_pass http://127.0.0.1:$server_port/echo-vars;
    }

    # a failed backend sends the rewritten request through wsgate again
    location = /a2a-retry {
        wsgate_auth on;
        wsgate_a2a on;
        error_page 502 = @retry;
        proxy_pass http://127.0.0.1:1/dead;
    }

    location @retry {
        rewrite ^ /echo break;
        wsgate_auth on;
        wsgate_a2a on;
        proxy_pass http://127.0.0.1:$server_port;
    }

    location = /echo {
        return 200 "id=$http_x_workspace_id kind=$http_x_caller_kind name=$http_x_caller_name\n";
    }

    location = /echo-vars {
        return 200 "v=$http_x_v id=$http_x_workspace_id kind=$http_x_caller_kind\n";
    }
_EOC_

# wsgate_a2a_validate: the backend reports the body it received (a second
# hop reads it into one buffer and passes it on as a header)
our $ValidateConfig = <<'_EOC_';
    location = /a2a {
        wsgate_auth on;
        wsgate_a2a on;
        wsgate_a2a_validate on;
        proxy_pass http://127.0.0.1:$server_port/body;
    }

    location = /a2a-file {
        wsgate_auth on;
        wsgate_a2a on;
        wsgate_a2a_validate on;
        client_body_in_file_only clean;
        proxy_pass http://127.0.0.1:$server_port/body;
    }

    location = /a2a-off {
        wsgate_auth on;
        wsgate_a2a on;
        proxy_pass http://127.0.0.1:$server_port/body;
    }

    location = /body {
        client_body_buffer_size 64k;
        client_body_in_single_buffer on;
        proxy_set_header X-Body $request_body;
        proxy_set_header X-Len $content_length;
        proxy_pass http://127.0.0.1:$server_port/echo-body;
    }

    location = /echo-body {
        return 200 "id=$http_x_workspace_id kind=$http_x_caller_kind len=$http_x_len body=$http_x_body\n";
    }
_EOC_

# the raw request the backend gets, for counting header lines
our $RawConfig = <<'_EOC_';
    underscores_in_headers on;

    location = /a2a {
        wsgate_auth on;
        wsgate_a2a on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/backend;
    }
_EOC_

our $RawReply = "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n";

# the three caller headers, each exactly once, in any case or with "_"
sub raw_caller {
    my ($id, $kind, $name) = @_;
    my $re = '\\A';
    for my $h ('x[-_]workspace[-_]id:', 'x[-_]caller[-_]kind:',
               'x[-_]caller[-_]name:')
    {
        $re .= "(?!(?si:.*\\n$h.*\\n$h))";
    }
    $re .= '(?!(?si:.*\\nx[-_]caller[-_]name:))' unless defined $name;
    $re .= "(?s:.*)\r\nX-Workspace-ID: \Q$id\E\r\nX-Caller-Kind: \Q$kind\E\r\n";
    $re .= "X-Caller-Name: \Q$name\E\r\n" if defined $name;
    $re .= "\r\n\\z";
    return qr/$re/;
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a workspace token without a claim calls as its workspace
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{"jsonrpc":"2.0","method":"message/send","id":1}
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- response_body eval
"id=$::WS_A kind=workspace name=\n"
--- no_error_log
[error]
[warn]



=== TEST 2: a claim of the token's own workspace (any hex case) is accepted
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_A\nX-Workspace-ID: " . uc($::WS_A)
--- response_body eval
"id=$::WS_A kind=workspace name=\n"
--- no_error_log
[error]



=== TEST 3: the workspace is forwarded in lowercase whatever the record holds
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_U\nX-Workspace-ID: $::WS_B"
--- response_body eval
"id=$::WS_B kind=workspace name=\n"



=== TEST 4: a claim of another workspace answers like an invalid token
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_A\nX-Workspace-ID: $::WS_B"
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
Content-Type: application/json
--- response_body chomp
{"error":"invalid workspace auth token"}
--- error_log eval
qq{may not claim caller "$::WS_B": not the token's caller}
--- no_error_log
[error]



=== TEST 5: a claim that is not a UUID nor a system caller: 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_A\nX-Workspace-ID: System-restart-context"
--- error_code: 401
--- response_body chomp
{"error":"invalid workspace auth token"}



=== TEST 6: a workspace token claiming system:restart-context is refused
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_A\nX-Workspace-ID: system:restart-context"
--- error_code: 403
--- response_headers
Content-Type: application/json
!WWW-Authenticate
--- response_body chomp
{"error":"invalid caller ID"}
--- grep_error_log: forged caller
--- grep_error_log_out
forged caller
--- error_log eval
qr/\[warn\] .*wsgate a2a: forged caller "system:restart-context" refused from 127\.0\.0\.1 \(token "tA3vQm9x\.\.\.", workspace token\)/
--- no_error_log eval
[$::TOK_A, substr($::TOK_A, 0, 9)]



=== TEST 7: webhook: is a system prefix
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_A\nX-Workspace-ID: webhook:github"
--- error_code: 403
--- response_body chomp
{"error":"invalid caller ID"}
--- error_log
forged caller "webhook:github" refused from 127.0.0.1



=== TEST 8: channel: is a system prefix
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_A\nX-Workspace-ID: channel:slack"
--- error_code: 403
--- response_body chomp
{"error":"invalid caller ID"}
--- error_log
forged caller "channel:slack" refused



=== TEST 9: test: is a system prefix
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_A\nX-Workspace-ID: test:"
--- error_code: 403
--- response_body chomp
{"error":"invalid caller ID"}
--- error_log
forged caller "test:" refused



=== TEST 10: the prefix is matched in any case
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_A\nX-Workspace-ID: SYSTEM:restart-context"
--- error_code: 403
--- response_body chomp
{"error":"invalid caller ID"}
--- error_log
forged caller "SYSTEM:restart-context" refused



=== TEST 11: a lowercase header name is the same claim
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- raw_request eval
"POST /a2a HTTP/1.0\r
Host: localhost\r
Authorization: Bearer $::TOK_A\r
x-workspace-id: system:restart-context\r
Content-Length: 2\r
\r
{}"
--- error_code: 403
--- response_body chomp
{"error":"invalid caller ID"}



=== TEST 12: spaces and a tab around the claim do not hide the prefix
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- raw_request eval
"POST /a2a HTTP/1.0\r
Host: localhost\r
Authorization: Bearer $::TOK_A\r
X-Workspace-ID: \t  system:restart-context \t \r
Content-Length: 2\r
\r
{}"
--- error_code: 403
--- response_body chomp
{"error":"invalid caller ID"}
--- error_log
forged caller "system:restart-context" refused



=== TEST 13: a padded claim of the own workspace is accepted
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- raw_request eval
"POST /a2a HTTP/1.0\r
Host: localhost\r
Authorization: Bearer $::TOK_A\r
X-Workspace-ID: \t $::WS_A\t\r
Content-Length: 2\r
\r
{}"
--- response_body eval
"id=$::WS_A kind=workspace name=\n"



=== TEST 14: a second claim line with a system caller is refused (403)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- raw_request eval
"POST /a2a HTTP/1.0\r
Host: localhost\r
Authorization: Bearer $::TOK_A\r
X-Workspace-ID: $::WS_A\r
x-WORKSPACE-id: system:restart-context\r
Content-Length: 2\r
\r
{}"
--- error_code: 403
--- response_body chomp
{"error":"invalid caller ID"}
--- error_log
forged caller "system:restart-context" refused



=== TEST 15: two claim lines, even both right, are refused (401)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- raw_request eval
"POST /a2a HTTP/1.0\r
Host: localhost\r
Authorization: Bearer $::TOK_A\r
X-Workspace-ID: $::WS_A\r
X-Workspace-ID: $::WS_A\r
Content-Length: 2\r
\r
{}"
--- error_code: 401
--- response_body chomp
{"error":"invalid workspace auth token"}
--- error_log
several X-Workspace-ID lines



=== TEST 16: an empty claim is no claim
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- raw_request eval
"POST /a2a HTTP/1.0\r
Host: localhost\r
Authorization: Bearer $::TOK_A\r
X-Workspace-ID:   \r
Content-Length: 2\r
\r
{}"
--- response_body eval
"id=$::WS_A kind=workspace name=\n"



=== TEST 17: client X-Caller-Kind and X-Caller-Name never reach the backend
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_A
X-Caller-Kind: system
X-Caller-Name: system:restart-context"
--- response_body eval
"id=$::WS_A kind=workspace name=\n"



=== TEST 18: a system token without a claim calls as its UUIDv5
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_S"
--- response_body eval
"id=$::ID_RESTART kind=system name=system:restart-context\n"
--- no_error_log
[error]



=== TEST 19: a system token claiming its own name, over forged caller headers
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_S
X-Workspace-ID: system:restart-context
X-Caller-Kind: workspace
X-Caller-Name: system:scheduler"
--- response_body eval
"id=$::ID_RESTART kind=system name=system:restart-context\n"



=== TEST 20: system:scheduler is db57ccad-2abd-5fe0-ba3c-84eacd9eafe4
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_SC\nX-Workspace-ID: system:scheduler"
--- response_body eval
"id=$::ID_SCHED kind=system name=system:scheduler\n"



=== TEST 21: a webhook: system caller
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_WH"
--- response_body eval
"id=$::ID_GITHUB kind=system name=webhook:github\n"



=== TEST 22: a system token claiming another system caller is refused
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_S\nX-Workspace-ID: system:scheduler"
--- error_code: 403
--- response_body chomp
{"error":"invalid caller ID"}
--- error_log
forged caller "system:scheduler" refused from 127.0.0.1 (token "sYsRc9Qv...", system token)



=== TEST 23: a system token claiming its name in another case is refused
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_S\nX-Workspace-ID: System:Restart-Context"
--- error_code: 403
--- response_body chomp
{"error":"invalid caller ID"}



=== TEST 24: a system token claiming a workspace: 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_S\nX-Workspace-ID: $::WS_A"
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
--- response_body chomp
{"error":"invalid workspace auth token"}



=== TEST 25: a system token claiming its own UUID (any hex case)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_S\nX-Workspace-ID: " . uc($::ID_RESTART)
--- response_body eval
"id=$::ID_RESTART kind=system name=system:restart-context\n"



=== TEST 26: a system token claiming another system caller's UUID: 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_S\nX-Workspace-ID: $::ID_SCHED"
--- error_code: 401
--- response_body chomp
{"error":"invalid workspace auth token"}



=== TEST 27: a rewritten request judged again keeps its system caller
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a-retry
{}
--- more_headers eval
"Authorization: Bearer $::TOK_S\nX-Workspace-ID: system:restart-context"
--- response_body eval
"id=$::ID_RESTART kind=system name=system:restart-context\n"
--- error_log
connect() failed (111: Connection refused) while connecting to upstream



=== TEST 28: ... and its workspace caller
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a-retry
{}
--- more_headers eval
"Authorization: Bearer $::TOK_U"
--- response_body eval
"id=$::WS_B kind=workspace name=\n"



=== TEST 29: a system name with CR LF never becomes a header line
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_NL"
--- error_code: 401
--- response_body chomp
{"error":"invalid workspace auth token"}
--- error_log
names a system caller with control characters



=== TEST 30: an explicit wsgate_system_caller mapping wins over UUIDv5
--- http_config eval
$::HttpConfig . "
    wsgate_system_caller system:restart-context $::ID_MAPPED;
    wsgate_system_caller system:other 22222222-2222-4333-8444-555555555555;"
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_S"
--- response_body eval
"id=$::ID_MAPPED kind=system name=system:restart-context\n"



=== TEST 31: ... and only for the name it maps
--- http_config eval
$::HttpConfig . "
    wsgate_system_caller system:restart-context $::ID_MAPPED;"
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_SC"
--- response_body eval
"id=$::ID_SCHED kind=system name=system:scheduler\n"



=== TEST 32: wsgate_system_namespace changes the UUIDv5
--- http_config eval
$::HttpConfig . "
    wsgate_system_namespace 9B2F4C1E-0D3A-4E5F-8A6B-7C8D9E0F1A2B;"
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_S"
--- response_body eval
"id=$::ID_OWN_NS kind=system name=system:restart-context\n"



=== TEST 33: wsgate_system_prefixes replaces the defaults: bot: is refused
--- http_config eval
$::HttpConfig . "
    wsgate_system_prefixes bot: cron:;"
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_A\nX-Workspace-ID: Bot:cron"
--- error_code: 403
--- response_body chomp
{"error":"invalid caller ID"}
--- error_log
forged caller "Bot:cron" refused



=== TEST 34: ... and system: is then an ordinary (wrong) claim
--- http_config eval
$::HttpConfig . "
    wsgate_system_prefixes bot: cron:;"
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_A\nX-Workspace-ID: system:restart-context"
--- error_code: 401
--- response_body chomp
{"error":"invalid workspace auth token"}
--- no_error_log
forged caller



=== TEST 35: ... and a bot: system token calls with its claim
--- http_config eval
$::HttpConfig . "
    wsgate_system_prefixes bot: cron:;"
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers eval
"Authorization: Bearer $::TOK_BC\nX-Workspace-ID: bot:cron"
--- response_body eval
"id=$::ID_CRON kind=system name=bot:cron\n"



=== TEST 36: the caller variables of a system caller
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /vars
{}
--- more_headers eval
"Authorization: Bearer $::TOK_S\nX-Workspace-ID: system:restart-context"
--- response_body eval
"v=$::ID_RESTART|system:restart-context|system id=$::ID_RESTART kind=system\n"



=== TEST 37: the caller variables of a workspace caller
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /vars
{}
--- more_headers eval
"Authorization: Bearer $::TOK_A
X-Workspace-ID: " . uc($::WS_A) . "
X-Caller-Name: system:restart-context"
--- response_body eval
"v=$::WS_A||workspace id=$::WS_A kind=workspace\n"



=== TEST 38: the backend gets each caller header once (workspace caller)
--- http_config eval: $::HttpConfig
--- config eval: $::RawConfig
--- raw_request eval
"GET /a2a HTTP/1.0\r
Host: localhost\r
x-caller-kind: system\r
Authorization: Bearer $::TOK_A\r
x-workspace-id: $::WS_A\r
X-CALLER-NAME: system:restart-context\r
X_Caller_Name: system:restart-context\r
X_Caller_Kind: system\r
\r
"
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query_auto_timeout: 0.2
--- tcp_reply eval: $::RawReply
--- tcp_query eval
main::raw_caller($::WS_A, 'workspace')
--- response_body
ok



=== TEST 39: the backend gets each caller header once (system caller)
--- http_config eval: $::HttpConfig
--- config eval: $::RawConfig
--- raw_request eval
"GET /a2a HTTP/1.0\r
Host: localhost\r
X-Caller-Kind: workspace\r
Authorization: Bearer $::TOK_S\r
X-Workspace-ID: system:restart-context\r
X-Caller-Name: system:scheduler\r
x-caller-name: system:scheduler\r
\r
"
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query_auto_timeout: 0.2
--- tcp_reply eval: $::RawReply
--- tcp_query eval
main::raw_caller($::ID_RESTART, 'system', 'system:restart-context')
--- response_body
ok



=== TEST 40: with underscores_in_headers on, X_Workspace_ID is a claim too
--- http_config eval: $::HttpConfig
--- config eval: $::RawConfig
--- raw_request eval
"GET /a2a HTTP/1.0\r
Host: localhost\r
Authorization: Bearer $::TOK_A\r
X_Workspace_ID: system:restart-context\r
\r
"
--- error_code: 403
--- response_body chomp
{"error":"invalid caller ID"}



=== TEST 41: ... and is not forwarded when the caller is accepted
--- http_config eval: $::HttpConfig
--- config eval: $::RawConfig
--- raw_request eval
"GET /a2a HTTP/1.0\r
Host: localhost\r
Authorization: Bearer $::TOK_A\r
X_Workspace_ID: $::WS_A\r
\r
"
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query_auto_timeout: 0.2
--- tcp_reply eval: $::RawReply
--- tcp_query eval
main::raw_caller($::WS_A, 'workspace')
--- response_body
ok



=== TEST 42: no token: wsgate_auth answers before any caller check
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /a2a
{}
--- more_headers
X-Workspace-ID: system:restart-context
--- error_code: 401
--- response_body chomp
{"error":"missing workspace auth token"}
--- no_error_log
forged caller



=== TEST 43: a valid envelope passes byte for byte
--- http_config eval: $::HttpConfig
--- config eval: $::ValidateConfig
--- request
POST /a2a
{"jsonrpc": "2.0", "method":"message/send", "id":"req-1", "params":{"message":{"parts":[{"kind":"text","text":"a \"quoted\" word"}]}}}
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- response_body
id=0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01 kind=workspace len=134 body={"jsonrpc": "2.0", "method":"message/send", "id":"req-1", "params":{"message":{"parts":[{"kind":"text","text":"a \"quoted\" word"}]}}}
--- no_error_log
[error]



=== TEST 44: a numeric id passes
--- http_config eval: $::HttpConfig
--- config eval: $::ValidateConfig
--- request
POST /a2a
{"id":-1.5e3,"method":"tasks/get","jsonrpc":"2.0"}
--- more_headers eval
"Authorization: Bearer $::TOK_S"
--- response_body eval
"id=$::ID_RESTART kind=system len=50 body={\"id\":-1.5e3,\"method\":\"tasks/get\",\"jsonrpc\":\"2.0\"}\n"
--- log_level: debug
--- grep_error_log: wsgate a2a: caller
--- grep_error_log_out
wsgate a2a: caller



=== TEST 45: a body kept in a temporary file is checked and passed on whole
--- http_config eval: $::HttpConfig
--- config eval: $::ValidateConfig
--- request
POST /a2a-file
{"jsonrpc":"2.0","method":"message/send","id":42,"params":{"message":{"role":"user","parts":[{"kind":"text","text":"0123456789abcdef0123456789abcdef"}]}}}
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- response_body
id=0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01 kind=workspace len=154 body={"jsonrpc":"2.0","method":"message/send","id":42,"params":{"message":{"role":"user","parts":[{"kind":"text","text":"0123456789abcdef0123456789abcdef"}]}}}
--- error_log
a client request body is buffered to a temporary file



=== TEST 46: not JSON
--- http_config eval: $::HttpConfig
--- config eval: $::ValidateConfig
--- request
POST /a2a
{"jsonrpc":"2.0","method":"message/send","id":1
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body chomp
{"error":"invalid A2A request","reason":"not valid JSON"}
--- error_log eval
qq{wsgate a2a: invalid A2A request from caller "$::WS_A": not valid JSON}



=== TEST 47: an empty body is not JSON
--- http_config eval: $::HttpConfig
--- config eval: $::ValidateConfig
--- request
GET /a2a
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- error_code: 400
--- response_body chomp
{"error":"invalid A2A request","reason":"not valid JSON"}



=== TEST 48: a batch is not a JSON object
--- http_config eval: $::HttpConfig
--- config eval: $::ValidateConfig
--- request
POST /a2a
[{"jsonrpc":"2.0","method":"message/send","id":1}]
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- error_code: 400
--- response_body chomp
{"error":"invalid A2A request","reason":"not a JSON object"}



=== TEST 49: jsonrpc must be "2.0"
--- http_config eval: $::HttpConfig
--- config eval: $::ValidateConfig
--- request
POST /a2a
{"jsonrpc":"1.0","method":"message/send","id":1}
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- error_code: 400
--- response_body chomp
{"error":"invalid A2A request","reason":"jsonrpc must be \"2.0\""}



=== TEST 50: a missing jsonrpc
--- http_config eval: $::HttpConfig
--- config eval: $::ValidateConfig
--- request
POST /a2a
{"method":"message/send","id":1}
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- error_code: 400
--- response_body chomp
{"error":"invalid A2A request","reason":"jsonrpc must be \"2.0\""}



=== TEST 51: method must be a string
--- http_config eval: $::HttpConfig
--- config eval: $::ValidateConfig
--- request
POST /a2a
{"jsonrpc":"2.0","method":7,"id":1}
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- error_code: 400
--- response_body chomp
{"error":"invalid A2A request","reason":"method must be a string"}



=== TEST 52: id must be a string or a number (null)
--- http_config eval: $::HttpConfig
--- config eval: $::ValidateConfig
--- request
POST /a2a
{"jsonrpc":"2.0","method":"message/send","id":null}
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- error_code: 400
--- response_body chomp
{"error":"invalid A2A request","reason":"id must be a string or a number"}



=== TEST 53: id must be a string or a number (missing: a notification)
--- http_config eval: $::HttpConfig
--- config eval: $::ValidateConfig
--- request
POST /a2a
{"jsonrpc":"2.0","method":"message/send"}
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- error_code: 400
--- response_body chomp
{"error":"invalid A2A request","reason":"id must be a string or a number"}



=== TEST 54: a duplicate member
--- http_config eval: $::HttpConfig
--- config eval: $::ValidateConfig
--- request
POST /a2a
{"jsonrpc":"2.0","method":"tasks/get","METHOD":"tasks/cancel","id":1}
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- error_code: 400
--- response_body chomp
{"error":"invalid A2A request","reason":"duplicate method member"}



=== TEST 55: the caller is judged before the body
--- http_config eval: $::HttpConfig
--- config eval: $::ValidateConfig
--- request
POST /a2a
not json
--- more_headers eval
"Authorization: Bearer $::TOK_A\nX-Workspace-ID: system:restart-context"
--- error_code: 403
--- response_body chomp
{"error":"invalid caller ID"}
--- no_error_log
invalid A2A request



=== TEST 56: without wsgate_a2a_validate the body is not checked
--- http_config eval: $::HttpConfig
--- config eval: $::ValidateConfig
--- request
POST /a2a-off
not json
--- more_headers eval
"Authorization: Bearer $::TOK_A"
--- response_body eval
"id=$::WS_A kind=workspace len=8 body=not json\n"



=== TEST 57: a body that arrives later is waited for, then checked
--- http_config eval: $::HttpConfig
--- config eval: $::ValidateConfig
--- raw_request eval
["POST /a2a HTTP/1.0\r
Host: localhost\r
Authorization: Bearer $::TOK_A\r
Content-Length: 48\r
\r
{\"jsonrpc\":\"2.0\",", "\"method\":\"message/send\",", "\"id\":3}"]
--- raw_request_middle_delay: 0.2
--- log_level: debug
--- grep_error_log: wsgate a2a: caller
--- grep_error_log_out
wsgate a2a: caller
--- response_body
id=0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01 kind=workspace len=48 body={"jsonrpc":"2.0","method":"message/send","id":3}



=== TEST 58: ... and refused when it turns out invalid
--- http_config eval: $::HttpConfig
--- config eval: $::ValidateConfig
--- raw_request eval
["POST /a2a HTTP/1.0\r
Host: localhost\r
Authorization: Bearer $::TOK_S\r
Content-Length: 49\r
\r
{\"jsonrpc\":\"2.0\",", "\"method\":\"message/send\",", "\"id\":[]}"]
--- raw_request_middle_delay: 0.2
--- error_code: 400
--- response_body chomp
{"error":"invalid A2A request","reason":"id must be a string or a number"}
--- error_log eval
qq{wsgate a2a: invalid A2A request from caller "$::ID_RESTART": id must be a string or a number}



=== TEST 59: a chunked body
--- http_config eval: $::HttpConfig
--- config eval: $::ValidateConfig
--- raw_request eval
["POST /a2a HTTP/1.1\r
Host: localhost\r
Connection: close\r
Authorization: Bearer $::TOK_A\r
Transfer-Encoding: chunked\r
\r
11\r
{\"jsonrpc\":\"2.0\",\r
", "1f\r
\"method\":\"message/send\",\"id\":3}\r
0\r
\r
"]
--- raw_request_middle_delay: 0.2
--- response_body
id=0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01 kind=workspace len=48 body={"jsonrpc":"2.0","method":"message/send","id":3}



=== TEST 60: workspace callers of three workspaces (on a cluster: on three masters), and a system caller, each as itself
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[("POST /a2a\n{}") x 5]
--- more_headers eval
["Authorization: Bearer $::TOK_A", "Authorization: Bearer $::TOK_U",
 "Authorization: Bearer $::TOK_C",
 "Authorization: Bearer $::TOK_C\nX-Workspace-ID: $::WS_A",
 "Authorization: Bearer $::TOK_SC\nX-Workspace-ID: system:scheduler"]
--- error_code eval
[200, 200, 200, 401, 200]
--- response_body eval
["id=$::WS_A kind=workspace name=\n", "id=$::WS_B kind=workspace name=\n",
 "id=$::WS_C kind=workspace name=\n",
 '{"error":"invalid workspace auth token"}',
 "id=$::ID_SCHED kind=system name=system:scheduler\n"]
