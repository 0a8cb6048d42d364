#!/usr/bin/env bash
#
# make bench: what wsgate costs, measured side by side on loopback.
#
# Starts, all on 127.0.0.1 and on free ports:
#   - its own Redis (no persistence), seeded with 10,000 workspace tokens;
#   - one backend, an nginx with one worker answering `return 200`, the
#     same for every variant;
#   - one nginx per variant, each with ONE worker, the module loaded, the
#     same proxy_pass to that backend; the variants differ only by their
#     config snippets (below):
#       plain         no wsgate directive
#       wsgate        wsgate_auth, every request one HMGET to Redis
#       wsgate+cache  the same plus wsgate_cache, when the module has it
#                     (probed with `nginx -t`; skipped, and said so, if not)
# then runs wrk against the variants interleaved, the order reversed every
# other round (A B C, C B A, A B C ...: no variant always runs first or
# last, after the same neighbour), each run with a random token per
# request out of the 10,000 (random-token.lua), and prints per round and
# variant: req/s, the ratio to plain's req/s in the same round, p50/p99
# latency, the nginx worker's CPU time per request (utime+stime from
# /proc/<worker>/stat around the run, divided by the requests wrk
# completed) and its ratio to plain's in the same round, Redis's CPU time
# and commands per request, and the share of the CPUs that others took
# meanwhile (other processes, and the hypervisor's steal time: a noisy
# neighbour shows there); and at the end the median of every column over
# the quiet rounds (or all, see BENCH_NOISE), as a Markdown table, and
# each variant's worker CPU per request against plain's as the median of
# the rounds' own ratios.
#
# It fails (exit 1) if any response was not 2xx, a socket error or
# timeout occurred, a response did not come from the backend (its request
# counter, stub_status), a worker died, wsgate without cache did not ask
# Redis once per request, or an nginx logged an error.
#
# Everything it starts is stopped on exit (also on Ctrl-C), and every
# step is bounded in time: about 2m20s with two variants, 3m20s with three.
#
# Settings (environment):
#   BENCH_ROUNDS=7 BENCH_DURATION=8 (s) BENCH_WARMUP=2 (s)
#   BENCH_THREADS=2 BENCH_CONNECTIONS=50 BENCH_TOKENS=10000
#   BENCH_NOISE=5 (%): a round is quiet if others took at most
#       that share of the CPUs in each of its runs; the summary is over the
#       quiet rounds when there are at least 3 (all rounds are printed)
#   BENCH_CACHE='wsgate_cache zone=wsgate_bench:16m ttl=60s;'
#       the http-level snippet of the cached variant; empty: no such variant
#   BENCH_NGINX=/usr/sbin/nginx BENCH_MODULE=build/ngx_http_wsgate_module.so
#   BENCH_KEEP=1  keep the work directory (configs, logs, wrk output)

set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
bench=$top/t/bench

rounds=${BENCH_ROUNDS:-7}
dur=${BENCH_DURATION:-8}
warm=${BENCH_WARMUP:-2}
threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNECTIONS:-50}
ntokens=${BENCH_TOKENS:-10000}
noise=${BENCH_NOISE:-5}
nginx=${BENCH_NGINX:-/usr/sbin/nginx}
module=${BENCH_MODULE:-$top/build/ngx_http_wsgate_module.so}
cache_snippet=${BENCH_CACHE-wsgate_cache zone=wsgate_bench:16m ttl=60s;}

die() { echo "bench: FAIL: $*" >&2; exit 1; }
say() { echo "bench: $*"; }

for n in rounds dur warm threads conns ntokens noise; do
    [[ ${!n} =~ ^[1-9][0-9]*$ ]] || die "$n must be a positive integer (${!n})"
done
[ "$rounds" -ge 3 ] || die "at least 3 rounds (BENCH_ROUNDS=$rounds)"
[ "$conns" -ge "$threads" ] || die "BENCH_CONNECTIONS below BENCH_THREADS"

for c in redis-server redis-cli wrk perl curl ss timeout "$nginx"; do
    command -v "$c" >/dev/null || die "$c not found (make deps installs it)"
done
[ -f "$module" ] || die "$module missing: make module"

hz=$(getconf CLK_TCK)

# ---------------------------------------------------------------- cleanup

dir=$(mktemp -d /tmp/wsgate-bench.XXXXXX)
pids=()          # every process started, masters and Redis
workers=()       # every nginx worker seen

cleanup() {
    local rc=$? p left
    trap - EXIT INT TERM HUP
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for _ in $(seq 50); do
        left=0
        for p in "${pids[@]}" "${workers[@]}"; do
            kill -0 "$p" 2>/dev/null && left=1
        done
        [ "$left" = 0 ] && break
        sleep 0.1
    done
    for p in "${pids[@]}" "${workers[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if [ -n "${BENCH_KEEP-}" ]; then
        echo "bench: work directory kept: $dir"
    else
        rm -rf "$dir"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "bench: FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR
trap 'echo "bench: interrupted" >&2; exit 130' INT
trap 'echo "bench: terminated" >&2; exit 143' TERM HUP

# nginx loads a private copy of the module: a `make module` running
# meanwhile rewrites build/'s file in place, which would crash every nginx
# that has it mapped.
cp "$module" "$dir/ngx_http_wsgate_module.so"
module=$dir/ngx_http_wsgate_module.so

# ------------------------------------------------------------------ ports

taken=" "
free_port() {       # sets $port to a loopback TCP port no socket uses
    local p
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 40000))
        case "$taken" in *" $p "*) continue ;; esac
        # every state, not only listening: most of the range is also the
        # kernel's ephemeral range, where another program's connection
        # may hold the port (bind() then fails with EADDRINUSE)
        if [ -z "$(ss -Htan "sport = :$p" 2>/dev/null)" ]; then
            taken="$taken$p "
            port=$p
            return 0
        fi
    done
    die "no free port found"
}

wait_port() {       # wait_port <port> <what>: up to 5 s
    for _ in $(seq 100); do
        [ -n "$(ss -Hltn "src 127.0.0.1 and sport = :$1" 2>/dev/null)" ] && return 0
        sleep 0.05
    done
    die "$2 does not listen on 127.0.0.1:$1"
}

# ------------------------------------------------------------------ Redis

free_port; rport=$port
redis-server --bind 127.0.0.1 --port "$rport" --save '' --appendonly no \
    --dir "$dir" --logfile "$dir/redis.log" --daemonize no &
redis_pid=$!
pids+=("$redis_pid")
for _ in $(seq 100); do
    [ "$(redis-cli -p "$rport" ping 2>/dev/null)" = PONG ] && break
    sleep 0.05
done
[ "$(redis-cli -p "$rport" ping 2>/dev/null)" = PONG ] \
    || { tail -5 "$dir/redis.log" >&2; die "Redis did not start"; }

rcli() { timeout 10 redis-cli -p "$rport" "$@"; }

say "seeding $ntokens workspace tokens"
timeout 60 perl "$bench/seed.pl" "$ntokens" "$dir/tokens" \
    | timeout 60 redis-cli -p "$rport" --pipe > "$dir/seed.log" 2>&1 \
    || { cat "$dir/seed.log" >&2; die "seeding failed"; }
grep -q "errors: 0, replies: $((2 * ntokens))" "$dir/seed.log" \
    || { cat "$dir/seed.log" >&2; die "seeding: not every command succeeded"; }
[ "$(rcli dbsize)" = $((2 * ntokens)) ] || die "seeding: dbsize is not $((2 * ntokens))"
[ "$(wc -l < "$dir/tokens")" = "$ntokens" ] || die "seeding: tokens file"

# ---------------------------------------------------------------- backend

# stub_status counts the requests the backend answered: each run checks
# that every response wrk counted came from it.
nonce=$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
body="wsgate-bench backend $nonce"
free_port; bport=$port
mkdir -p "$dir/backend"
cat > "$dir/backend/nginx.conf" <<CONF
worker_processes 1;
daemon off;
error_log $dir/backend/error.log warn;
pid $dir/backend/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$bport;
        location = /__backend_status { stub_status; }
        location / {
            default_type text/plain;
            return 200 "$body\n";
        }
    }
}
CONF
"$nginx" -p "$dir/backend" -c "$dir/backend/nginx.conf" -e "$dir/backend/error.log" &
backend_master=$!
pids+=("$!")
wait_port "$bport" "the backend"

backend_requests() {
    curl -sf --max-time 5 "http://127.0.0.1:$bport/__backend_status" \
        | awk 'NR == 3 { print $3 }'
}
[[ $(backend_requests) =~ ^[0-9]+$ ]] || die "backend stub_status"

# --------------------------------------------------------------- variants

# A variant is an http-level snippet plus a location-level snippet; the
# rest of its nginx.conf is the same for all.
variants=(plain wsgate)
declare -A http_snip loc_snip label
label[plain]="plain proxy_pass"
http_snip[plain]=""
loc_snip[plain]=""
label[wsgate]="wsgate, no cache"
http_snip[wsgate]="wsgate_redis 127.0.0.1:$rport;"
loc_snip[wsgate]="wsgate_auth on;"
label[cache]="wsgate + cache"
http_snip[cache]="wsgate_redis 127.0.0.1:$rport; $cache_snippet"
loc_snip[cache]="wsgate_auth on;"

write_conf() {      # write_conf <variant> <port> <directory>: <directory>/nginx.conf
    mkdir -p "$3"
    cat > "$3/nginx.conf" <<CONF
load_module $module;
worker_processes 1;
daemon off;
error_log $3/error.log warn;
pid $3/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    ${http_snip[$1]}

    upstream backend {
        server 127.0.0.1:$bport;
        keepalive 64;
    }

    server {
        listen 127.0.0.1:$2;
        location / {
            ${loc_snip[$1]}
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://backend;
        }
    }
}
CONF
}

# Does this module have wsgate_cache?  `nginx -t` on the variant's config
# (it opens no listening socket) says so.
if [ -z "$cache_snippet" ]; then
    say "wsgate + cache: not measured (BENCH_CACHE is empty)"
else
    write_conf cache 1 "$dir/probe"
    if probe=$(timeout 10 "$nginx" -t -p "$dir/probe" -c "$dir/probe/nginx.conf" \
                   -e "$dir/probe/error.log" 2>&1); then
        variants+=(cache)
        say "wsgate + cache: measured, the module has wsgate_cache ($cache_snippet)"
    elif grep -q 'unknown directive "wsgate_cache"' <<<"$probe"; then
        say "wsgate + cache: NOT measured, this module has no wsgate_cache yet" \
            "(nginx -t: unknown directive); it is measured as soon as it has"
    else
        echo "$probe" >&2
        die "the cached variant's config does not pass nginx -t (BENCH_CACHE='$cache_snippet')"
    fi
fi

declare -A vport master
for v in "${variants[@]}"; do
    free_port; vport[$v]=$port
    write_conf "$v" "$port" "$dir/$v"
    "$nginx" -p "$dir/$v" -c "$dir/$v/nginx.conf" -e "$dir/$v/error.log" &
    master[$v]=$!
    pids+=("$!")
done
for v in "${variants[@]}"; do wait_port "${vport[$v]}" "nginx ($v)"; done

worker_of() {       # the pid of the worker process of nginx master $1
    local p
    for _ in $(seq 100); do
        for p in $(pgrep -P "$1" 2>/dev/null); do
            if tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q "worker process"; then
                echo "$p"; return 0
            fi
        done
        sleep 0.05
    done
    return 1
}
declare -A worker
for v in "${variants[@]}" ; do
    worker[$v]=$(worker_of "${master[$v]}") || die "no worker for $v"
    workers+=("${worker[$v]}")
done
backend_worker=$(worker_of "$backend_master") || die "no backend worker"
workers+=("$backend_worker")

# ------------------------------------------------------------ sanity checks

status() {          # status <port> [token]: the status code of one GET
    local h=()
    [ -n "${2-}" ] && h=(-H "Authorization: Bearer $2")
    curl -s -o "$dir/body" -w '%{http_code}' --max-time 5 "${h[@]}" \
        "http://127.0.0.1:$1/bench" || true
}
good=$(head -1 "$dir/tokens")
bogus=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
for v in "${variants[@]}"; do
    p=${vport[$v]}
    [ "$(status "$p" "$good")" = 200 ] || die "$v: a seeded token is not answered 200"
    [ "$(cat "$dir/body")" = "$body" ] || die "$v: the answer is not the backend's"
    if [ "$v" = plain ]; then
        [ "$(status "$p" "$bogus")" = 200 ] || die "plain: an unknown token is not passed"
    else
        [ "$(status "$p" "$bogus")" = 401 ] || die "$v: an unknown token is not refused 401"
        [ "$(status "$p")" = 401 ] || die "$v: no token is not refused 401"
    fi
done
say "checked: every variant answers with the same backend's body; the wsgate" \
    "variants refuse an unknown token and no token (401), plain passes them"

# ------------------------------------------------------------------- runs

cpu_ticks() {       # utime + stime of a process, in clock ticks
    local s
    s=$(cat "/proc/$1/stat") || return 1
    s=${s##*) }                     # fields from 3 on
    awk '{ print $12 + $13 }' <<<"$s"
}
# What others took during a run, as a share of all CPUs: every CPU's busy
# time (/proc/stat, steal included) less the nginx worker's, the backend's,
# Redis's and wrk's (wrk is a child of this shell: `times`).  Steal is
# time the hypervisor gave this machine's CPUs to someone else.
cpu_all() {         # busy, total and steal ticks of all CPUs
    awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6, $9 }' /proc/stat
}
children_ticks() {  # sets $ticks: CPU time of this shell's reaped children
    times > "$dir/times"            # in this shell, not in a subshell
    ticks=$(awk -v hz="$hz" 'NR == 2 { t = 0
        for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] }
        printf "%.0f\n", t * hz }' "$dir/times")
}
redis_cmds() {
    rcli info stats | awk -F: '/^total_commands_processed:/ { print $2 + 0 }'
}

wrk_run() {         # wrk_run <variant> <seconds> <output file>
    timeout --foreground -k 5 $(($2 + 30)) \
        wrk -t"$threads" -c"$conns" -d"$2s" --timeout 5s \
            -s "$bench/random-token.lua" "http://127.0.0.1:${vport[$1]}/bench" \
            -- "$dir/tokens" > "$3" 2>&1 \
        || { cat "$3" >&2; die "$1: wrk failed"; }
}

field() { sed -n "s/.*[ ]$1=\([0-9]*\).*/\1/p" <<<"$2"; }

nvar=${#variants[@]}
say "$nvar variants x $rounds rounds x ${dur}s, wrk -t$threads -c$conns," \
    "$ntokens tokens, a random one per request; one nginx worker each;" \
    "$(nproc) CPUs shared by wrk, nginx, the backend and Redis"
read -r load1 _ < /proc/loadavg
say "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
if awk -v l="$load1" 'BEGIN { exit !(l > 1.0) }'; then
    say "warning: load average $load1 before the runs: something else uses the" \
        "CPUs (or a run just ended); expect noise"
fi
say "warm-up: ${warm}s each"
for v in "${variants[@]}"; do wrk_run "$v" "$warm" "$dir/warmup-$v.txt"; done

results=$dir/results.tsv
: > "$results"
# (%12s and %11s: "µ" is two bytes)
printf '\n%-5s  %-18s %9s %6s %8s %8s %12s %6s %11s %9s %8s\n' round variant 'req/s' ratio \
    'p50 ms' 'p99 ms' 'worker µs' ratio 'redis µs' 'redis cmd' 'others'
printf '%-5s  %-18s %9s %6s %8s %8s %11s %6s %10s %9s %8s\n' '' '' '' '' '' '' \
    '/req' '' '/req' '/req' 'CPU'

# the variants in reverse order, for every other round
reversed=()
for v in "${variants[@]}"; do reversed=("$v" "${reversed[@]}"); done

declare -A row wcpus rpss
for r in $(seq "$rounds"); do
    if [ $((r % 2)) = 1 ]; then order=("${variants[@]}"); else order=("${reversed[@]}"); fi
    for v in "${order[@]}"; do
        w=${worker[$v]}
        out=$dir/round$r-$v.txt
        b0=$(backend_requests); c0=$(redis_cmds)
        t0=$(cpu_ticks "$w") || die "$v: worker $w is gone"
        q0=$(cpu_ticks "$redis_pid")
        k0=$(cpu_ticks "$backend_worker"); read -r a0 all0 st0 < <(cpu_all)
        children_ticks; x0=$ticks

        wrk_run "$v" "$dur" "$out"

        children_ticks; x1=$ticks
        read -r a1 all1 st1 < <(cpu_all)
        t1=$(cpu_ticks "$w") || die "$v: worker $w died during the run"
        q1=$(cpu_ticks "$redis_pid")
        k1=$(cpu_ticks "$backend_worker")
        c1=$(redis_cmds); b1=$(backend_requests)
        [ "$(worker_of "${master[$v]}")" = "$w" ] || die "$v: the worker was replaced"

        line=$(grep '^BENCH ' "$out") || { cat "$out" >&2; die "$v: no BENCH line from wrk"; }
        req=$(field requests "$line"); us=$(field duration_us "$line")
        p50=$(field p50_us "$line"); p99=$(field p99_us "$line")
        bad=$(field non2xx "$line")
        sock=$(( $(field connect "$line") + $(field read "$line")
                 + $(field write "$line") + $(field timeout "$line") ))

        [ "$req" -gt 0 ] || die "$v: no request completed"
        if [ "$bad" != 0 ]; then
            cat "$out" >&2
            die "$v, round $r: $bad responses were not 2xx (see above)"
        fi
        [ "$sock" = 0 ] || { cat "$out" >&2; die "$v, round $r: $sock socket errors/timeouts"; }
        # every response wrk counted reached the backend; at most the
        # requests in flight when wrk stopped (one per connection) more,
        # plus the two status requests
        breq=$((b1 - b0 - 1))
        [ "$breq" -ge "$req" ] && [ "$breq" -le $((req + conns + 10)) ] \
            || die "$v, round $r: wrk completed $req requests, the backend answered $breq"

        ours=$(( (t1 - t0) + (q1 - q0) + (k1 - k0) + (x1 - x0) ))
        read -r rps wcpu rcpu cmds other steal < <(awk -v n="$req" -v us="$us" \
            -v hz="$hz" -v t="$((t1 - t0))" -v q="$((q1 - q0))" -v c="$((c1 - c0 - 1))" \
            -v o="$((a1 - a0 - ours))" -v all="$((all1 - all0))" -v st="$((st1 - st0))" \
            'BEGIN { if (o < 0) o = 0
                     printf "%.1f %.2f %.2f %.3f %.0f %.1f\n", n * 1e6 / us,
                     t * 1e6 / hz / n, q * 1e6 / hz / n, c / n, 100 * o / all,
                     100 * st / all }')
        if [ "$v" = wsgate ] && awk -v c="$cmds" 'BEGIN { exit !(c < 0.9) }'; then
            die "wsgate, round $r: $cmds Redis commands per request (expected 1)"
        fi
        p50ms=$(awk -v x="$p50" 'BEGIN { printf "%.2f", x / 1000 }')
        p99ms=$(awk -v x="$p99" 'BEGIN { printf "%.2f", x / 1000 }')

        rpss[$v]=$rps; wcpus[$v]=$wcpu
        row[$v]="$p50ms $p99ms $rcpu $cmds $other $steal"
        sleep 0.3
    done

    # the round's rows, in the variants' order, each against plain's run
    # of the same round
    for v in "${variants[@]}"; do
        read -r p50ms p99ms rcpu cmds other steal <<<"${row[$v]}"
        rps=${rpss[$v]}; wcpu=${wcpus[$v]}
        ratio=$(awk -v a="$rps" -v p="${rpss[plain]}" 'BEGIN { printf "%.3f", a / p }')
        cratio=$(awk -v a="$wcpu" -v p="${wcpus[plain]}" \
                     'BEGIN { printf "%.3f", (p > 0 ? a / p : 0) }')

        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$v" "$rps" \
            "$ratio" "$p50ms" "$p99ms" "$wcpu" "$rcpu" "$cmds" "$other" "$steal" \
            "$cratio" >> "$results"
        printf '%-5s  %-18s %9.0f %6s %8s %8s %11s %6s %10s %9s %7s%%\n' "$r" \
            "${label[$v]}" "$rps" "$ratio" "$p50ms" "$p99ms" "$wcpu" "$cratio" "$rcpu" \
            "$cmds" "$other"
    done
done

# ------------------------------------------------------------ error logs

for v in backend "${variants[@]}"; do
    if grep -q '\[\(error\|crit\|alert\|emerg\)\]' "$dir/$v/error.log" 2>/dev/null; then
        grep '\[\(error\|crit\|alert\|emerg\)\]' "$dir/$v/error.log" | head >&2
        die "errors in the $v nginx's log (above)"
    fi
done

# ---------------------------------------------------------------- summary

# A round is quiet when, in each of its runs, other processes took at most
# BENCH_NOISE % of the CPUs.  With at least 3 quiet rounds the medians are
# over those; otherwise over all rounds, and the summary says so.
quiet=$(awk -F'\t' -v lim="$noise" '{ if ($10 > lim) bad[$1] = 1; seen[$1] = 1 }
    END { for (r in seen) if (!(r in bad)) print r }' "$results" | sort -n | tr '\n' ' ')
nquiet=$(wc -w <<<"$quiet")
if [ "$nquiet" -ge 3 ]; then
    use=$quiet
    what="median of the $nquiet quiet rounds out of $rounds"
else
    use=$(seq -s ' ' "$rounds")
    what="median of all $rounds rounds, only $nquiet quiet: noisy, compare worker CPU / req rather than req/s"
fi

median() {          # median <variant> <column>, over the rounds in $use
    awk -F'\t' -v v="$1" -v c="$2" -v use=" $use " \
        '$2 == v && index(use, " " $1 " ") { print $c }' "$results" | sort -g \
        | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2];
                                    else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

echo
awk -F'\t' -v lim="$noise" '{ s += $10; t += $11; if ($10 > m) m = $10 } END {
    printf "Others (other processes, and the hypervisor: steal) took %.0f %% of the" \
           " CPUs on average during the runs, %d %% at most; steal alone %.1f %%" \
           " on average.  A quiet round: at most %d %% in each of its runs.\n",
           s / NR, m, t / NR, lim }' "$results"
echo
echo "Summary, $what (rounds: ${use% }); each wrk -t$threads -c$conns -d${dur}s, $ntokens tokens, one nginx worker:"
echo
echo "| variant | req/s | ratio to plain | p50 | p99 | nginx worker CPU / req | Redis CPU / req | Redis commands / req |"
echo "|---|---|---|---|---|---|---|---|"
for v in "${variants[@]}"; do
    printf '| %s | %s | %.2f | %.2f ms | %.2f ms | %.1f µs | %.1f µs | %.2f |\n' "${label[$v]}" \
        "$(median "$v" 3 | awk '{ s = sprintf("%.0f", $1); o = "";
              while (length(s) > 3) { o = "," substr(s, length(s) - 2) o;
                                      s = substr(s, 1, length(s) - 3) }
              print s o }')" \
        "$(median "$v" 4)" "$(median "$v" 5)" "$(median "$v" 6)" \
        "$(median "$v" 7)" "$(median "$v" 8)" "$(median "$v" 9)"
done
echo
for v in "${variants[@]}"; do
    [ "$v" = plain ] && continue
    printf '%s: worker CPU per request %s of plain'"'"'s, the median of the rounds'"'"' own ratios (%s)\n' \
        "${label[$v]}" "$(median "$v" 12 | awk '{ printf "%+.1f %%", ($1 - 1) * 100 }')" \
        "$(awk -F'\t' -v v="$v" -v use=" $use " '$2 == v && index(use, " " $1 " ") {
              printf "%s%+.0f", n++ ? ", " : "", ($12 - 1) * 100 } END { printf " %%" }' \
              "$results")"
done
case " ${variants[*]} " in
    *" cache "*) ;;
    *) echo; echo "(wsgate + cache: not measured, the module has no wsgate_cache yet)" ;;
esac
echo
say "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
say "ok: every response 2xx and from the backend"
