#!/usr/bin/env bash
#
# wsgate's overhead, measured: wrk on loopback against one nginx with two
# locations in front of the same upstream, a plain proxy_pass and the same
# proxy_pass behind wsgate_auth (one pipelined HMGET per request), run one
# after the other in the same session.  Prints requests/s and latency for
# each and the ratio.
#
#     t/bench/run.sh [seconds] [connections] [workers]
#
# Needs: make (module + CLI built), redis-server, wrk.

set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
dur=${1:-10}
conns=${2:-50}
workers=${3:-1}
dir=$(mktemp -d /tmp/wsgate-bench.XXXXXX)
rport=$((20000 + RANDOM % 10000))
nport=$((rport + 1))
bport=$((rport + 2))

cleanup() {
    [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
    redis-cli -p "$rport" shutdown nosave >/dev/null 2>&1 || true
    sleep 0.2
    rm -rf "$dir"
}
trap cleanup EXIT

redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --logfile "$dir/redis.log" --dir "$dir" >/dev/null

for _ in $(seq 50); do
    redis-cli -p "$rport" ping >/dev/null 2>&1 && break
    sleep 0.05
done

ws=0b7c6c8e-3f7e-4c1e-9d55-7a4a3c1b2e01
token=$(WSGATE_REDIS_URL="redis://127.0.0.1:$rport/0" \
        "$top/build/wsgate-token" issue "$ws")

load=""
if [ -n "${TEST_NGINX_LOAD_MODULES-$top/build/ngx_http_wsgate_module.so}" ]; then
    load="load_module ${TEST_NGINX_LOAD_MODULES:-$top/build/ngx_http_wsgate_module.so};"
fi

mkdir -p "$dir/logs"
cat > "$dir/nginx.conf" <<CONF
$load
worker_processes $workers;
error_log $dir/logs/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    wsgate_redis 127.0.0.1:$rport;

    upstream backend {
        server 127.0.0.1:$bport;
        keepalive 64;
    }

    server {
        listen 127.0.0.1:$bport;
        location / { return 200 "ok\n"; }
    }

    server {
        listen 127.0.0.1:$nport;
        proxy_http_version 1.1;
        proxy_set_header Connection "";

        location = /plain {
            proxy_pass http://backend/;
        }

        location = /auth {
            wsgate_auth on;
            proxy_pass http://backend/;
        }
    }
}
CONF

"${TEST_NGINX_BINARY:-nginx}" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log"
sleep 0.5

curl -sf -o /dev/null "http://127.0.0.1:$nport/auth" \
     -H "Authorization: Bearer $token" || { echo "auth check failed"; exit 1; }

run() {
    wrk -t2 -c"$conns" -d"${dur}s" --latency -H "Authorization: Bearer $token" \
        "http://127.0.0.1:$nport/$1"
}

echo "== plain proxy_pass"; plain=$(run plain); echo "$plain"
echo "== wsgate_auth + proxy_pass"; auth=$(run auth); echo "$auth"

rps() { awk '/Requests\/sec/ {print $2}' <<<"$1"; }
p=$(rps "$plain"); a=$(rps "$auth")
echo
awk -v p="$p" -v a="$a" \
    'BEGIN { printf "plain %s req/s, wsgate %s req/s, ratio %.3f\n", p, a, a / p }' 
if grep -q "\[error\]\|\[alert\]\|\[crit\]" "$dir/logs/error.log"; then
    echo "errors in the nginx log:"; grep "\[error\]\|\[alert\]\|\[crit\]" "$dir/logs/error.log" | head
fi
