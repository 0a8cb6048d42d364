#!/usr/bin/env bash
#
# `make demo-stop`: stop exactly what demo.sh started, found by the
# pidfiles in build/demo/ (nginx, the demo backend with the children it
# forked, Redis), and nothing else.  A pidfile whose process is gone, or
# is no longer the program demo.sh started, is only removed.
#
#     demo-stop.sh [--quiet]

set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
STATE=$TOP/build/demo
QUIET=
[ "${1:-}" = --quiet ] && QUIET=1

say() {
    [ -n "$QUIET" ] || echo "demo-stop: $*"
}

# Running, and not a zombie waiting for init to reap it.
alive() {
    kill -0 "$1" 2>/dev/null || return 1
    [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]
}

# Does process $1 run a command line containing $2?
runs() {
    [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$2"
}

# Wait up to $1 tenths of a second for every pid in $2... to be gone.
wait_gone() {
    local n=$1 p left
    shift
    while [ "$n" -gt 0 ]; do
        left=
        for p in "$@"; do
            alive "$p" && left=1
        done
        [ -z "$left" ] && return 0
        sleep 0.1
        n=$((n - 1))
    done
    return 1
}

# The pid in pidfile $1 when it runs something containing $2, else empty
# (and a stale pidfile is removed).
pid_of() {
    local file=$1 match=$2 pid
    [ -s "$file" ] || return 0
    pid=$(tr -dc '0-9' <"$file")
    if [ -n "$pid" ] && alive "$pid" && runs "$pid" "$match"; then
        echo "$pid"
    else
        say "removing stale $file" >&2
        rm -f "$file"
    fi
}

# nginx: QUIT lets the workers finish their requests; TERM, then KILL, if
# they do not within 10s.
pid=$(pid_of "$STATE/nginx/logs/nginx.pid" "$STATE/nginx/")
if [ -n "$pid" ]; then
    workers=$(ps -o pid= --ppid "$pid" | tr -s ' \n' ' ')
    kill -QUIT "$pid"
    # shellcheck disable=SC2086
    if ! wait_gone 100 "$pid" $workers; then
        kill -TERM "$pid" $workers 2>/dev/null
        wait_gone 30 "$pid" $workers || kill -KILL "$pid" $workers 2>/dev/null
    fi
    rm -f "$STATE/nginx/logs/nginx.pid"
    say "stopped nginx (pid $pid)"
fi

# The backend leads its own session (demo.sh starts it with setsid): TERM
# its process group, so the children serving a request go too.
pid=$(pid_of "$STATE/backend.pid" demo-backend.pl)
if [ -n "$pid" ]; then
    if [ "$(ps -o pgid= -p "$pid" | tr -d ' ')" = "$pid" ]; then
        group=$(ps -eo pid=,pgid= | awk -v g="$pid" '$2 == g { print $1 }' \
                | tr -s ' \n' ' ')
        kill -TERM -- "-$pid" 2>/dev/null
    else
        kill -TERM "$pid"
        group=
    fi
    # shellcheck disable=SC2086
    if ! wait_gone 50 "$pid" $group; then
        kill -KILL "$pid" $group 2>/dev/null
        wait_gone 20 "$pid" $group
    fi
    rm -f "$STATE/backend.pid"
    say "stopped the demo backend (pid $pid)"
fi

# Redis: TERM (it saves nothing: the demo runs it with --save '').
pid=$(pid_of "$STATE/redis.pid" redis-server)
if [ -n "$pid" ]; then
    kill -TERM "$pid"
    if ! wait_gone 50 "$pid"; then
        kill -KILL "$pid" 2>/dev/null
        wait_gone 20 "$pid"
    fi
    rm -f "$STATE/redis.pid"
    say "stopped redis-server (pid $pid)"
fi

exit 0
