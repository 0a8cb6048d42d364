package Test::Nginx::Util;

# Server management half of wsgate's Test::Nginx::Socket-compatible runner:
# settings, server root, nginx.conf, starting and stopping nginx, the
# per-block driver (run_tests), error/access log reading and the fake
# TCP/UDP backends.  Written for this project; it follows the behaviour
# described in /work/shared/test-nginx-format.md (upstream test-nginx 0.33)
# but contains no upstream code.

use strict;
use warnings;

our $VERSION = '0.01';

use base 'Exporter';

use Carp ();
use POSIX qw(SIGQUIT SIGKILL SIGTERM WNOHANG);
use File::Spec ();
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempfile);
use List::Util qw(shuffle);
use Scalar::Util qw(looks_like_number);
use Time::HiRes qw(sleep time);
use IO::Socket::INET;
use IO::Socket::UNIX;
use IO::Select;
use Socket qw(SOCK_STREAM SOCK_DGRAM);
use Test::More ();
use Test::LongString ();

our @EXPORT = qw(
    env_to_nginx is_str check_accum_error_log is_running
    $NoLongString no_long_string
    $ServerAddr server_addr $ServerName server_name
    parse_time verbose sleep_time bail_out add_cleanup_handler
    access_log_data error_log_data setup_server_root write_config_file
    get_canon_version get_nginx_version show_all_chars parse_headers
    run_tests get_pid_from_pidfile
    $ServerPortForClient $ServerPort $NginxVersion $NginxRawVersion
    $PidFile $ServRoot $ConfFile $ErrLogFile $AccLogFile $HtmlDir
    $RunTestHelper $CheckErrorLog $CheckShutdownErrorLog $RepeatEach
    add_block_preprocessor timeout worker_connections workers
    master_on master_off master_process_enabled config_preamble
    repeat_each log_level no_shuffle no_root_location html_dir
    server_root server_port server_port_for_client
);

# ---------------------------------------------------------------------------
# Settings: environment defaults first, then what the .t file calls.

our $Verbose            = $ENV{TEST_NGINX_VERBOSE};
our $NginxBinary        = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $Workers            = 1;
our $WorkerConnections  = 64;
our $LogLevel           = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $DaemonEnabled      = 'on';
our $Randomize          = $ENV{TEST_NGINX_RANDOMIZE};
our $ServerPort         = $ENV{TEST_NGINX_SERVER_PORT}
                          || $ENV{TEST_NGINX_PORT} || 1984;
our $ServerPortForClient = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;
our $ServerAddr         = '127.0.0.1';
our $ServerName         = 'localhost';
our $Timeout            = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $TestNginxSleep     = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $NoShuffle          = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $ForceRestartOnTest = defined $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST}
                          ? $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST} : 1;
our $CheckAccumErrLog   = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $LoadModules        = $ENV{TEST_NGINX_LOAD_MODULES};
our $EventType          = $ENV{TEST_NGINX_EVENT_TYPE};
our $PostponeOutput     = $ENV{TEST_NGINX_POSTPONE_OUTPUT};
our $ReusePort          = $ENV{TEST_NGINX_REUSE_PORT};
our $FastShutdown       = $ENV{TEST_NGINX_FAST_SHUTDOWN};
our $WorkerUser         = $ENV{TEST_NGINX_WORKER_USER};
our $RepeatEach         = 1;
our $NoRootLocation     = 0;
our $ConfigPreamble     = '';
our $NoLongString;
our @EnvToNginx;
our @BlockPreprocessors;
our @CleanupHandlers;

# Poll step used while waiting for processes and files (seconds).
our $PollStep = 0.01;

if (defined $WorkerUser && $WorkerUser !~ /^\w+(?:\s+\w+)?$/) {
    die "Bad value in the env TEST_NGINX_WORKER_USER: $WorkerUser\n";
}

# Hooks filled in by Test::Nginx::Socket.
our ($RunTestHelper, $CheckErrorLog, $CheckShutdownErrorLog);

our ($NginxVersion, $NginxRawVersion, $OpenSSLVersion);

# Per-run state.
our $OwnerPid = $$;
our $PrevConfig;
our $PrevBlock;
our $ErrLogFilePos = 0;
our $CurrentRandPorts;
our ($TcpServerPid, $UdpServerPid);
our $Bailing;

srand $$;

if ($Randomize) {
    $ServerPort = gen_rand_port({});
    die "Cannot find a free port for TEST_NGINX_RANDOMIZE\n"
        unless defined $ServerPort;
    $ServerPortForClient = $ServerPort;
}

our $ServRoot = $Randomize
    ? File::Spec->rel2abs("t/servroot_$ServerPort")
    : ($ENV{TEST_NGINX_SERVROOT} || File::Spec->rel2abs('t/servroot'));
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

our $LogDir     = File::Spec->catfile($ServRoot, 'logs');
our $ErrLogFile = File::Spec->catfile($LogDir, 'error.log');
our $AccLogFile = File::Spec->catfile($LogDir, 'access.log');
our $HtmlDir    = File::Spec->catfile($ServRoot, 'html');
our $ConfDir    = File::Spec->catfile($ServRoot, 'conf');
our $ConfFile   = File::Spec->catfile($ConfDir, 'nginx.conf');
our $PidFile    = File::Spec->catfile($LogDir, 'nginx.pid');

# ---------------------------------------------------------------------------
# Accessors exported to the .t files.

sub _accessor {
    my ($ref, @args) = @_;
    $$ref = $args[0] if @args;
    return $$ref;
}

sub timeout (@)            { _accessor(\$Timeout, @_) }
sub workers (@)            { _accessor(\$Workers, @_) }
sub worker_connections (@) { _accessor(\$WorkerConnections, @_) }
sub log_level (@)          { _accessor(\$LogLevel, @_) }
sub server_port (@)        { _accessor(\$ServerPort, @_) }
sub server_port_for_client (@) { _accessor(\$ServerPortForClient, @_) }
sub server_addr (@)        { _accessor(\$ServerAddr, @_) }
sub server_name (@)        { _accessor(\$ServerName, @_) }
sub config_preamble ($)    { $ConfigPreamble = shift }
sub no_shuffle ()          { $NoShuffle = 1 }
sub no_root_location ()    { $NoRootLocation = 1 }
sub no_long_string ()      { $NoLongString = 1 }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub master_on ()           { $MasterProcessEnabled = 'on' }
sub master_off ()          { $MasterProcessEnabled = 'off' }
sub html_dir ()            { $HtmlDir }
sub server_root ()         { $ServRoot }
sub sleep_time ()          { $TestNginxSleep }
sub verbose ()             { $Verbose }

sub master_process_enabled (@) {
    if (@_) {
        $MasterProcessEnabled = $_[0] ? 'on' : 'off';
    }
    return $MasterProcessEnabled;
}

sub repeat_each (@) {
    $RepeatEach = shift if @_;
    return $RepeatEach;
}

sub env_to_nginx (@) {
    Carp::croak("env_to_nginx: no arguments specified") unless @_;
    for my $v (@_) {
        if ($v !~ /^[A-Za-z_]/ || $v =~ /\n/) {
            Carp::croak("env_to_nginx: bad argument value: $v\n");
        }
        push @EnvToNginx, $v;
    }
}

# The last preprocessor registered runs first (upstream uses unshift too).
sub add_block_preprocessor (&) {
    unshift @BlockPreprocessors, shift;
}

sub add_cleanup_handler ($) {
    unshift @CleanupHandlers, shift;
}

# ---------------------------------------------------------------------------
# Small helpers.

sub is_str (@) {
    my ($got, $expected, $desc) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    if (ref $expected && ref $expected eq 'Regexp') {
        return Test::More::like($got, $expected, $desc);
    }
    if ($NoLongString) {
        return Test::More::is($got, $expected, $desc);
    }
    return Test::LongString::is_string($got, $expected, $desc);
}

# "1.5" -> 1.5, "500ms" -> 0.5, "2s" -> 2
sub parse_time ($) {
    my $t = shift;
    return undef unless defined $t;
    if ($t =~ /^\s*([\d.]+)\s*ms\s*$/) {
        return $1 / 1000;
    }
    if ($t =~ /^\s*([\d.]+)\s*s?\s*$/) {
        return $1 + 0;
    }
    return $t;
}

sub show_all_chars ($) {
    my $s = shift;
    $s =~ s/\n/\\n/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\t/\\t/g;
    return $s;
}

sub trim_text ($) {
    my $s = shift;
    return undef unless defined $s;
    $s =~ s/^\s+|\s+$//g;
    $s =~ s/\s+/ /g;
    return $s;
}

# response_headers / response_headers_like text -> ordered [key, value]
# pairs, later duplicates replacing earlier ones.  "!Key" gives undef.
sub parse_headers ($) {
    my $text = shift;
    my (%seen, @pairs);
    for my $line (split /\n/, $text) {
        $line =~ s/^\s+|\s+$//g;
        my ($key, $val);
        if ($line =~ s/^!\s*//) {
            $key = $line;
        } else {
            ($key, $val) = split /\s*:\s*/, $line, 2;
            $key = '' unless defined $key;
        }
        if (exists $seen{$key}) {
            $pairs[$seen{$key}][1] = $val;
            next;
        }
        $seen{$key} = @pairs;
        push @pairs, [$key, $val];
    }
    return \@pairs;
}

sub bail_out (@) {
    $Bailing = 1;
    cleanup();
    Test::More::BAIL_OUT(join '', @_);
}

sub get_canon_version (@) {
    sprintf "%d.%03d%03d", $_[0], $_[1], $_[2];
}

sub _canon_openssl {
    my ($a, $b, $c, $d) = @_;
    return get_canon_version($a, $b, $c) unless defined $d && $d ne '';
    return sprintf "%d.%03d%03d%03d", $a, $b, $c, ord($d) - ord('a');
}

sub get_nginx_version () {
    my $out = `$NginxBinary -V 2>&1`;
    if (!defined $out || $? != 0) {
        bail_out("Failed to get the version of the nginx binary "
                 . "\"$NginxBinary\": " . ($out // ''));
    }
    if ($out =~ m{built with OpenSSL (\d+)\.(\d+)\.(\d+)([a-z])?}) {
        $OpenSSLVersion = _canon_openssl($1, $2, $3, $4);
    }
    if ($out =~ m{\w+/(\d+)\.(\d+)\.(\d+)}) {
        $NginxRawVersion = "$1.$2.$3";
        return get_canon_version($1, $2, $3);
    }
    bail_out("Failed to parse the output of \"nginx -V\": $out\n");
}

sub get_pid_from_pidfile ($) {
    my $name = shift;
    open my $in, '<', $PidFile
        or bail_out("$name - Failed to open the pid file $PidFile "
                    . "for reading: $!");
    my $pid = do { local $/; <$in> };
    close $in;
    $pid = '' unless defined $pid;
    $pid =~ s/\s+//g;
    return $pid;
}

# ---------------------------------------------------------------------------
# Processes.

# A process that exited but was not reaped yet (a zombie, which happens
# to daemonized nginx until init reaps it) counts as gone.
sub is_running ($) {
    my $pid = shift;
    return 0 unless $pid && $pid =~ /^\d+$/;
    waitpid($pid, WNOHANG);
    return 0 unless kill 0, $pid;
    if (open my $fh, '<', "/proc/$pid/stat") {
        my $stat = <$fh>;
        close $fh;
        return 0 if defined $stat && $stat =~ /\)\s+[ZX]\s/;
    }
    return 1;
}

sub wait_gone {
    my ($pid, $secs) = @_;
    my $deadline = time + $secs;
    while (is_running($pid)) {
        return 0 if time >= $deadline;
        sleep $PollStep;
    }
    return 1;
}

# Ask a process to stop with $sig, wait up to timeout(), then SIGKILL.
sub kill_process {
    my ($pid, $sig, $name) = @_;
    return unless is_running($pid);
    kill $sig, $pid;
    return if wait_gone($pid, $Timeout);
    warn "$name - timeout when waiting for the process $pid to exit; "
         . "killing it\n";
    kill SIGKILL, $pid;
    wait_gone($pid, 1);
}

sub stop_nginx {
    my $name = shift;
    return unless -f $PidFile;
    my $pid = get_pid_from_pidfile($name);
    if ($pid && is_running($pid)) {
        kill_process($pid, $FastShutdown ? SIGTERM : SIGQUIT, $name);
    }
    unlink $PidFile if -f $PidFile;
}

# Our own forked children (fake backends): TERM, then KILL.
sub stop_child {
    my $pid_ref = shift;
    return unless defined $$pid_ref;
    my $pid = $$pid_ref;
    undef $$pid_ref;
    return unless is_running($pid);
    kill SIGTERM, $pid;
    return if wait_gone($pid, 1);
    kill SIGKILL, $pid;
    wait_gone($pid, 1);
}

sub cleanup () {
    for my $hdl (@CleanupHandlers) {
        $hdl->();
    }
    stop_child(\$TcpServerPid);
    stop_child(\$UdpServerPid);
}

# ---------------------------------------------------------------------------
# Server root, user files, nginx.conf.

sub setup_server_root () {
    if (-d $ServRoot) {
        # Only remove what we create, so a mistyped TEST_NGINX_SERVROOT
        # cannot wipe real data: anything else makes rmdir fail.
        remove_tree($ConfDir, $HtmlDir, $LogDir,
                    File::Spec->catfile($ServRoot, 'cache'),
                    glob("$ServRoot/*_cache"), glob("$ServRoot/*_temp"));
        rmdir $ServRoot
            or bail_out("Can't remove $ServRoot (not empty?): $!");
    }

    for my $dir ($ServRoot, $LogDir, $HtmlDir, $ConfDir) {
        next if -d $dir;
        mkdir $dir or bail_out("Failed to do mkdir $dir: $!\n");
    }

    my $index = File::Spec->catfile($HtmlDir, 'index.html');
    open my $out, '>', $index
        or bail_out("Can't open $index for writing: $!\n");
    print $out '<html><head><title>It works!</title></head>'
               . '<body>It works!</body></html>';
    close $out;
}

sub write_user_files ($$) {
    my ($block, $rand_ports) = @_;
    my $name = $block->name;
    my $files = $block->user_files;
    return unless $files;

    if (!ref $files) {
        my @list;
        for my $line (split /^/, $files) {
            if ($line =~ /^>>> (\S+)(?:\s+(.+))?/) {
                push @list, [$1, undef, $2];
                next;
            }
            next unless @list;
            $list[-1][1] .= $line;
        }
        $files = \@list;

    } elsif (ref $files ne 'ARRAY') {
        bail_out("$name - wrong value type: ", ref $files,
                 ", only scalar or ARRAY are accepted");
    }

    for my $file (@$files) {
        my ($fname, $body, $date) = @$file;
        $body = '' unless defined $body;
        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";
        if ($path =~ m{^(.*)/} && !-d $1) {
            make_path($1) or bail_out("$name - Cannot create directory $1");
        }
        $body = expand_env_in_text($body, $name, $rand_ports);
        open my $out, '>', $path
            or bail_out("$name - Cannot open $path for writing: $!\n");
        binmode $out;
        print $out $body;
        close $out;
        if ($date) {
            my $cmd = "TZ=GMT touch -t '$date' '$path'";
            system($cmd) == 0
                or bail_out("Failed to run shell command: $cmd\n");
        }
    }
}

sub gen_rand_port {
    my $used = shift || {};
    for (1 .. 1000) {
        my $port = int(rand 63550) + 1985;
        next if $used->{$port};
        my $sock = IO::Socket::INET->new(
            LocalAddr => '127.0.0.1',
            LocalPort => $port,
            Proto     => 'tcp',
        );
        next unless $sock;
        close $sock;
        return $port;
    }
    return undef;
}

# Textual $TEST_NGINX_FOO expansion; $TEST_NGINX_RAND_PORT_<n> gets one
# free port per block; an unset variable aborts the run.
sub expand_env_in_text ($$$) {
    my ($text, $name, $rand_ports) = @_;
    return undef unless defined $text;

    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $var = $1;
        my $val;
        if ($var =~ /^TEST_NGINX_RAND_PORT_[0-9]+$/) {
            if (!defined $rand_ports->{$var}) {
                my %used = ($ServerPort => 1,
                            map { $_ => 1 } values %$rand_ports);
                my $port = gen_rand_port(\%used);
                bail_out("$name - Cannot find an available listening "
                         . "port number for $var.\n")
                    unless defined $port;
                $rand_ports->{$var} = $port;
            }
            $val = $rand_ports->{$var};
        } else {
            bail_out("$name - No environment $var defined.\n")
                unless defined $ENV{$var};
            $val = $ENV{$var};
        }
        $val;
    }ge;

    return $text;
}

sub write_config_file ($$$) {
    my ($block, $config, $rand_ports) = @_;

    my $name = $block->name;
    my $http_config = expand_env_in_text($block->http_config, $name,
                                         $rand_ports);
    my $err_log_file = expand_env_in_text($block->error_log_file, $name,
                                          $rand_ports);
    my $server_name = $block->server_name;

    $config = '' unless defined $config;
    $http_config = '' unless defined $http_config;
    $err_log_file ||= $ErrLogFile;
    $server_name = $ServerName unless defined $server_name;

    my $main_config = $block->main_config;
    $main_config = '' unless defined $main_config;
    if ($LoadModules) {
        my @mods = map { "load_module $_;" } grep { length }
                   split /\s+/, $LoadModules;
        $main_config = join(' ', @mods) . "\n" . $main_config if @mods;
    }
    $main_config = expand_env_in_text($main_config, $name, $rand_ports);

    my $post_main_config = expand_env_in_text($block->post_main_config,
                                              $name, $rand_ports);
    $post_main_config = '' unless defined $post_main_config;

    my $temp_paths = '';
    for my $kind (qw(client_body proxy fastcgi scgi uwsgi)) {
        next if $http_config =~ /\b${kind}_temp_path\b/;
        $temp_paths .= "    ${kind}_temp_path $ServRoot/${kind}_temp;\n";
    }

    my $extra_http = '';
    if (defined $PostponeOutput && $http_config !~ /\bpostpone_output\b/) {
        bail_out("Bad TEST_NGINX_POSTPONE_OUTPUT value: $PostponeOutput\n")
            unless $PostponeOutput =~ /^\d+$/;
        $extra_http = "    postpone_output $PostponeOutput;\n";
    }

    my $env = '';
    for my $v (@EnvToNginx) {
        my $line = $v =~ /\s/ ? "'$v'" : $v;
        $env .= "env $line;\n";
    }

    my $listen_opts = $ReusePort ? ' reuseport' : '';

    (my $quoted_name = $server_name) =~ s/\\/\\\\/g;
    $quoted_name =~ s/'/\\'/g;

    my $root_location = $NoRootLocation ? '' : <<_EOC_;
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
_EOC_

    my $events_use = $EventType ? "    use $EventType;\n" : '';

    my $user = '';
    if (defined $WorkerUser) {
        $user = "user $WorkerUser;\n";
    } elsif ($> == 0) {
        $user = "user root;\n";
    }

    open my $out, '>', $ConfFile
        or bail_out("Can't open $ConfFile for writing: $!\n");
    print $out <<_EOC_;
worker_processes  $Workers;
daemon $DaemonEnabled;
master_process $MasterProcessEnabled;
error_log $err_log_file $LogLevel;
pid       $PidFile;
env MOCKEAGAIN_VERBOSE;
env MOCKEAGAIN;
env MOCKEAGAIN_WRITE_TIMEOUT_PATTERN;
env LD_PRELOAD;
env LD_LIBRARY_PATH;
env DYLD_INSERT_LIBRARIES;
env DYLD_FORCE_FLAT_NAMESPACE;
$env
$main_config

http {
    access_log $AccLogFile;
$temp_paths
    default_type text/plain;
    keepalive_timeout  68000ms;
$extra_http
$http_config

    server {
        listen          $ServerPort$listen_opts;
        server_name     '$quoted_name';

        client_max_body_size 30M;

        # Begin preamble config...
$ConfigPreamble
        # End preamble config...

        # Begin test case config...
$config
        # End test case config.

$root_location    }
}

$post_main_config

events {
    accept_mutex off;

    worker_connections  $WorkerConnections;
$events_use}
env ASAN_OPTIONS;
env MOCKNOEAGAIN_VERBOSE;
env MOCKNOEAGAIN;
$user
_EOC_
    close $out;
}

# ---------------------------------------------------------------------------
# Logs.

sub _read_lines_from {
    my ($file, $pos_ref) = @_;
    open my $in, '<', $file or return undef;
    if ($pos_ref && $$pos_ref > 0) {
        seek $in, $$pos_ref, 0;
    }
    my @lines = <$in>;
    $$pos_ref = tell($in) if $pos_ref;
    close $in;
    return \@lines;
}

# Lines of error.log not seen yet in this block (all of them with
# check_accum_error_log).  Sleeps 3 x TEST_NGINX_SLEEP first, so that
# lines nginx writes in the log phase after closing the connection are in.
sub error_log_data () {
    sleep $TestNginxSleep * 3;
    return _read_lines_from($ErrLogFile,
                            $CheckAccumErrLog ? undef : \$ErrLogFilePos)
           || [];
}

sub access_log_data () {
    sleep $TestNginxSleep * 3;
    return _read_lines_from($AccLogFile, undef) || [];
}

sub check_prev_block_shutdown_error_log () {
    my $block = $PrevBlock;
    return unless defined $block && defined $block->shutdown_error_log;
    $CheckShutdownErrorLog->($block, $ENV{TEST_NGINX_NO_CLEAN} ? 1 : 0);
}

# ---------------------------------------------------------------------------
# Driver.

sub run_tests () {
    $NginxVersion = get_nginx_version();

    if (!defined $ENV{TEST_NGINX_SERVER_PORT}) {
        $ENV{TEST_NGINX_SERVER_PORT} = $ServerPort;
    }

    my @blocks = Test::Base::blocks();
    @blocks = shuffle @blocks unless $NoShuffle;

    for my $block (@blocks) {
        for my $hdl (@BlockPreprocessors) {
            $hdl->($block);
        }
        $block->set_value('name', $0 . ' ' . $block->name);
        run_test($block);
        $PrevBlock = $block;
    }

    cleanup();
}

# Perl code from --- init / --- post_setup_server_root, run in this
# package (Test::Nginx::Util), as upstream evaluates it, with $block in
# scope: a suite's helpers are called as main::f() or by their package.
sub eval_block_code {
    my ($block, $what) = @_;
    my $code = $block->$what;
    return unless defined $code && $code =~ /\S/;
    my $ok = eval "package Test::Nginx::Util; #line 1 \"--- $what\"\n"
                  . "$code;\n1;";
    bail_out($block->name . " - $what failed: $@") unless $ok;
}

sub _version_cmp {
    my ($have, $op, $want) = @_;
    return 0 unless defined $have;
    return $op eq '<'  ? $have <  $want
         : $op eq '<=' ? $have <= $want
         : $op eq '>'  ? $have >  $want
         :               $have >= $want;
}

# --- skip_eval / skip_nginx / skip_nginx2 / skip_openssl: returns
# (tests_to_skip, reason) when the block must be skipped.
sub block_skip_spec {
    my $block = shift;
    my $name = $block->name;
    my ($n, $skip, $reason);

    if (defined(my $spec = $block->skip_eval)) {
        my ($count, $code) = $spec =~ /^\s*(\d+)\s*:\s*(.*)/s
            or bail_out("$name - Invalid --- skip_eval spec: $spec");
        ($n, $reason) = ($count, 'skip_eval');
        $skip = eval "package main; $code";
        bail_out("$name - skip_eval - failed to eval the Perl code "
                 . "\"$code\": $@") if $@;
    }

    if (defined(my $spec = $block->skip_nginx)) {
        my ($count, $op, @v) = $spec =~ /^\s*(\d+)\s*:\s*([<>]=?)\s*
                                          (\d+)\.(\d+)\.(\d+)
                                          (?:\s*:\s*(.*?))?\s*$/x
            or bail_out("$name - Invalid --- skip_nginx spec: $spec");
        my $why = pop @v;
        $n = $count;
        $reason = $why || "nginx version $op " . join('.', @v);
        $skip = 1 if _version_cmp($NginxVersion, $op,
                                  get_canon_version(@v));

    } elsif (defined(my $spec2 = $block->skip_nginx2)) {
        my ($count, $op1, @r) = $spec2 =~
            /^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)
             \s*(or|and)\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)
             (?:\s*:\s*(.*?))?\s*$/x
            or bail_out("$name - Invalid --- skip_nginx2 spec: $spec2");
        my ($v1, $logic, $op2, $v2, $why)
            = ([@r[0 .. 2]], $r[3], $r[4], [@r[5 .. 7]], $r[8]);
        my $a = _version_cmp($NginxVersion, $op1, get_canon_version(@$v1));
        my $b = _version_cmp($NginxVersion, $op2, get_canon_version(@$v2));
        $n = $count;
        $reason = $why;
        $skip = 1 if $logic eq 'or' ? ($a || $b) : ($a && $b);
    }

    if (defined(my $spec = $block->skip_openssl)) {
        my ($count, $op, @v) = $spec =~ /^\s*(\d+)\s*:\s*([<>]=?)\s*
                                          (\d+)\.(\d+)\.(\d+)([a-z])?
                                          (?:\s*:\s*(.*?))?\s*$/x
            or bail_out("$name - Invalid --- skip_openssl spec: $spec");
        my $why = pop @v;
        my $want = _canon_openssl(@v);
        $n = $count;
        $reason = $why || (defined $OpenSSLVersion
                           ? "OpenSSL version $op $v[0].$v[1].$v[2]"
                             . ($v[3] // '')
                           : "Not built with OpenSSL");
        $skip = 1 if !defined $OpenSSLVersion
                     || _version_cmp($OpenSSLVersion, $op, $want);
    }

    return unless $skip;
    return ($n, $reason || 'various reasons');
}

sub block_todo_spec {
    my $block = shift;
    my $spec = $block->todo;
    return unless defined $spec;
    $spec =~ /^\s*(\d+)\s*:\s*(.*)/s
        or bail_out($block->name . " - Invalid --- todo spec: $spec");
    return ($1, $2 || 'various reasons');
}

sub start_nginx_command {
    my $block = shift;
    my $cmd = "$NginxBinary -e $ErrLogFile -p $ServRoot/ -c $ConfFile"
              . " > /dev/null";
    $cmd .= " 2>/dev/null" if defined $block->suppress_stderr;
    return $cmd;
}

sub wait_for_pidfile {
    my $deadline = time + $Timeout;
    until (-s $PidFile) {
        return 0 if time >= $deadline;
        sleep $PollStep;
    }
    return 1;
}

sub error_log_has {
    my $re = shift;
    open my $in, '<', $ErrLogFile or return undef;
    while (my $line = <$in>) {
        if ($line =~ $re) {
            close $in;
            return $1 // 1;
        }
    }
    close $in;
    return undef;
}

sub run_must_die {
    my ($block, $cmd, $must_die) = @_;
    my $name = $block->name;

    $ErrLogFilePos = 0;
    for my $i (0 .. $RepeatEach - 1) {
        system($cmd);
        my $status = $?;
        my $exit_code = $status == -1 ? undef : $status >> 8;

        if ($status == -1) {
            Test::More::fail("$name - failed to execute the nginx "
                             . "command line");
        } elsif ($status & 128) {
            Test::More::fail("$name - nginx core dumped");
        } elsif (looks_like_number($must_die)) {
            Test::More::is($must_die, $exit_code,
                           "$name - die with the expected exit code");
        } else {
            Test::More::isnt($status, 0, "$name - die as expected");
        }

        $CheckErrorLog->($block, undef, 0, $i, 0);

        if ($status == 0) {
            warn "WARNING: $name - nginx must die but it does not; "
                 . "killing it (req $i)\n";
            wait_for_pidfile();
            stop_nginx($name);
        }
    }
}

sub restart_nginx {
    my ($block, $config, $rand_ports, $must_die) = @_;
    my $name = $block->name;

    stop_nginx($name);
    check_prev_block_shutdown_error_log();

    setup_server_root();
    eval_block_code($block, 'post_setup_server_root');
    write_user_files($block, $rand_ports);
    write_config_file($block, $config, $rand_ports);

    my $cmd = start_nginx_command($block);

    if (defined $must_die) {
        run_must_die($block, $cmd, $must_die);
        return 'died';
    }

    $ErrLogFilePos = 0;
    my $waited = 0;
    my $delay = $PollStep;
    while (1) {
        system($cmd);
        my $status = $?;
        last if $status == 0;

        if ($ENV{TEST_NGINX_IGNORE_MISSING_DIRECTIVES}) {
            my $dir = error_log_has(
                qr/\[emerg\] \S+?: unknown directive "([^"]+)"/);
            return "the lack of directive $dir" if $dir;
        }

        # A port still held by a process that is going away is worth a
        # short wait; any other failure is final.
        if ($waited < 5
            && error_log_has(qr/Address already in use/))
        {
            sleep $delay;
            $waited += $delay;
            $delay *= 2 if $delay < 0.5;
            next;
        }

        bail_out("$name - Cannot start nginx using command \"$cmd\" "
                 . "(status code $status).");
    }

    if (!wait_for_pidfile()) {
        bail_out("$name - nginx did not write $PidFile");
    }
    sleep $TestNginxSleep;
    return 0;
}

sub run_test ($) {
    my $block = shift;
    my $name = $block->name;

    return if defined $block->SKIP;

    my $rand_ports = $CurrentRandPorts = {};
    my $config = expand_env_in_text($block->config, $name, $rand_ports);

    local $LogLevel = $LogLevel;
    $LogLevel = $block->log_level if $block->log_level;

    my $must_die = $block->must_die;
    my $dry_run = 0;

    my $should_restart;
    if (!defined $config) {
        if (!defined $PrevConfig) {
            bail_out("$name - No '--- config' section specified and could "
                     . "not get previous one.");
        }
        $should_restart = 0;
    } else {
        $should_restart = !defined $PrevConfig || $ForceRestartOnTest
                          || $config ne $PrevConfig;
    }

    my ($skip_n, $skip_reason) = block_skip_spec($block);
    my $should_skip = defined $skip_n;
    my ($todo_n, $todo_reason) = block_todo_spec($block);

    if (!$should_skip && $should_restart) {
        $PrevConfig = $config;
        my $res = restart_nginx($block, $config, $rand_ports, $must_die);
        return if $res && $res eq 'died';
        $dry_run = $res if $res;
    }

    eval_block_code($block, 'init');

    $ErrLogFilePos = 0;
    for my $i (1 .. $RepeatEach) {
        my $tcp = start_tcp_server($block, $rand_ports);
        my $udp = start_udp_server($block, $rand_ports);

        write_user_files($block, $rand_ports) if $i > 1;

        if ($should_skip) {
            SKIP: {
                Test::More::skip("$name - $skip_reason", $skip_n);
            }
        } elsif (defined $todo_n) {
            TODO: {
                Test::More::todo_skip("$name - $todo_reason", $todo_n);
            }
        } else {
            $RunTestHelper->($block, $dry_run, $i - 1);
            run_tcp_server_tests($block, $tcp);
            run_udp_server_tests($block, $udp);
        }

        finish_fake_server($tcp, \$TcpServerPid);
        finish_fake_server($udp, \$UdpServerPid);
    }

    if (my $total = $ENV{TEST_NGINX_ERROR_LOG}) {
        if (-s $ErrLogFile && open my $out, '>>', $total) {
            print $out "\n=== $name\n";
            if (open my $in, '<', $ErrLogFile) {
                local $/;
                print $out scalar <$in>;
                close $in;
            }
            close $out;
        }
    }
}

# ---------------------------------------------------------------------------
# Fake backends (--- tcp_listen / --- udp_listen).  The listening socket is
# opened here, a forked child serves exactly one connection (or datagram)
# and writes what it received into a temp file the parent checks later.

sub _query_file {
    my ($fh, $path) = tempfile('tnqueryXXXXXX', TMPDIR => 1, UNLINK => 1);
    close $fh;
    return $path;
}

# Fake-server children never run END blocks (they would stop nginx or the
# suite's helpers); they leave with _exit and die on TERM.
sub _child_init {
    $SIG{$_} = 'DEFAULT' for qw(TERM INT HUP PIPE);
    Test::More->builder->no_ending(1);
}

sub _child_exit {
    POSIX::_exit(0);
}

sub _write_file {
    my ($path, $data) = @_;
    return unless $path;
    open my $out, '>', $path or return;
    binmode $out;
    print $out $data;
    close $out;
}

sub _reply_list {
    my ($name, $reply, $query, $what) = @_;
    $reply = $reply->($query) if ref $reply eq 'CODE';
    return () unless defined $reply;
    return ($reply) unless ref $reply;
    return @$reply if ref $reply eq 'ARRAY';
    warn "$name - bad --- ${what}_reply value\n";
    return ();
}

sub start_tcp_server {
    my ($block, $rand_ports) = @_;
    my $name = $block->name;
    return undef unless defined $block->tcp_listen;

    my $target = expand_env_in_text($block->tcp_listen, $name, $rand_ports);
    my $reply = $block->tcp_reply;
    if (!defined $reply && !defined $block->tcp_shutdown) {
        bail_out("$name - no --- tcp_reply specified but --- tcp_listen "
                 . "is specified");
    }

    my $req_len = $block->tcp_query_len;
    my $query_file;
    if (defined $block->tcp_query || defined $req_len) {
        $req_len = length($block->tcp_query) unless defined $req_len;
        $query_file = _query_file();
    }

    my ($sock, $err);
    my $deadline = time + $Timeout;
    while (1) {
        if ($target =~ /^\d+$/) {
            $sock = IO::Socket::INET->new(
                LocalHost => '127.0.0.1',
                LocalPort => $target,
                Proto     => 'tcp',
                ReuseAddr => 1,
                Listen    => 5,
            );
        } elsif ($target =~ /\S+\.sock$/) {
            unlink $target if -e $target;
            $sock = IO::Socket::UNIX->new(
                Local  => $target,
                Type   => SOCK_STREAM,
                Listen => 5,
            );
        } else {
            bail_out("$name - bad tcp_listen target: $target");
        }
        last if $sock;
        $err = $!;
        last unless $err =~ /in use/i && time < $deadline;
        sleep 0.05;
    }
    bail_out("$name - failed to create the tcp listening socket "
             . "$target: $err") unless $sock;

    my $auto_timeout = $block->tcp_query_auto_timeout;
    if (defined $auto_timeout) {
        $auto_timeout = parse_time($auto_timeout);
        $auto_timeout = 0.1 unless $auto_timeout;
    }

    my $pid = fork();
    bail_out("$name - fork() failed: $!") unless defined $pid;

    if ($pid == 0) {
        _child_init();
        my $client;
        until ($client = $sock->accept()) {
            sleep $TestNginxSleep;
        }

        my ($no_read, $no_write);
        if (defined(my $how = $block->tcp_shutdown)) {
            my $d = parse_time($block->tcp_shutdown_delay);
            sleep $d if $d;
            $client->shutdown($how);
            if ($how == 0 || $how == 2) { $no_read = 1 }
            if ($how == 1 || $how == 2) { $no_write = 1 }
        }

        my $buf = '';
        unless ($no_read) {
            my $sel = IO::Select->new($client);
            while (1) {
                if (defined $auto_timeout) {
                    last unless $sel->can_read($auto_timeout);
                }
                my $n = sysread($client, my $chunk, 4096);
                last unless $n;
                $buf .= $chunk;
                _write_file($query_file, $buf);
                next if defined $auto_timeout;
                last if !$req_len || length($buf) >= $req_len;
            }
        }

        my $delay = parse_time($block->tcp_reply_delay);
        sleep $delay if $delay;

        unless ($no_write) {
            local $SIG{PIPE} = 'IGNORE';
            for my $r (_reply_list($name, $reply, $buf, 'tcp')) {
                my $off = 0;
                while ($off < length $r) {
                    my $n = syswrite($client, $r, length($r) - $off, $off);
                    last unless $n;
                    $off += $n;
                }
            }
        }

        if (defined $block->tcp_no_close) {
            sleep 1 while 1;
        }

        close $client;
        close $sock;
        _child_exit();
    }

    $TcpServerPid = $pid;
    return { sock => $sock, query_file => $query_file, pid => $pid };
}

sub start_udp_server {
    my ($block, $rand_ports) = @_;
    my $name = $block->name;
    return undef unless defined $block->udp_listen;

    my $reply = $block->udp_reply;
    bail_out("$name - no --- udp_reply specified but --- udp_listen is "
             . "specified") unless defined $reply;

    my $target = expand_env_in_text($block->udp_listen, $name, $rand_ports);
    my $query_file = defined $block->udp_query ? _query_file() : undef;
    my ($sock, $unix_path);

    if ($target =~ /^\d+$/) {
        $sock = IO::Socket::INET->new(
            LocalAddr => '127.0.0.1',
            LocalPort => $target,
            Proto     => 'udp',
            ReuseAddr => 1,
        ) or bail_out("$name - failed to create the udp listening socket: "
                      . "$!");
    } elsif ($target =~ /\S+\.sock$/) {
        unlink $target if -e $target;
        $sock = IO::Socket::UNIX->new(Local => $target, Type => SOCK_DGRAM)
            or bail_out("$name - failed to create the udp unix socket: $!");
        $unix_path = $target;
    } else {
        bail_out("$name - bad udp_listen target: $target");
    }

    my $pid = fork();
    bail_out("$name - fork() failed: $!") unless defined $pid;

    if ($pid == 0) {
        _child_init();
        my $buf = '';
        my $peer = $sock->recv($buf, 4096);
        _write_file($query_file, $buf);
        my $delay = parse_time($block->udp_reply_delay);
        sleep $delay if $delay;
        for my $r (_reply_list($name, $reply, $buf, 'udp')) {
            if (defined $peer && length $peer) {
                send($sock, $r, 0, $peer);
            } else {
                $sock->send($r);
            }
        }
        _child_exit();
    }

    $UdpServerPid = $pid;
    return { sock => $sock, query_file => $query_file, pid => $pid,
             unix_path => $unix_path };
}

sub _slurp {
    my $path = shift;
    return '' unless $path && open my $in, '<', $path;
    binmode $in;
    local $/;
    my $data = <$in>;
    close $in;
    return defined $data ? $data : '';
}

sub run_tcp_server_tests {
    my ($block, $srv) = @_;
    return unless $srv;
    my $name = $block->name;
    my $buf = _slurp($srv->{query_file});
    if (defined $block->tcp_query) {
        is_str($buf, $block->tcp_query, "$name - tcp_query ok");
    }
    if (defined $block->tcp_query_len) {
        Test::More::is(length($buf), $block->tcp_query_len,
                       "$name - TCP query length ok");
    }
}

sub run_udp_server_tests {
    my ($block, $srv) = @_;
    return unless $srv;
    if (defined $block->udp_query) {
        is_str(_slurp($srv->{query_file}), $block->udp_query,
               $block->name . " - udp_query ok");
    }
}

sub finish_fake_server {
    my ($srv, $pid_ref) = @_;
    return unless $srv;
    stop_child($pid_ref);
    close $srv->{sock} if $srv->{sock};
    unlink $srv->{unix_path} if $srv->{unix_path};
    unlink $srv->{query_file} if $srv->{query_file};
}

END {
    if (defined $OwnerPid && $$ == $OwnerPid) {
        local $?;
        cleanup();
        if (!$ENV{TEST_NGINX_NO_CLEAN}) {
            stop_nginx('END');
        }
        check_prev_block_shutdown_error_log() unless $Bailing;
        if ($Randomize && -d $ServRoot && $ServRoot =~ m{/t/servroot_\d+$}) {
            remove_tree($ServRoot);
        }
    }
}

1;
