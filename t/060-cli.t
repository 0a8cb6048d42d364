# vi:filetype=perl
#
# The operator CLI `wsgate-token` (redis/wsgate-token.c) together with the
# gateway, and the Redis commands redis/README.md documents for a control
# plane, run with redis-cli: both must give the gateway the same answers.
#
# `eval` sections are computed when the file is parsed, before any block
# runs, so every token a request carries is minted here, at file level;
# the blocks' `--- init` then drive the state changes (revoke, rotate,
# mark-restart) right before the requests that check the gateway.
# Exit codes, stdout/stderr, and the keyspace scans are plain Test::More.
#
# Blocks run in file order and share Redis (no flush between blocks):
# every scenario has its own workspace.  Timing: the CLI's `rotate --grace
# 2s` is done last at file level; TEST 1 runs inside that grace, TEST 9
# waits until it has passed.

use Test::Nginx::Socket 'no_plan';
use lib 't/lib';
use WsgateTest;
use WsgateHttp;

use Cwd ();
use File::Temp ();
use IO::Socket::INET ();
use JSON::PP ();
use MIME::Base64 ();
use POSIX ();
use Time::HiRes ();

our $CLI    = Cwd::abs_path('build/wsgate-token');
our $README = 'redis/README.md';
our $PORT   = $ENV{TEST_NGINX_REDIS_PORT};
our $URL    = "redis://127.0.0.1:$PORT/0";

# one workspace per scenario
our $W_ISSUE = '11111111-1111-4111-8111-000000000001';
our $W_UC    = '11111111-1111-4111-8111-00000000000a';     # issued upper case
our $W_REV   = '11111111-1111-4111-8111-000000000002';
our $W_ROT   = '11111111-1111-4111-8111-000000000003';
our $W_GRACE = '11111111-1111-4111-8111-000000000004';
our $W_MR    = '11111111-1111-4111-8111-000000000005';
our $W_CTRL  = '11111111-1111-4111-8111-000000000006';
our $SYS     = 'system:scheduler';
our $SYS_UC  = 'System:Restart';       # a system prefix in another case

our $WD_A    = '22222222-2222-4222-8222-000000000001';     # README ops
our $WD_ROT  = '22222222-2222-4222-8222-000000000003';
our $WD_G    = '22222222-2222-4222-8222-000000000004';
our $WD_MR   = '22222222-2222-4222-8222-000000000005';
our $WD_F1   = '22222222-2222-4222-8222-000000000006';
our $WD_F2   = '22222222-2222-4222-8222-000000000007';
our $DSYS    = 'system:doc-check';

our $GRACE_S   = 2;         # CLI rotate --grace
our $D_GRACE   = 1500;      # README rotate-grace, ms
our @MINTED;                # every token this file minted or generated

our $BAD_REG = qq({"id":"%s","url":"http://127.0.0.1/a2a",)
               . qq("agent_card":{"name":"agent-1"}});

sub now_ms { int(Time::HiRes::time() * 1000) }
sub sleep_until { my $t = shift; my $d = $t - Time::HiRes::time();
                  Time::HiRes::sleep($d) if $d > 0 }

sub bad_reg { sprintf $::BAD_REG, shift }
sub ok_body { "ws=$_[0] kind=workspace\n" }
our $DENIED = qq({"error":"invalid workspace auth token"});

# ---------------------------------------------------------------------------
# Running the CLI: (exit status, stdout, stderr).  Options first:
# cli({ env => { WSGATE_REDIS_URL => ... } }, args...).

sub cli {
    my $o = ref $_[0] eq 'HASH' ? shift : {};
    return run_cli($::CLI,
                   { env => { WSGATE_REDIS_URL => $::URL,
                              %{ $o->{env} || {} } } },
                   @_);
}

# A command that prints a token: exit 0, the token alone on stdout, never
# on stderr, and its digest key in Redis.  Returns the token.
sub mint {
    my @args = @_;
    my ($rc, $out, $err) = cli(@args);
    Test::More::is($rc, 0, "wsgate-token @args: exit 0") or Test::More::diag($err);
    Test::More::like($out, qr/\A[A-Za-z0-9_-]{43}\n\z/,
                     "wsgate-token @args: a 43-char base64url token alone on stdout");
    (my $tok = $out) =~ s/\n\z//;
    push @::MINTED, $tok;
    Test::More::ok(index($err, $tok) < 0, "wsgate-token @args: the token is not on stderr");
    Test::More::is(redis_cmd('EXISTS', 'wsgate:token:' . sha256_hex($tok)), 1,
                   "wsgate-token @args: wsgate:token:<sha256> exists");
    return $tok;
}

# 32 random bytes, base64url without padding: what a control plane mints
sub gen_token {
    open my $r, '<:raw', '/dev/urandom' or die "/dev/urandom: $!";
    read($r, my $b, 32) == 32 or die "short read";
    my $t = MIME::Base64::encode_base64url($b);
    push @::MINTED, $t;
    return $t;
}

# ---------------------------------------------------------------------------
# Redis snapshots and the plaintext scan.

sub databases {
    my $r = redis_cmd('CONFIG', 'GET', 'databases');
    return $r->[1] || 16;
}

# every key of every db: [db, key, type, [values...], has_ttl]
sub dump_all {
    my @all;
    for my $db (0 .. databases() - 1) {
        redis_cmd('SELECT', $db);
        my $cur = 0;
        do {
            my $r = redis_cmd('SCAN', $cur, 'COUNT', 1000);
            $cur = $r->[0];
            for my $k (@{ $r->[1] }) {
                my $t = redis_cmd('TYPE', $k);
                my $v = $t eq 'hash'   ? redis_cmd('HGETALL', $k)
                      : $t eq 'set'    ? [sort @{ redis_cmd('SMEMBERS', $k) }]
                      : $t eq 'string' ? [redis_cmd('GET', $k)]
                      : $t eq 'list'   ? redis_cmd('LRANGE', $k, 0, -1)
                      : $t eq 'zset'   ? redis_cmd('ZRANGE', $k, 0, -1, 'WITHSCORES')
                      : [redis_cmd('DUMP', $k)];
                if ($t eq 'hash') {
                    my %h = @$v;
                    $v = [map { ($_, $h{$_}) } sort keys %h];
                }
                my $ttl = redis_cmd('PTTL', $k);
                push @all, [$db, $k, $t, $v, $ttl >= 0 ? 1 : 0];
            }
        } while ($cur ne '0');
    }
    redis_cmd('SELECT', 0);
    return [sort { $a->[0] <=> $b->[0] || $a->[1] cmp $b->[1] } @all];
}

sub snapshot {
    my $d = dump_all();
    return join "\n", map {
        join "\t", $_->[0], $_->[1], $_->[2], @{ $_->[3] }, "ttl=$_->[4]"
    } @$d;
}

sub connections {
    my ($n) = redis_cmd('INFO', 'stats') =~ /total_connections_received:(\d+)/;
    return $n;
}

# -> list of "db key: token-prefix" for every key name, hash field, hash
# value, set member, string, ... holding a token (or its raw 32 bytes)
sub plaintext_hits {
    my @needles;
    for my $t (@_) {
        push @needles, [$t, $t];
        my $raw = MIME::Base64::decode_base64url($t);
        push @needles, [$t, $raw] if length $raw == 32;
    }
    my @hits;
    for my $e (@{ dump_all() }) {
        for my $s ($e->[1], grep { defined } @{ $e->[3] }) {
            for my $n (@needles) {
                push @hits, "db$e->[0] $e->[1]: " . substr($n->[0], 0, 8)
                    if index($s, $n->[1]) >= 0;
            }
        }
    }
    return @hits;
}

sub scan_keyspace {
    my $what = shift;
    # the scanner must be able to fail: plant a token (and the raw bytes of
    # another) in a non-default db, see both found
    my @t = @::MINTED[0, -1];
    redis_cmd('SELECT', 3);
    redis_cmd('HSET', 'decoy:hash', 'note', "x$t[0]y");
    redis_cmd('SADD', 'decoy:set', MIME::Base64::decode_base64url($t[1]));
    redis_cmd('SELECT', 0);
    my @found = plaintext_hits(@t);
    redis_cmd('SELECT', 3);
    redis_cmd('DEL', 'decoy:hash', 'decoy:set');
    redis_cmd('SELECT', 0);
    Test::More::is(scalar(grep { /^db3 decoy:(hash|set): / } @found), 2,
                   "$what: scanner self-test finds the 2 planted tokens");

    my @hits = plaintext_hits(@::MINTED);
    my $keys = grep { $_->[1] =~ /^wsgate:token:[0-9a-f]{64}$/ } @{ dump_all() };
    Test::More::is_deeply(\@hits, [],
        "$what: none of the " . scalar(@::MINTED) . " tokens is in Redis "
        . "in plaintext ($keys token keys)");
}

# ---------------------------------------------------------------------------
# redis/README.md: the ```redis op=<name> blocks (same convention as
# /work/cli-check.sh: blank and # lines dropped; "# each <list>" repeats
# a line per value of the list, none when empty; <word> placeholders).

sub doc_blocks {
    my ($file) = @_;
    open my $f, '<', $file or die "$file: $!";
    local $/;
    my $s = <$f>;
    my %b;
    while ($s =~ /^```redis op=(\S+)[ \t]*\n(.*?)^```[ \t]*$/msg) {
        die "op $1 twice\n" if exists $b{$1};
        $b{$1} = $2;
    }
    return \%b;
}

sub instantiate {
    my ($text, $v) = @_;
    my @out;
    for my $line (split /\n/, $text) {
        next if $line =~ /^\s*(#|$)/;
        my $each;
        if ($line =~ s/\s+#\s*each\s+(\w+)\s*$//) { $each = $1 }
        die "stray comment: $line\n" if $line =~ /\s#/;
        my @vals = defined $each ? @{ $v->{$each} || [] } : (undef);
        for my $x (@vals) {
            (my $l = $line) =~ s{<(\w+)>}{
                defined $each && $1 eq $each ? $x
                : defined $v->{$1} && !ref $v->{$1} ? $v->{$1}
                : die "no value for <$1>\n"
            }ge;
            push @out, $l;
        }
    }
    return @out;
}

# redis-cli argument splitting (double quotes, backslash escapes)
sub split_cli {
    my ($l) = @_;
    my @a;
    while ($l =~ /\G\s*("((?:[^"\\]|\\.)*)"|(\S+))/gc) {
        if (defined $2) {
            (my $x = $2) =~ s/\\(.)/$1 eq 'n' ? "\n" : $1 eq 't' ? "\t" : $1/ge;
            push @a, $x;
        } else {
            push @a, $3;
        }
    }
    return @a;
}

our $DOC = doc_blocks($README);

# A write op: the instantiated block piped into ONE redis-cli process (so
# WATCH/MULTI/EXEC share a connection).  Asserts no error reply and an
# EXEC that ran (redis-cli prints an empty line for a nil EXEC).
sub doc_run {
    my ($op, %v) = @_;
    my @lines = eval { instantiate($::DOC->{$op} // die("no op $op\n"), \%v) };
    if (!@lines) {
        Test::More::fail("README op=$op instantiates: " . ($@ || 'empty'));
        return;
    }
    my $out = File::Temp->new;
    my $pid = open(my $p, '|-') // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', $out->filename;
        open STDERR, '>&', \*STDOUT;
        exec('redis-cli', '-p', $::PORT) or POSIX::_exit(127);
    }
    print $p "$_\n" for @lines;
    close $p;
    my $rc = $? >> 8;
    open my $f, '<', $out->filename;
    my @reply = map { chomp; $_ } <$f>;
    my @err = grep { /^(\(error\) )?(ERR|WRONGTYPE|EXECABORT|CROSSSLOT|MOVED|NOSCRIPT)\b/ } @reply;
    my $exec_ok = 1;
    if (grep { $_ eq 'EXEC' } @lines) {
        my ($last) = grep { $reply[$_] eq 'QUEUED' } reverse 0 .. $#reply;
        $exec_ok = defined $last && $last < $#reply && $reply[$last + 1] ne '';
    }
    Test::More::ok($rc == 0 && !@err && $exec_ok,
                   "README op=$op: " . scalar(@lines) . " commands through redis-cli")
        or Test::More::diag(join "\n", "sent:", @lines, "got:", @reply);
    return @reply;
}

# A read op (status, gateway-status): the same lines on one connection,
# through redis_cmd so the replies come back structured.  Returns the
# replies, one per line.
sub doc_read {
    my ($op, %v) = @_;
    my @lines = instantiate($::DOC->{$op} // die("no op $op\n"), \%v);
    return map { redis_cmd(split_cli($_)) } @lines;
}

# the rules of "Read a workspace's state", from the EXEC reply
sub derive_state {
    my ($regfail, $restart) = @_;
    my %f = @{ $regfail || [] };
    return ('online', undef) unless %f;
    return ('restarting', \%f) if defined $restart && $f{at_ms} >= $restart;
    return ('degraded', \%f);
}

# what the README's `status` op reads, as the CLI prints it
sub doc_status {
    my $ws = shift;
    my $members = redis_cmd('SMEMBERS', "wsgate:ws:{$ws}:tokens");
    my @r = doc_read('status', ws => $ws, member => $members);
    my $exec = $r[-1 - @$members];
    my ($state, $f) = derive_state($exec->[0], $exec->[1]);
    my $live = 0;
    $live += $_ for @r[@r - @$members .. $#r];
    return { workspace_id => $ws, state => $state,
             last_failure => $f && { at_ms => $f->{at_ms} + 0,
                                     status => $f->{status} + 0,
                                     reason => $f->{reason},
                                     source => $f->{source} },
             restart_at_ms => defined $exec->[1] ? $exec->[1] + 0 : undef,
             live_tokens => $live };
}

# the body of a `wsgate_status` answer, from a hash shaped like the CLI's
# status (live_tokens ignored)
sub gateway_json {
    my $s = shift;
    my $f = $s->{last_failure};
    my $str = sub { JSON::PP->new->allow_nonref->encode($_[0]) };
    my $lf = $f ? sprintf('{"at_ms":%s,"status":%s,"reason":%s,"source":%s}',
                          $f->{at_ms}, $f->{status}, $str->($f->{reason}),
                          $str->($f->{source}))
                : 'null';
    return sprintf('{"workspace_id":"%s","state":"%s","last_failure":%s,'
                   . '"restart_at_ms":%s}', $s->{workspace_id}, $s->{state},
                   $lf, $s->{restart_at_ms} // 'null');
}

# what the README's `gateway-status` op reads, as the gateway answers it
sub doc_gateway_status_json {
    my $ws = shift;
    my @r = doc_read('gateway-status', ws => $ws);
    my $exec = $r[-1];
    my ($state, $f) = derive_state($exec->[0], $exec->[1]);
    return gateway_json({ workspace_id => $ws, state => $state,
                          last_failure => $f, restart_at_ms => $exec->[1] });
}

sub cli_status {
    my $ws = shift;
    my ($rc, $out, $err) = cli('status', $ws);
    Test::More::is($rc, 0, "wsgate-token status $ws: exit 0") or Test::More::diag($err);
    Test::More::like($out, qr/\A\{[^\n]*\}\n\z/, "status prints one line");
    return eval { JSON::PP::decode_json($out) } || {};
}

sub token_shape {
    my $h = { @{ redis_cmd('HGETALL', 'wsgate:token:' . sha256_hex(shift)) } };
    $h->{created_ms} = $h->{created_ms} =~ /^\d{13}$/ ? 'ms' : "bad $h->{created_ms}"
        if exists $h->{created_ms};
    return $h;
}

# ---------------------------------------------------------------------------
# File level: the README's op list, minting, bad input, Redis down, scan.

redis_flush();
http_backend();

Test::More::ok(-x $CLI, "$CLI is built");

Test::More::is_deeply([sort keys %$DOC],
    [sort qw(issue issue-system rotate rotate-grace revoke revoke-system
             mark-restart status gateway-auth gateway-register-failure
             gateway-register-success gateway-restart gateway-status)],
    'redis/README.md documents exactly the ops this file checks');

our $T_ISSUE = mint('issue', $W_ISSUE);
our $T_UC    = mint('issue', uc $W_UC);
Test::More::is(redis_cmd('HGET', 'wsgate:token:' . sha256_hex($T_UC), 'ws'), $W_UC,
               'an upper-case workspace id is stored lower-case');
Test::More::is_deeply(token_shape($T_ISSUE),
    { ws => $W_ISSUE, kind => 'workspace', created_ms => 'ms' },
    'issue: the token hash holds ws, kind, created_ms');
Test::More::is(redis_cmd('PTTL', 'wsgate:token:' . sha256_hex($T_ISSUE)), -1,
               'issue: no TTL without --ttl');
Test::More::is_deeply(redis_cmd('SMEMBERS', "wsgate:ws:{$W_ISSUE}:tokens"),
                      [sha256_hex($T_ISSUE)], 'issue: the digest is in the set');

our @T_REV = (mint('issue', $W_REV), mint('issue', $W_REV));

our @T_ROT_OLD = (mint('issue', $W_ROT), mint('issue', $W_ROT));
our $T_ROT_NEW;
{
    my ($rc, $out, $err) = cli('rotate', $W_ROT);
    Test::More::is($rc, 0, 'rotate: exit 0');
    ($T_ROT_NEW) = $out =~ /\A([A-Za-z0-9_-]{43})\n\z/;
    push @MINTED, $T_ROT_NEW if defined $T_ROT_NEW;
    Test::More::ok(defined $T_ROT_NEW, 'rotate: the new token alone on stdout');
    Test::More::like($err, qr/\Awsgate-token: revoked 2 old token\(s\) of \Q$W_ROT\E\n\z/,
                     'rotate: a note about the old tokens on stderr');
    Test::More::is_deeply(redis_cmd('SMEMBERS', "wsgate:ws:{$W_ROT}:tokens"),
                          [sha256_hex($T_ROT_NEW // '')],
                          'rotate: the set holds only the new digest');
}

our $T_SYS = mint('issue-system', $SYS);
Test::More::is_deeply(token_shape($T_SYS),
    { name => $SYS, kind => 'system', created_ms => 'ms' },
    'issue-system: the token hash holds name, kind=system, created_ms');

# system prefixes match in any ASCII case (the gateway's forged-caller
# rule); the name is kept as given
our $T_SYS_UC = mint('issue-system', $SYS_UC);
Test::More::is_deeply(token_shape($T_SYS_UC),
    { name => $SYS_UC, kind => 'system', created_ms => 'ms' },
    'issue-system System:Restart: the name is kept as given');
Test::More::is_deeply(redis_cmd('SMEMBERS', "wsgate:sys:{$SYS_UC}:tokens"),
                      [sha256_hex($T_SYS_UC)],
                      'issue-system System:Restart: the digest is in its set');

our $T_MR   = mint('issue', $W_MR);
our $T_CTRL = mint('issue', $W_CTRL);

# bad input: exit 2, one clear line on stderr, nothing on stdout, nothing
# written, and not even a connection to Redis
{
    my $ws = $W_ISSUE;
    my @bad = (
        [['issue', 'not-a-uuid'], qr/"not-a-uuid" is not a workspace UUID/],
        [['issue', substr($ws, 0, 35)], qr/is not a workspace UUID/],
        [['issue', "$ws-"], qr/is not a workspace UUID/],
        [['revoke', 'not-a-uuid'], qr/"not-a-uuid" is not a workspace UUID or a system caller name/],
        [['rotate', 'scheduler'], qr/"scheduler" is not a workspace UUID or a system caller name/],
        [['mark-restart', $SYS], qr/"system:scheduler" is not a workspace UUID/],
        [['status', 'xyz'], qr/"xyz" is not a workspace UUID/],
        [['issue-system', 'scheduler'], qr/"scheduler" is not a system caller name/],
        [['issue-system', 'system:'], qr/"system:" is only a prefix/],
        [['issue-system', 'SYSTEM:'], qr/"SYSTEM:" is only a prefix/],
        [['issue-system', 'Webhook:'], qr/"Webhook:" is only a prefix/],
        [['issue-system', 'SYSTEMX:y'], qr/"SYSTEMX:y" is not a system caller name/],
        [['issue-system', 'system:{x}'], qr/no braces/],
        [['issue-system', $ws], qr/is not a system caller name/],
        [['frobnicate', $ws], qr/unknown command "frobnicate"/],
        [['--frob', 'issue', $ws], qr/unknown option "--frob"/],
        [['issue'], qr/issue needs a workspace id/],
        [[], qr/no command given/],
        [['--redis', "http://127.0.0.1:$PORT/0", 'issue', $ws], qr/invalid Redis URL/],
        [['--redis', "redis://127.0.0.1:$PORT/x", 'issue', $ws], qr/invalid Redis URL/],
        [['--redis', "redis://127.0.0.1:$PORT/0/x", 'issue', $ws], qr/invalid Redis URL/],
        [['--redis', "redis://127.0.0.1:99999/0", 'issue', $ws], qr/invalid Redis URL/],
        [['--redis', "rediss://127.0.0.1:$PORT/0", 'issue', $ws], qr/rediss:\/\/.*TLS/],
        [[{ env => { WSGATE_REDIS_URL => "redis//127.0.0.1:$PORT" } }, 'issue', $ws],
         qr/invalid Redis URL "redis\/\/127/],
        [['rotate', $ws, '--grace', '5x'], qr/invalid --grace "5x"/],
        [['rotate', $ws, '--grace', '-1s'], qr/invalid --grace "-1s"/],
        [['rotate', $ws, '--grace', '600w'], qr/invalid --grace "600w"/],
        [['mark-restart', $ws, '--grace', '0'], qr/--grace above zero/],
        [['mark-restart', $ws, '--grace=2x'], qr/invalid --grace "2x"/],
        [['issue', $ws, '--grace', '2s'], qr/issue takes no --grace/],
        [['issue', $ws, '--ttl', 'soon'], qr/invalid --ttl "soon"/],
        [['--prefix', 'a{b}:', 'issue', $ws], qr/invalid --prefix/],
        [['issue', $ws, 'extra'], qr/unexpected argument "extra"/],
    );
    for my $case (@bad) {
        my ($args, $msg) = @$case;
        my @args = @$args;
        my $name = join ' ', map {
            ref $_ ? "WSGATE_REDIS_URL=$_->{env}{WSGATE_REDIS_URL}" : $_
        } @args;
        my $before = snapshot();
        my $conns = connections();
        my ($rc, $out, $err) = cli(@args);
        Test::More::is($rc, 2, "bad input [$name]: exit 2");
        Test::More::like($err, qr/\Awsgate-token: [^\n]*\n\z/,
                         "bad input [$name]: one line on stderr");
        Test::More::like($err, $msg, "bad input [$name]: says why")
            or Test::More::diag($err);
        Test::More::is($out, '', "bad input [$name]: nothing on stdout");
        Test::More::is(connections(), $conns,
                       "bad input [$name]: no connection to Redis");
        Test::More::ok(snapshot() eq $before, "bad input [$name]: nothing written");
    }
}

# Redis unreachable: a free port with nothing listening
{
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1) or die $!;
    my $dead = $s->sockport;
    close $s;
    for my $args (['issue', $W_ISSUE], ['revoke', $W_ISSUE], ['status', $W_ISSUE],
                  ['mark-restart', $W_ISSUE]) {
        my $before = snapshot();
        my ($rc, $out, $err) =
            cli({ env => { WSGATE_REDIS_URL => "redis://127.0.0.1:$dead/0" } },
                @$args);
        Test::More::is($rc, 1, "redis down [@$args]: exit 1");
        Test::More::like($err,
            qr/\Awsgate-token: cannot connect to redis 127\.0\.0\.1:$dead: [^\n]+\n\z/,
            "redis down [@$args]: one line saying why") or Test::More::diag($err);
        Test::More::is($out, '', "redis down [@$args]: nothing on stdout");
        Test::More::ok(snapshot() eq $before,
                       "redis down [@$args]: nothing written here either");
    }
}

# A Redis password is never shown (issue 11 item 10): wherever a message
# echoes a URL its userinfo (up to the last '@') is "***", so is every
# query value but a numeric db; a parsed URL with credentials is named
# "***@host:port"; a reply to AUTH that could quote the password is cut
# to its error code.  $PW_RE catches the password plain and
# percent-encoded.
our $PW    = 's3cr3t-Pw';
our $PW_RE = qr/s3cr3t/i;
{
    my $ws = $W_ISSUE;
    my @bad = (
        # [url, the URL as the message must show it]
        ["redis://alice:$PW\@127.0.0.1:notaport/0",
         'redis://***@127.0.0.1:notaport/0'],
        ["redis://alice:$PW\@127.0.0.1:$PORT/x",
         "redis://***\@127.0.0.1:$PORT/x"],
        ["redis://:$PW\@127.0.0.1:99999/0", 'redis://***@127.0.0.1:99999/0'],
        ["http://alice:$PW\@127.0.0.1:$PORT/0",
         "http://***\@127.0.0.1:$PORT/0"],
        ["rediss://alice:$PW\@127.0.0.1:$PORT/0",
         "rediss://***\@127.0.0.1:$PORT/0"],
        ["redis://alice:$PW\@[]:$PORT/0", "redis://***\@[]:$PORT/0"],
        ["redis://alice:$PW", 'redis://alice:***'],        # no "@host"
        ["redis://alice:$PW\@127.0.0.1:$PORT/0/junk",
         "redis://***\@127.0.0.1:$PORT/0/junk"],
        ["redis://alice:$PW\@127.0.0.1:$PORT/0?password=$PW",
         "redis://***\@127.0.0.1:$PORT/0?password=***"],
        ["redis://alice:s3cr3t%2DPw\@127.0.0.1:notaport/0",
         'redis://***@127.0.0.1:notaport/0'],
        ["redis://alice:s3cr3t%zz\@127.0.0.1:$PORT/0",
         "redis://***\@127.0.0.1:$PORT/0"],
        ["redis://alice:s3cr3t/Pw\@127.0.0.1:$PORT/0",     # a raw '/'
         "redis://***\@127.0.0.1:$PORT/0"],
        ["redis://alice:s3cr3t?Pw\@127.0.0.1:notaport/0", # a raw '?'
         'redis://***'],
        ["alice:$PW\@127.0.0.1:$PORT/0", "***\@127.0.0.1:$PORT/0"],
        ["alice:$PW\@127.0.0.1//0", '***@127.0.0.1//0'],   # "//" after '@'
        ["unix:///tmp/r.sock?db=1&user=alice&password=$PW&x",
         'unix:///tmp/r.sock?db=1&user=***&password=***&***'],
    );
    my @cases;
    for my $b (@bad) {
        my ($url, $shown) = @$b;
        my $why = $url =~ /^rediss:/ ? qr/\Q"$shown"\E.*TLS/
                                     : qr/invalid Redis URL \Q"$shown"\E/;
        push @cases, [['--redis', $url, 'issue', $ws], $why],
                     [['--redis=' . $url, 'status', $ws], $why];
    }
    # a URL given where an argument or a command goes
    my $arg = 'redis://***@127.0.0.1/0';
    my $id  = '***@127.0.0.1';
    push @cases,
        [[{ env => { WSGATE_REDIS_URL => $bad[0][0] } }, 'issue', $ws],
         qr/invalid Redis URL \Q"$bad[0][1]"\E/],
        [['issue', $ws, "redis://alice:$PW\@127.0.0.1/0"],
         qr/unexpected argument \Q"$arg"\E/],
        [["redis://alice:$PW\@127.0.0.1/0", 'issue', $ws],
         qr/unknown command \Q"$arg"\E/],
        [['issue', ":$PW\@127.0.0.1"],
         qr/issue: \Q"$id"\E is not a workspace UUID/];
    for my $case (@cases) {
        my ($args, $msg) = @$case;
        my @args = @$args;
        my $name = join ' ', map {
            ref $_ ? "WSGATE_REDIS_URL=$_->{env}{WSGATE_REDIS_URL}" : $_
        } @args;
        my $before = snapshot();
        my $conns = connections();
        my ($rc, $out, $err) = cli(@args);
        Test::More::is($rc, 2, "password in a bad URL [$name]: exit 2");
        Test::More::like($err, qr/\Awsgate-token: [^\n]*\n\z/,
                         "password in a bad URL [$name]: one line on stderr");
        Test::More::like($err, $msg,
                         "password in a bad URL [$name]: the URL shown with ***")
            or Test::More::diag($err);
        Test::More::unlike("$out$err", $PW_RE,
                           "password in a bad URL [$name]: the password is not shown");
        Test::More::is($out, '', "password in a bad URL [$name]: nothing on stdout");
        Test::More::is(connections(), $conns,
                       "password in a bad URL [$name]: no connection to Redis");
        Test::More::ok(snapshot() eq $before,
                       "password in a bad URL [$name]: nothing written");
    }
}

# ... nor when the URL is good: Redis unreachable, AUTH refused, and a
# server that quotes the AUTH arguments back (AUTH renamed away, as some
# managed services do)
our $NOAUTH = redis_extra(name => 'NOAUTH', conf => ['rename-command AUTH ""']);
{
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1) or die $!;
    my $dead = $s->sockport;
    close $s;
    my $np = $NOAUTH->{port};
    my @down = (
        # [url, what stderr must say]
        ["redis://alice:$PW\@127.0.0.1:$dead/0",
         qr/\Awsgate-token: cannot connect to redis \Q***\E\@127\.0\.0\.1:$dead: [^\n]+\n\z/],
        ["redis://:s3cr3t%2DPw\@127.0.0.1:$dead/0",
         qr/\Awsgate-token: cannot connect to redis \Q***\E\@127\.0\.0\.1:$dead: [^\n]+\n\z/],
        ["unix:///nonexistent/redis.sock?password=$PW",
         qr/\Awsgate-token: cannot connect to redis \Q***\E\@unix:\/nonexistent\/redis\.sock: [^\n]+\n\z/],
        ["redis://alice:$PW\@127.0.0.1:$PORT/0",
         qr/\Awsgate-token: redis \Q***\E\@127\.0\.0\.1:$PORT: AUTH: WRONGPASS [^\n]+\n\z/],
        ["redis://alice:$PW\@127.0.0.1:$np/0",
         qr/\Awsgate-token: redis \Q***\E\@127\.0\.0\.1:$np: AUTH: ERR \(the reply is not shown[^\n]+\n\z/],
        ["redis://:$PW\@127.0.0.1:$np/0",
         qr/\Awsgate-token: redis \Q***\E\@127\.0\.0\.1:$np: AUTH: ERR \(the reply is not shown[^\n]+\n\z/],
    );
    for my $d (@down) {
        my ($url, $msg) = @$d;
        for my $args (['issue', $W_ISSUE], ['status', $W_ISSUE]) {
            my $before = snapshot();
            my ($rc, $out, $err) =
                cli({ env => { WSGATE_REDIS_URL => $url } }, @$args);
            Test::More::is($rc, 1, "password, no Redis [$url @$args]: exit 1");
            Test::More::like($err, $msg,
                "password, no Redis [$url @$args]: one line, *** for the credentials")
                or Test::More::diag($err);
            Test::More::unlike("$out$err", $PW_RE,
                "password, no Redis [$url @$args]: the password is not shown");
            Test::More::is($out, '', "password, no Redis [$url @$args]: nothing on stdout");
            Test::More::ok(snapshot() eq $before,
                           "password, no Redis [$url @$args]: nothing written");
        }
    }
    # the renamed AUTH really does quote the password: the check above can fail
    my $r = eval { redis_cmd_on($NOAUTH, 'AUTH', 'alice', $PW) };
    Test::More::like($@, qr/unknown command.*\Q$PW\E/,
                     'a server without AUTH quotes the password in its error');
}

# README ops: tokens a control plane would mint (the ops run in the blocks)
our $D_ISSUE   = gen_token();
our $D_ISSUE2  = gen_token();
our $D_ROT_OLD = gen_token();
our $D_ROT_NEW = gen_token();
our $D_G_OLD   = gen_token();
our $D_G_NEW   = gen_token();
our $D_SYS     = gen_token();
our $D_MR      = gen_token();
our $T_FIX     = now_ms() - 60000;  # fixed times for the state agreement

# last: the CLI's rotation with grace, timed from here
our $T_G_OLD = mint('issue', $W_GRACE);
our $G_BEFORE = Time::HiRes::time();
our ($T_G_NEW, $G_AFTER);
{
    my ($rc, $out, $err) = cli('rotate', $W_GRACE, '--grace', "${GRACE_S}s");
    $G_AFTER = Time::HiRes::time();
    Test::More::is($rc, 0, 'rotate --grace: exit 0');
    ($T_G_NEW) = $out =~ /\A([A-Za-z0-9_-]{43})\n\z/;
    push @MINTED, $T_G_NEW if defined $T_G_NEW;
    Test::More::ok(defined $T_G_NEW, 'rotate --grace: the new token alone on stdout');
    Test::More::like($err,
        qr/\Awsgate-token: 1 old token\(s\) of \Q$W_GRACE\E stop working in 2000 ms\n\z/,
        'rotate --grace: says when the old token stops');
    my $pttl = redis_cmd('PTTL', 'wsgate:token:' . sha256_hex($T_G_OLD));
    my $waited = int((Time::HiRes::time() - $G_BEFORE) * 1000) + 1;
    Test::More::ok($pttl > $GRACE_S * 1000 - $waited && $pttl <= $GRACE_S * 1000,
                   "rotate --grace 2s: the old token expires in exactly 2 s (PTTL $pttl)");
    Test::More::is(redis_cmd('PTTL', 'wsgate:token:' . sha256_hex($T_G_NEW // '')), -1,
                   'rotate --grace: the new token has no TTL');
    Test::More::is(redis_cmd('SCARD', "wsgate:ws:{$W_GRACE}:tokens"), 2,
                   'rotate --grace: the old digest stays in the set during the grace');
}

scan_keyspace('after the CLI minted');

our $HttpConfig = <<"_EOC_";
    wsgate_redis 127.0.0.1:$PORT timeout=2s;
_EOC_

our $Config = <<'_EOC_';
    location = /t {
        wsgate_auth on;
        proxy_set_header X-WS $wsgate_workspace_id;
        proxy_set_header X-Kind $wsgate_token_kind;
        proxy_pass http://127.0.0.1:$server_port/echo;
    }

    location = /echo {
        return 200 "ws=$http_x_ws kind=$http_x_kind\n";
    }

    location = /registry/register {
        wsgate_auth on;
        wsgate_register on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    }

    location ~ ^/workspaces/(?<ws>[^/]+)/state$ {
        wsgate_status $ws;
    }
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: CLI rotate --grace 2s: inside the grace the old and the new token both work
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
# late in the grace (a grace cut in half fails here), with a safe margin:
# the old token expires at the earliest at G_BEFORE + 2 s
main::sleep_until($::G_AFTER + $::GRACE_S - 0.6);
Test::More::ok(Time::HiRes::time() < $::G_BEFORE + $::GRACE_S - 0.25,
               'TEST 1 runs inside the grace (at least 250 ms before its end)');
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T_G_OLD", "Authorization: Bearer $::T_G_NEW"]
--- error_code eval
[200, 200]
--- response_body eval
[main::ok_body($::W_GRACE), main::ok_body($::W_GRACE)]



=== TEST 2: CLI issue: the printed token authenticates for its workspace (an upper-case id too)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T_ISSUE", "Authorization: Bearer $::T_UC"]
--- error_code eval
[200, 200]
--- response_body eval
[main::ok_body($::W_ISSUE), main::ok_body($::W_UC)]



=== TEST 3: two CLI-issued tokens of one workspace work (before the revoke)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T_REV[0]", "Authorization: Bearer $::T_REV[1]"]
--- error_code eval
[200, 200]
--- response_body eval
[main::ok_body($::W_REV), main::ok_body($::W_REV)]



=== TEST 4: CLI revoke: both answer 401 at once; another workspace's token still works
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
my ($rc, $out, $err) = main::cli('revoke', $::W_REV);
Test::More::is($rc, 0, 'revoke: exit 0');
Test::More::is($out, "revoked 2 token(s) of $::W_REV\n", 'revoke: says how many');
Test::More::is(redis_cmd('SCARD', "wsgate:ws:{$::W_REV}:tokens"), 0, 'revoke: the set is empty');
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T_REV[0]", "Authorization: Bearer $::T_REV[1]",
 "Authorization: Bearer $::T_ISSUE"]
--- error_code eval
[401, 401, 200]
--- response_body eval
[$::DENIED, $::DENIED, main::ok_body($::W_ISSUE)]



=== TEST 5: CLI rotate: the new token works, both old ones answer 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T_ROT_NEW", "Authorization: Bearer $::T_ROT_OLD[0]",
 "Authorization: Bearer $::T_ROT_OLD[1]"]
--- error_code eval
[200, 401, 401]
--- response_body eval
[main::ok_body($::W_ROT), $::DENIED, $::DENIED]



=== TEST 6: CLI rotate again: the token that just worked answers 401 at once
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
my ($rc, $out, $err) = main::cli('rotate', $::W_ROT);
Test::More::is($rc, 0, 'second rotate: exit 0');
push @::MINTED, $1 if $out =~ /\A([A-Za-z0-9_-]{43})\n\z/;
Test::More::like($err, qr/revoked 1 old token\(s\)/, 'second rotate: 1 old token revoked');
--- request eval
"GET /t"
--- more_headers eval
"Authorization: Bearer $::T_ROT_NEW"
--- error_code: 401
--- response_body eval
$::DENIED



=== TEST 7: CLI issue-system system:scheduler and System:Restart: system tokens (not workspace tokens for register)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["GET /t", "POST /registry/register\n" . main::bad_reg($::W_ISSUE), "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T_SYS", "Authorization: Bearer $::T_SYS",
 "Authorization: Bearer $::T_SYS_UC"]
--- error_code eval
[200, 401, 200]
--- response_body eval
["ws= kind=system\n", qr/"error"/, "ws= kind=system\n"]



=== TEST 8: CLI revoke system:scheduler: its token answers 401 at once
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
my ($rc, $out, $err) = main::cli('revoke', $::SYS);
Test::More::is($rc, 0, 'revoke system: exit 0');
Test::More::is($out, "revoked 1 token(s) of $::SYS\n", 'revoke system: says how many');
--- request eval
"GET /t"
--- more_headers eval
"Authorization: Bearer $::T_SYS"
--- error_code: 401
--- response_body eval
$::DENIED



=== TEST 9: CLI rotate --grace 2s: once the grace has passed the old token answers 401, the new one works
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::sleep_until($::G_AFTER + $::GRACE_S + 0.3);
Test::More::is(redis_cmd('EXISTS', 'wsgate:token:' . sha256_hex($::T_G_OLD)), 0,
               'the old token key expired with the grace');
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T_G_OLD", "Authorization: Bearer $::T_G_NEW"]
--- error_code eval
[401, 200]
--- response_body eval
[$::DENIED, main::ok_body($::W_GRACE)]



=== TEST 10: control: a register failure with no restart window reads degraded
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["POST /registry/register\n" . main::bad_reg($::W_CTRL), "GET /workspaces/$::W_CTRL/state"]
--- more_headers eval
["Authorization: Bearer $::T_CTRL", ""]
--- error_code eval
[400, 200]
--- response_body eval
[qr/"field":"url"/,
 qr/\A\{"workspace_id":"\Q$::W_CTRL\E","state":"degraded","last_failure":\{"at_ms":\d{13},"status":400,"reason":"url: [^"]+","source":"gateway"\},"restart_at_ms":null\}\z/]



=== TEST 11: CLI mark-restart --grace 5s: a register failure inside the window reads restarting
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
my ($rc, $out, $err) = main::cli('mark-restart', $::W_MR, '--grace', '5s');
Test::More::is($rc, 0, 'mark-restart: exit 0');
Test::More::like($out, qr/\Arestart window of \Q$::W_MR\E open for 5000 ms from (\d{13})\n\z/,
                 'mark-restart: says so');
($::MR_NOW) = $out =~ /from (\d{13})/;
$::MR_NOW //= 'none';
my $pttl = redis_cmd('PTTL', "wsgate:ws:{$::W_MR}:restart");
Test::More::ok($pttl > 4500 && $pttl <= 5000,
               "mark-restart: the window is open for 5 s (PTTL $pttl)");
Test::More::is(redis_cmd('GET', "wsgate:ws:{$::W_MR}:restart"), $::MR_NOW,
               'mark-restart: the window starts at the time printed');
--- request eval
["POST /registry/register\n" . main::bad_reg($::W_MR), "GET /workspaces/$::W_MR/state"]
--- more_headers eval
["Authorization: Bearer $::T_MR", ""]
--- error_code eval
[400, 200]
--- response_body eval
[qr/"field":"url"/,
 qr/\A\{"workspace_id":"\Q$::W_MR\E","state":"restarting","last_failure":\{"at_ms":\d{13},"status":400,"reason":"url: [^"]+","source":"gateway"\},"restart_at_ms":(??{ $::MR_NOW })\}\z/]



=== TEST 12: CLI status says restarting too, and agrees with the gateway field by field
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
my $s = main::cli_status($::W_MR);
Test::More::is($s->{state}, 'restarting', 'wsgate-token status: restarting');
Test::More::is($s->{restart_at_ms}, $::MR_NOW,
               'wsgate-token status: restart_at_ms as printed by mark-restart');
Test::More::is($s->{live_tokens}, 1, 'wsgate-token status: 1 live token');
$::EXPECT = main::gateway_json($s);
Test::More::note("the gateway must answer $::EXPECT");
--- request eval
"GET /workspaces/$::W_MR/state"
--- response_body eval
qr/\A(??{ quotemeta $::EXPECT })\z/



=== TEST 13: README op=issue with redis-cli: the tokens work on the very next request
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
for ([$::D_ISSUE, $::WD_A], [$::D_ISSUE2, $::WD_A], [$::D_ROT_OLD, $::WD_ROT],
     [$::D_G_OLD, $::WD_G], [$::D_MR, $::WD_MR]) {
    main::doc_run('issue', ws => $_->[1], digest => sha256_hex($_->[0]),
                  now_ms => main::now_ms(), ttl_ms => []);
}
Test::More::is_deeply(main::token_shape($::D_ISSUE),
                      { %{ main::token_shape($::T_ISSUE) }, ws => $::WD_A },
                      'README issue writes the same token hash as the CLI');
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::D_ISSUE", "Authorization: Bearer $::D_ISSUE2",
 "Authorization: Bearer $::D_ROT_OLD", "Authorization: Bearer $::D_G_OLD"]
--- error_code eval
[200, 200, 200, 200]
--- response_body eval
[main::ok_body($::WD_A), main::ok_body($::WD_A), main::ok_body($::WD_ROT),
 main::ok_body($::WD_G)]



=== TEST 14: README op=revoke: both tokens answer 401 at once
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::doc_run('revoke', ws => $::WD_A,
              member => redis_cmd('SMEMBERS', "wsgate:ws:{$::WD_A}:tokens"));
Test::More::is(redis_cmd('SCARD', "wsgate:ws:{$::WD_A}:tokens"), 0, 'README revoke: the set is empty');
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::D_ISSUE", "Authorization: Bearer $::D_ISSUE2"]
--- error_code eval
[401, 401]
--- response_body eval
[$::DENIED, $::DENIED]



=== TEST 15: README op=rotate: the new token works, the old one answers 401 at once
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::doc_run('rotate', ws => $::WD_ROT, digest => sha256_hex($::D_ROT_NEW),
              now_ms => main::now_ms(), ttl_ms => [],
              member => redis_cmd('SMEMBERS', "wsgate:ws:{$::WD_ROT}:tokens"));
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::D_ROT_NEW", "Authorization: Bearer $::D_ROT_OLD"]
--- error_code eval
[200, 401]
--- response_body eval
[main::ok_body($::WD_ROT), $::DENIED]



=== TEST 16: README op=rotate-grace (1500 ms): inside the grace both work
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
my $set = "wsgate:ws:{$::WD_G}:tokens";
my $members = redis_cmd('SMEMBERS', $set);
my (@exp, @gone);
for my $m (@$members) {
    my $p = redis_cmd('PTTL', "wsgate:token:$m");
    push @exp, $m if $p == -1 || $p > $::D_GRACE;
    push @gone, $m if $p == -2;
}
$::DG_AT = Time::HiRes::time();
main::doc_run('rotate-grace', ws => $::WD_G, digest => sha256_hex($::D_G_NEW),
              now_ms => main::now_ms(), ttl_ms => [], member => $members,
              expire_digest => \@exp, gone_digest => \@gone, grace_ms => $::D_GRACE);
my $pttl = redis_cmd('PTTL', 'wsgate:token:' . sha256_hex($::D_G_OLD));
Test::More::ok($pttl > $::D_GRACE - 500 && $pttl <= $::D_GRACE, "README rotate-grace: old PTTL $pttl");
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::D_G_OLD", "Authorization: Bearer $::D_G_NEW"]
--- error_code eval
[200, 200]
--- response_body eval
[main::ok_body($::WD_G), main::ok_body($::WD_G)]



=== TEST 17: README op=issue-system: a system token
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::doc_run('issue-system', name => $::DSYS, digest => sha256_hex($::D_SYS),
              now_ms => main::now_ms(), ttl_ms => []);
--- request eval
"GET /t"
--- more_headers eval
"Authorization: Bearer $::D_SYS"
--- response_body
ws= kind=system



=== TEST 18: README op=revoke-system: the system token answers 401 at once
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::doc_run('revoke-system', name => $::DSYS,
              member => redis_cmd('SMEMBERS', "wsgate:sys:{$::DSYS}:tokens"));
--- request eval
"GET /t"
--- more_headers eval
"Authorization: Bearer $::D_SYS"
--- error_code: 401
--- response_body eval
$::DENIED



=== TEST 19: README op=rotate-grace: once the grace has passed the old token answers 401
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::sleep_until($::DG_AT + $::D_GRACE / 1000 + 0.3);
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::D_G_OLD", "Authorization: Bearer $::D_G_NEW"]
--- error_code eval
[401, 200]
--- response_body eval
[$::DENIED, main::ok_body($::WD_G)]



=== TEST 20: README op=mark-restart (5 s): a register failure inside the window reads restarting
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
$::DMR_NOW = main::now_ms();
main::doc_run('mark-restart', ws => $::WD_MR, now_ms => $::DMR_NOW, grace_ms => 5000);
--- request eval
["POST /registry/register\n" . main::bad_reg($::WD_MR), "GET /workspaces/$::WD_MR/state"]
--- more_headers eval
["Authorization: Bearer $::D_MR", ""]
--- error_code eval
[400, 200]
--- response_body eval
[qr/"field":"url"/,
 qr/\A\{"workspace_id":"\Q$::WD_MR\E","state":"restarting","last_failure":\{"at_ms":\d{13},"status":400,"reason":"url: [^"]+","source":"gateway"\},"restart_at_ms":(??{ $::DMR_NOW })\}\z/]



=== TEST 21: README op=status and op=gateway-status agree with wsgate-token status and the gateway
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
my $doc = main::doc_status($::WD_MR);
Test::More::is($doc->{state}, 'restarting', 'README status: restarting');
Test::More::is($doc->{live_tokens}, 1, 'README status: 1 live token');
Test::More::is_deeply(main::cli_status($::WD_MR), $doc, 'wsgate-token status = README status');
$::EXPECT = main::doc_gateway_status_json($::WD_MR);
Test::More::note("the gateway must answer $::EXPECT");
--- request eval
"GET /workspaces/$::WD_MR/state"
--- response_body eval
qr/\A(??{ quotemeta $::EXPECT })\z/



=== TEST 22: fixed states written with the README's gateway ops read the same everywhere
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
# F1: failure at the window start (restarting); F2: failure before it (degraded)
for ([$::WD_F1, 0], [$::WD_F2, -1]) {
    my ($ws, $d) = @$_;
    main::doc_run('mark-restart', ws => $ws, now_ms => $::T_FIX, grace_ms => 60000);
    my @r = main::doc_read('gateway-register-failure', ws => $ws, now_ms => $::T_FIX + $d,
                           status => 400, reason => 'url: bad \\"x\\"', source => 'gateway',
                           regfail_ttl_ms => 60000);
    my $want = $d == 0 ? 'restarting' : 'degraded';
    my $doc = main::doc_status($ws);
    Test::More::is($doc->{state}, $want, "README status for $ws: $want");
    Test::More::is_deeply(main::cli_status($ws), $doc, "wsgate-token status = README status ($want)");
}
--- request eval
["GET /workspaces/$::WD_F1/state", "GET /workspaces/$::WD_F2/state"]
--- response_body eval
[qq({"workspace_id":"$::WD_F1","state":"restarting","last_failure":{"at_ms":$::T_FIX,"status":400,"reason":"url: bad \\"x\\"","source":"gateway"},"restart_at_ms":$::T_FIX}),
 qq({"workspace_id":"$::WD_F2","state":"degraded","last_failure":{"at_ms":@{[$::T_FIX - 1]},"status":400,"reason":"url: bad \\"x\\"","source":"gateway"},"restart_at_ms":$::T_FIX})]



=== TEST 23: after every operation no token is in Redis in plaintext; the survivors still work
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::scan_keyspace('at the end');
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $::T_ISSUE", "Authorization: Bearer $::D_ROT_NEW"]
--- response_body eval
[main::ok_body($::W_ISSUE), main::ok_body($::WD_ROT)]
