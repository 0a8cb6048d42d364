# vi:filetype=perl
#
# The configurations operators copy, and the manual they read:
#
# - every lua-free-config/*.conf passes `nginx -t` as shipped (only the
#   module path, and files the test must provide, are replaced) and
#   listens on 127.0.0.1 only;
# - each one then runs for real, on a free port, with requests through it:
#   gateway.conf end to end (register, the precise 400, restart, the state
#   changing, A2A with a system caller rewritten and a forged one refused,
#   bind, body limit, the JSON access log), minimal.conf, and
#   redis-tls.conf against a TLS Redis with an ACL user;
# - every directive and variable the module defines has its entry in
#   README.md (a `### name` heading in nginx.org form, a `$name` row);
# - no nginx configuration in the repository uses Lua.
#
# These checks run in plain Perl before run_tests(), with their own nginx
# processes (daemon, master and workers, exactly as the files say), so
# they work the same under our runner and upstream Test::Nginx.  With
# TEST_NGINX_LOAD_MODULES empty (the ASan build links the module in) the
# load_module line is dropped.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use WsgateTest;
use WsgateHttp;

use Cwd ();
use File::Find ();
use File::Temp ();
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP ();
use POSIX ();
use Time::HiRes ();

our $WS_A  = '3f2c8a1e-5b7d-4e9a-8c6f-1d2e3f4a5b6c';
our $WS_B  = '5d0f8a4e-1c2b-4a6d-8e9f-0a1b2c3d4e5f';
our $TOK_A = 'gAtEwAy9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNa';
our $TOK_B = 'gAtEwAyBxK2m9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iO';
our $TOK_S = 'gAtEwAySs2m9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq';
our $TOK_X = 'uNkNoWnSs2m9QvR7sLp4nWd8hYf3cGj6aZe1uVt0iOq';
# uuid.uuid5(uuid.NAMESPACE_URL, 'system:restart-context') in Python
our $ID_RESTART = '1a6dd07d-3c32-5fad-a541-9b52f879b82d';

our $SHIPPED_MODULE =
    'load_module /usr/lib/nginx/modules/ngx_http_wsgate_module.so;';

my $Top = Cwd::getcwd();
my $Binary = $ENV{TEST_NGINX_BINARY} || 'nginx';
my @Modules = split ' ', (defined $ENV{TEST_NGINX_LOAD_MODULES}
                          ? $ENV{TEST_NGINX_LOAD_MODULES} : '');
my @Started;                    # nginx master pids, stopped at END

my $Json = JSON::PP->new->canonical;
my $Http = HTTP::Tiny->new(timeout => 10, keep_alive => 0,
                           agent => 'wsgate-t/070');


sub slurp {
    my $file = shift;
    open my $in, '<', $file or die "$file: $!\n";
    local $/;
    my $text = <$in>;
    close $in;
    return $text;
}

sub spew {
    my ($file, $text) = @_;
    open my $out, '>', $file or die "$file: $!\n";
    print $out $text;
    close $out;
}

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1)
        or die "no free port: $!\n";
    my $port = $s->sockport;
    close $s;
    return $port;
}

# Runs a command; returns (exit status, stdout and stderr together).
sub run_cmd {
    my @cmd = @_;
    my $pid = open(my $fh, '-|');
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh>;
    close $fh;
    return ($? >> 8, defined $out ? $out : '');
}

# Replaces $from by $to in $$text, and says whether it was there exactly
# once: a config that drifts from what the demo and this test replace
# fails here, not later in a puzzling way.
sub replace_once {
    my ($name, $text, $from, $to) = @_;
    my $n = () = $$text =~ /\Q$from\E/g;
    is($n, 1, "$name: \"$from\" appears once");
    $$text =~ s/\Q$from\E/$to/;
}

# lua-free-config/$name with the module from the build and @pairs
# replaced, as conf/nginx.conf under a fresh prefix; returns the prefix.
sub render {
    my ($name, @pairs) = @_;
    my $dir = File::Temp::tempdir("wsgate-conf-XXXXXX", TMPDIR => 1,
                                  CLEANUP => 1);
    chmod 0755, $dir;
    mkdir "$dir/$_" for qw(conf logs);

    my $text = slurp("lua-free-config/$name");
    replace_once($name, \$text, $SHIPPED_MODULE,
                 join("\n", map { "load_module $_;" } @Modules));
    while (@pairs) {
        my ($from, $to) = splice @pairs, 0, 2;
        replace_once($name, \$text, $from, $to);
    }
    spew("$dir/conf/nginx.conf", $text);
    return $dir;
}

sub nginx_cmd {
    my ($dir, @args) = @_;
    return ($Binary, @args, '-p', "$dir/", '-c', "$dir/conf/nginx.conf",
            '-e', "$dir/logs/error.log");
}

sub connects {
    my $port = shift;
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $port, Proto => 'tcp');
    close $c if $c;
    return !!$c;
}

# Starts nginx on the rendered prefix (it daemonizes); returns the master
# pid once $port accepts connections.
sub start_nginx {
    my ($dir, $port) = @_;
    my ($rc, $out) = run_cmd(nginx_cmd($dir));
    if ($rc != 0) {
        diag("nginx did not start:\n$out" . slurp("$dir/logs/error.log"));
        return;
    }
    my $pid;
    for (1 .. 500) {
        if (-s "$dir/logs/nginx.pid") {
            ($pid) = slurp("$dir/logs/nginx.pid") =~ /(\d+)/;
            last if $pid && connects($port);
        }
        Time::HiRes::sleep(0.01);
    }
    push @Started, $pid if $pid;
    return $pid;
}

# Running, and not a zombie waiting for init to reap it (nginx daemonized:
# it is not our child).
sub running {
    my $pid = shift;
    return 0 unless $pid && kill 0, $pid;
    open my $in, '<', "/proc/$pid/stat" or return 1;
    my $stat = <$in>;
    close $in;
    return !(defined $stat && $stat =~ /\) Z /);
}

sub stop_nginx {
    my $pid = shift;
    return unless running($pid);
    kill 'QUIT', $pid;
    for (1 .. 1000) {
        return unless running($pid);
        Time::HiRes::sleep(0.01);
    }
    kill 'KILL', $pid;
}

END {
    stop_nginx($_) for @Started;
}

sub request {
    my ($method, $url, %o) = @_;
    my %h = %{ $o{headers} || {} };
    $h{Authorization} = "Bearer $o{token}" if defined $o{token};
    my $res = $Http->request($method, $url, {
        headers => \%h,
        defined $o{body} ? (content => $o{body}) : (),
    });
    diag("$method $url: $res->{content}") if $res->{status} == 599;
    return $res;
}

sub json_of {
    my $res = shift;
    my $v = eval { $Json->decode($res->{content}) };
    return $v || { _not_json => $res->{content} };
}

# The workspace's state from the gateway, polled until it reads $want:
# outcomes are recorded after the response, possibly by another worker.
sub state_becomes {
    my ($gw, $want) = @_;
    my $st;
    for (1 .. 200) {
        $st = json_of(request('GET', "$gw/workspaces/$WS_A/registration",
                              token => $TOK_A));
        last if defined $st->{state} && $st->{state} eq $want;
        Time::HiRes::sleep(0.01);
    }
    return $st;
}


# ---------------------------------------------------------------------------
# Every lua-free-config/*.conf passes nginx -t, and listens on loopback only.

my @Confs = map { s{^lua-free-config/}{}r } sort glob 'lua-free-config/*.conf';
ok(scalar(grep { $_ eq 'gateway.conf' } @Confs)
   && grep({ $_ eq 'minimal.conf' } @Confs)
   && grep({ $_ eq 'redis-tls.conf' } @Confs),
   'lua-free-config/ holds gateway.conf, minimal.conf, redis-tls.conf');

# Files the shipped configs name that must exist for nginx -t.
my $Files = File::Temp::tempdir("wsgate-files-XXXXXX", TMPDIR => 1,
                                CLEANUP => 1);
our $REDIS_PW = 'tls-edge-' . int(rand(1e9));
spew("$Files/redis.password", "$REDIS_PW\n");

my $Tls = redis_extra(name => 'TLS', tls => 1,
                      acl => ["user wsgate on >$REDIS_PW ~* +\@all"]);

my %MustExist = (
    'redis-tls.conf' => [
        'tls_ca=/etc/wsgate/redis-ca.pem' => "tls_ca=$Tls->{ca}",
        'password_file=/etc/wsgate/redis.password'
            => "password_file=$Files/redis.password",
    ],
);

for my $name (@Confs) {
    my $text = slurp("lua-free-config/$name");
    my @listen = $text =~ /^\s*listen\s+([^;\s]+)/mg;
    ok(scalar @listen, "$name: has a listen directive");
    for my $l (@listen) {
        like($l, qr/^(?:127\.0\.0\.1:\d+|\[::1\]:\d+|unix:.+)$/,
             "$name: listen $l is loopback only");
    }

    my $dir = render($name, @{ $MustExist{$name} || [] });
    my ($rc, $out) = run_cmd(nginx_cmd($dir, '-t'));
    is($rc, 0, "$name: nginx -t exits 0") or diag($out);
    like($out, qr/test is successful/, "$name: nginx -t is successful");
    unlike($out, qr/\[(?:emerg|alert|crit)\]/, "$name: no emerg line");
}


# ---------------------------------------------------------------------------
# gateway.conf, for real: the same file with the test's addresses.

redis_flush();
seed_token($TOK_A, ws => $WS_A);
seed_token($TOK_B, ws => $WS_B);
seed_token($TOK_S, name => 'system:restart-context');
my $backend = http_backend();
my $gw_port = free_port();
my $GW = "http://127.0.0.1:$gw_port";

# Workers run as the test's user, as in every suite (a sanitizer build
# writes its reports from the workers).
my $gw_dir = render('gateway.conf',
    'user www-data;' => '',
    'wsgate_redis 127.0.0.1:6379 '
        => "wsgate_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} ",
    'server 127.0.0.1:8090;' => "server 127.0.0.1:$backend;",
    'listen 127.0.0.1:8080;' => "listen 127.0.0.1:$gw_port;");
my $gw_pid = start_nginx($gw_dir, $gw_port);
ok($gw_pid, 'gateway.conf: nginx runs');

my $good = qq({"id":"$WS_A","url":"https://agent.example.com/a2a",)
           . qq("agent_card":{"name":"demo agent"}});
my $bad = qq({"id":"$WS_A","url":"http://169.254.169.254/latest/meta-data",)
          . qq("agent_card":{"name":"demo agent"}});
my $rpc = '{"jsonrpc":"2.0","id":1,"method":"message/send","params":'
          . '{"message":{"role":"user","messageId":"m-1","parts":'
          . '[{"kind":"text","text":"carry on"}]}}}';
my %ct = ('Content-Type' => 'application/json');

SKIP: {
    skip 'gateway.conf did not start', 1 unless $gw_pid;

    my ($res, $v);

    $res = request('GET', "$GW/workspaces/$WS_A/registration",
                   token => $TOK_A);
    is($res->{status}, 200, 'gateway: state readable with the own token');
    like($res->{headers}{'content-type'}, qr{^application/json},
         'gateway: state is JSON');
    is(json_of($res)->{state}, 'online', 'gateway: state starts online');

    # A good register, with forged identity headers the backend must not see.
    $res = request('POST', "$GW/registry/register", token => $TOK_A,
                   body => $good,
                   headers => { %ct, 'X-Workspace-ID' => $WS_B,
                                'X-Caller-Kind' => 'system',
                                'X-Caller-Name' => 'system:evil' });
    is($res->{status}, 200, 'gateway: good register reaches the backend');
    $v = json_of($res);
    is($v->{path}, '/registry/register', 'gateway: register path kept');
    is($v->{sha256}, sha256_hex($good), 'gateway: register body unchanged');
    is($v->{x_workspace_id}, $WS_A,
       "gateway: backend sees the token's workspace, not the client's");
    is($v->{x_caller_kind}, undef, 'gateway: client X-Caller-Kind removed');
    is($v->{x_caller_name}, undef, 'gateway: client X-Caller-Name removed');

    $res = request('POST', "$GW/registry/register", token => $TOK_A,
                   body => $bad, headers => \%ct);
    is($res->{status}, 400, 'gateway: bad register is a 400');
    is($res->{content},
       '{"error":"invalid register payload","field":"url",'
       . '"reason":"address in a blocked range (metadata)"}',
       'gateway: the 400 names the field and the reason');

    $v = state_becomes($GW, 'degraded');
    is($v->{state}, 'degraded', 'gateway: a failure outside a restart: degraded');
    is($v->{last_failure} && $v->{last_failure}{source}, 'gateway',
       'gateway: the failure is recorded as the gateway\'s');

    $res = request('POST', "$GW/workspaces/$WS_A/restart",
                   headers => { 'X-Workspace-ID' => $WS_B,
                                'X-Caller-Kind' => 'system' });
    is($res->{status}, 200, 'gateway: restart reaches the backend');
    $v = json_of($res);
    is($v->{x_workspace_id}, undef,
       'gateway: restart passes no client X-Workspace-ID (no token checked)');
    is($v->{x_caller_kind}, undef,
       'gateway: restart passes no client X-Caller-Kind');
    for (1 .. 200) {
        last if defined state_becomes($GW, 'degraded')->{restart_at_ms};
        Time::HiRes::sleep(0.01);
    }

    $res = request('POST', "$GW/registry/register", token => $TOK_A,
                   body => $bad, headers => \%ct);
    is($res->{status}, 400, 'gateway: bad register after the restart');
    $v = state_becomes($GW, 'restarting');
    is($v->{state}, 'restarting',
       'gateway: a failure inside the restart window: restarting');
    ok(defined $v->{restart_at_ms}, 'gateway: the restart window is open');

    $res = request('POST', "$GW/registry/register", token => $TOK_A,
                   body => $good, headers => \%ct);
    is($res->{status}, 200, 'gateway: good register after the restart');
    $v = state_becomes($GW, 'online');
    is($v->{state}, 'online', 'gateway: a good register: online again');
    is($v->{last_failure}, undef, 'gateway: the failure is cleared');

    $res = request('GET', "$GW/registry/register", token => $TOK_A);
    is($res->{status}, 405, 'gateway: GET on register is a 405');
    is($res->{headers}{allow}, 'POST', 'gateway: 405 says Allow: POST');
    is(state_becomes($GW, 'online')->{state}, 'online',
       'gateway: a refused method records no failure');

    $res = request('POST', "$GW/registry/register", token => $TOK_B,
                   body => $good, headers => \%ct);
    is($res->{status}, 401, "gateway: register for another workspace: 401");

    # A2A
    $res = request('POST', "$GW/workspaces/$WS_A/a2a", token => $TOK_S,
                   body => $rpc,
                   headers => { %ct,
                                'X-Workspace-ID' => 'system:restart-context' });
    is($res->{status}, 200, 'gateway: A2A from a system caller');
    $v = json_of($res);
    is($v->{x_workspace_id}, $ID_RESTART,
       'gateway: the system caller is rewritten to its UUIDv5');
    is($v->{x_caller_kind}, 'system', 'gateway: X-Caller-Kind system');
    is($v->{x_caller_name}, 'system:restart-context',
       'gateway: X-Caller-Name carries the original name');
    is($v->{sha256}, sha256_hex($rpc), 'gateway: A2A body unchanged');

    $res = request('POST', "$GW/workspaces/$WS_A/a2a", token => $TOK_A,
                   body => $rpc,
                   headers => { %ct,
                                'X-Workspace-ID' => 'system:restart-context' });
    is($res->{status}, 403, 'gateway: a forged system caller is refused');
    is($res->{content}, '{"error":"invalid caller ID"}',
       'gateway: the 403 body');

    $res = request('POST', "$GW/workspaces/$WS_B/a2a", token => $TOK_A,
                   body => $rpc, headers => \%ct);
    is($res->{status}, 200, 'gateway: A2A from a workspace to another');
    $v = json_of($res);
    is($v->{x_workspace_id}, $WS_A, 'gateway: the caller is the token\'s');
    is($v->{x_caller_kind}, 'workspace', 'gateway: X-Caller-Kind workspace');
    is($v->{x_caller_name}, undef, 'gateway: no X-Caller-Name');

    $res = request('POST', "$GW/workspaces/$WS_A/a2a", token => $TOK_A,
                   body => '{"jsonrpc":"1.0","id":1,"method":"x"}',
                   headers => \%ct);
    is($res->{status}, 400, 'gateway: wsgate_a2a_validate refuses a bad '
                            . 'envelope');
    is(json_of($res)->{error}, 'invalid A2A request',
       'gateway: the A2A 400 body');

    # Workspace routes and the rest.
    $res = request('GET', "$GW/workspaces/$WS_A/files/notes.txt",
                   token => $TOK_A);
    is($res->{status}, 200, 'gateway: a workspace route with its token');
    is(json_of($res)->{x_workspace_id}, $WS_A,
       'gateway: the workspace route gets X-Workspace-ID');

    $res = request('GET', "$GW/workspaces/$WS_A/files/notes.txt",
                   token => $TOK_B);
    is($res->{status}, 401, 'gateway: another workspace\'s token: 401');
    is($res->{content}, '{"error":"invalid workspace auth token"}',
       'gateway: answered like an invalid token');

    $res = request('GET', "$GW/workspaces/$WS_A/registration",
                   token => $TOK_B);
    is($res->{status}, 401, 'gateway: state of another workspace: 401');

    $res = request('GET', "$GW/workspaces/$WS_A/registration");
    is($res->{status}, 401, 'gateway: no token: 401');
    is($res->{headers}{'www-authenticate'}, 'Bearer',
       'gateway: WWW-Authenticate: Bearer');

    $res = request('GET', "$GW/workspaces/not-a-workspace-id/registration",
                   token => $TOK_A);
    is($res->{status}, 404, 'gateway: workspace routes need a UUID');

    $res = request('GET', "$GW/index.html");
    is($res->{status}, 404, 'gateway: anything else is a 404');
    is($res->{content}, '{"error":"not found"}', 'gateway: the 404 is JSON');

    $res = request('GET', "$GW/metrics");
    is($res->{status}, 200, 'gateway: /metrics from 127.0.0.1');
    like($res->{content},
         qr/^wsgate_auth_requests_total\{result="ok"\} [1-9]\d*$/m,
         'gateway: /metrics counted the admitted requests above');

    # The body limit is answered from the headers, before anything else.
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $gw_port, Proto => 'tcp');
    print $c "POST /registry/register HTTP/1.1\r\nHost: x\r\n"
             . "Authorization: Bearer $TOK_A\r\n"
             . "Content-Length: 1048577\r\nConnection: close\r\n\r\n";
    my $line = <$c>;
    close $c;
    like($line, qr{^HTTP/1\.1 413 }, 'gateway: register bodies over 1m: 413');

    # Quit, which flushes the buffered access log, then read it.
    stop_nginx($gw_pid);
    my @lines = split /\n/, slurp("$gw_dir/logs/access.json");
    ok(@lines >= 20, 'gateway: one access log line per request');
    my @bad = grep { !eval { $Json->decode($_); 1 } } @lines;
    is(scalar @bad, 0, 'gateway: every access log line is JSON')
        or diag($bad[0]);

    my ($sys) = grep { $_->{caller_kind} eq 'system' }
                map { $Json->decode($_) } @lines;
    is($sys && $sys->{caller_id}, $ID_RESTART,
       'gateway: access log has $wsgate_caller_id');
    is($sys && $sys->{caller_name}, 'system:restart-context',
       'gateway: access log has $wsgate_caller_name');
    is($sys && $sys->{token_prefix}, substr($TOK_S, 0, 8),
       'gateway: access log has the 8-character token prefix');
    is($sys && $sys->{auth_result}, 'ok',
       'gateway: access log has $wsgate_auth_result');
    my ($reg) = grep { $_->{register_error} ne '' }
                map { $Json->decode($_) } @lines;
    is($reg && $reg->{register_error},
       'url: address in a blocked range (metadata)',
       'gateway: access log has $wsgate_register_error');
    my %keys = map { $_ => 1 } keys %{ $Json->decode($lines[0]) };
    for my $k (qw(workspace_id token_kind token_prefix auth_result caller_id
                  caller_name caller_kind register_error
                  registration_state))
    {
        ok($keys{$k}, "gateway: access log field $k");
    }

    my $logs = slurp("$gw_dir/logs/access.json")
               . slurp("$gw_dir/logs/error.log");
    for my $t ($TOK_A, $TOK_B, $TOK_S) {
        unlike($logs, qr/\Q$t\E/, 'gateway: no token in any log');
    }
}


# ---------------------------------------------------------------------------
# minimal.conf and redis-tls.conf, for real.

for my $case (
    [ 'minimal.conf', $ENV{TEST_NGINX_REDIS_PORT}, sub { seed_token(@_) },
      'wsgate_redis 127.0.0.1:6379;'
          => "wsgate_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT};" ],
    [ 'redis-tls.conf', $Tls->{tls_port},
      sub {
          my ($tok, %o) = @_;
          redis_cmd_on($Tls, 'HSET', 'wsgate:token:' . sha256_hex($tok),
                       ws => $o{ws}, kind => 'workspace', created_ms => 1);
      },
      '10.0.0.5:6380' => "127.0.0.1:$Tls->{tls_port}",
      'tls_name=redis.internal' => 'tls_name=localhost',
      @{ $MustExist{'redis-tls.conf'} } ],
)
{
    my ($name, undef, $seed, @pairs) = @$case;
    $seed->($TOK_A, ws => $WS_A);
    my $port = free_port();
    my $dir = render($name, @pairs,
        'proxy_pass http://127.0.0.1:8090;'
            => "proxy_pass http://127.0.0.1:$backend;",
        'listen 127.0.0.1:8080;' => "listen 127.0.0.1:$port;");
    my $pid = start_nginx($dir, $port);
    ok($pid, "$name: nginx runs");

    SKIP: {
        skip "$name did not start", 1 unless $pid;

        my $res = request('GET', "http://127.0.0.1:$port/anything",
                          token => $TOK_A);
        is($res->{status}, 200, "$name: a known token gets through");
        is(json_of($res)->{x_workspace_id}, $WS_A,
           "$name: the backend learns the workspace");

        $res = request('GET', "http://127.0.0.1:$port/anything",
                       token => $TOK_X);
        is($res->{status}, 401, "$name: an unknown token gets 401");

        $res = request('GET', "http://127.0.0.1:$port/anything");
        is($res->{status}, 401, "$name: no token gets 401");

        stop_nginx($pid);
        unlike(slurp("$dir/logs/error.log"), qr/\[(?:emerg|alert|crit)\]/,
               "$name: no emerg, alert or crit in the error log");
    }
}


# ---------------------------------------------------------------------------
# README.md documents every directive and variable the module defines.

my (%directives, %variables);
for my $c (glob 'module/*.c') {
    my $src = slurp($c);
    while ($src =~ /ngx_command_t\s+\w+\[\]\s*=\s*\{(.*?)ngx_null_command/sg) {
        $directives{$_} = $c for $1 =~ /ngx_string\("(wsgate_\w+)"\)/g;
    }
    while ($src =~ /ngx_http_variable_t\s+\w+\[\]\s*=\s*\{(.*?)
                    ngx_http_null_variable/sxg)
    {
        $variables{$_} = $c for $1 =~ /ngx_string\("(wsgate_\w+)"\)/g;
    }
}
# The parse itself must work, or the checks below would pass on nothing.
ok(keys %directives >= 15, 'module/ defines the directives ('
                           . scalar(keys %directives) . ' found)');
ok($directives{wsgate_redis} && $directives{wsgate_auth}
   && $directives{wsgate_a2a}, 'module/: wsgate_redis, wsgate_auth, '
                               . 'wsgate_a2a among them');
ok(keys %variables >= 9, 'module/ defines the variables ('
                         . scalar(keys %variables) . ' found)');

my $readme = slurp('README.md');
my %section;
for my $part (split /^(?=#{2,3} )/m, $readme) {
    $section{$1} = $part if $part =~ /^### (\S+)\s*$/m;
}
for my $d (sort keys %directives) {
    my $s = $section{$d};
    ok(defined $s, "README.md has a heading for $d ($directives{$d})");
    next unless defined $s;
    like($s, qr/\*\*Syntax:\*\*\s*\|\s*`\Q$d\E`/,
         "README.md: $d has a Syntax row");
    like($s, qr/\*\*Default:\*\*\s*\|/, "README.md: $d has a Default row");
    like($s, qr/\*\*Context:\*\*\s*\|\s*`/,
         "README.md: $d has a Context row");
}
for my $v (sort keys %variables) {
    ok($readme =~ /^\|\s*`\$\Q$v\E`\s*\|/m,
       "README.md: \$$v in the variables table");
}


# ---------------------------------------------------------------------------
# No Lua in any nginx configuration: *.conf files, the configs in the
# suites and the tools that write configs, and the code blocks of every
# Markdown file.  The one exception is a code block in FROM-LUA.md marked
# <!-- openresty: before -->: the config being replaced.  (The patterns are
# spelled so that this file does not match them.)

my @LuaPatterns = (
    qr/_by_lu[a](?:_block|_file)?\b/,       # access_by_*, content_by_*
    qr/\blu[a]_[a-z_]+/,                    # the *_shared_dict, *_package_path
    qr/_lu[a]_module|\bndk_http_module/,    # load_module of the Lua module
    qr/\bresty[.]\w/,                       # require of the resty libraries
    qr/\bngx[.](?:exit|say|print|req|var|shared|ctx|log|status|header|location)\b/,
);

sub has_lua {
    my $text = shift;
    return grep { $text =~ $_ } @LuaPatterns;
}

# The check can fail: each pattern catches its kind of Lua.
for my $sample ('access_by_l' . 'ua_block {', 'lu' . 'a_shared_dict d 1m;',
                'load_module modules/ngx_http_l' . 'ua_module.so;',
                'local redis = require "re' . 'sty.redis"',
                'ngx' . '.exit(401)')
{
    ok(scalar has_lua($sample), "the Lua check catches: $sample");
}

my (@scanned, @lua);
File::Find::find({ no_chdir => 1, wanted => sub {
    my $f = $File::Find::name =~ s{^\./}{}r;
    if (-d $_) {
        $File::Find::prune = 1
            if $f =~ m{(?:^|/)(?:\.git|build|node_modules|servroot[^/]*|tmp)$};
        return;
    }
    if ($f =~ /\.md$/) {
        my $md = slurp($f);
        while ($md =~ /(?:^(<!--[^\n]*-->)\n)?^```[^\n]*\n(.*?)^```/msg) {
            my ($mark, $code) = ($1, $2);
            next if $f eq 'lua-free-config/FROM-LUA.md' && defined $mark
                    && $mark =~ /openresty: before/;
            push @lua, "$f: " . join(', ', has_lua($code)) if has_lua($code);
        }
        push @scanned, $f;
        return;
    }
    return unless $f =~ /\.(?:conf|t|sh|pl|pm)$/ || $f =~ m{^\.ci/};
    push @scanned, $f;
    push @lua, $f if has_lua(slurp($f));
} }, '.');

ok(scalar(grep { $_ eq 'lua-free-config/gateway.conf' } @scanned)
   && scalar(grep { $_ eq 't/070-configs.t' } @scanned)
   && scalar(grep { $_ eq 'README.md' } @scanned),
   'the Lua check reads the configs, the suites and README.md ('
   . scalar(@scanned) . ' files)');
is(join("\n", @lua), '', 'no Lua in any nginx configuration');


no_shuffle();
run_tests();

__DATA__
