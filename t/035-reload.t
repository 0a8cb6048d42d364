# vi:filetype=perl
#
# A graceful reload (HUP) and a graceful stop with wsgate's Redis
# connections open: new workers authenticate at once, old ones close their
# idle Redis connection and exit without waiting for anything.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use WsgateTest;

our $WS  = '0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01';
our $TOK = 'tA3vQm9xYbL2kR8sWn4pJd7fGh1cZe6uVy0iOq5tNaM';

redis_flush();
seed_token($TOK, ws => $WS, kind => 'workspace');

sub master_pid {
    open my $fh, '<', server_root() . '/logs/nginx.pid' or die "pid: $!";
    my $pid = <$fh>;
    chomp $pid;
    return $pid;
}

# the Redis clients named by wsgate (CLIENT SETNAME wsgate-<pid>)
sub wsgate_clients {
    my $list = redis_cmd('CLIENT', 'LIST');
    return sort map { /\bname=wsgate-(\d+)/ ? $1 : () } split /\n/, $list;
}

master_on();
workers(2);
no_shuffle();
check_accum_error_log();
run_tests();

__DATA__

=== TEST 1: after a reload, the new workers authenticate and the old ones are gone within a second
--- http_config
    wsgate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location = /t {
        wsgate_auth on;
        proxy_set_header X-WS $wsgate_workspace_id;
        proxy_pass http://127.0.0.1:$server_port/echo;
    }

    location = /echo {
        return 200 "ws=$http_x_ws\n";
    }
--- init
select(undef, undef, undef, 0.5);
my @before = main::wsgate_clients();
die "expected 2 wsgate Redis clients before the reload, got @before\n"
    unless @before == 2;
kill 'HUP', main::master_pid();
select(undef, undef, undef, 1.0);
my @after = main::wsgate_clients();
my %old = map { $_ => 1 } @before;
die "old workers' Redis clients left after the reload: @after\n"
    if grep { $old{$_} } @after;
die "expected 2 new wsgate Redis clients after the reload, got @after\n"
    unless @after == 2;
--- request
GET /t
--- more_headers eval
"Authorization: Bearer $::TOK"
--- response_body eval
"ws=$::WS\n"
--- error_log
reconfiguring
gracefully shutting down
exited with code 0
--- no_error_log
[alert]
[crit]
open socket
