#!/usr/bin/env bash
#
# `make demo`: start a private Redis, the demo backend (a stand-in for the
# platform that echoes what it received) and nginx running gateway.conf,
# all on 127.0.0.1, issue a workspace token and a system token, and print
# curl lines to paste.  `make demo-stop` (demo-stop.sh) stops exactly what
# this started.  Running it again stops the previous demo first.
#
# Runs after `make deps all`: needs build/ngx_http_wsgate_module.so,
# build/wsgate-token, nginx, redis-server, redis-cli, perl and curl.
# Everything lives in build/demo/:
#   redis.pid redis.log redis/     the Redis (no persistence)
#   backend.pid backend.log        lua-free-config/demo-backend.pl
#   nginx/conf/nginx.conf          gateway.conf with the demo's addresses
#   nginx/logs/                    nginx.pid, error.log, access.json
#   curl-lines.sh                  the lines printed at the end
#
# Ports: 8080 (nginx), 8090 (backend), 6399 (Redis), or a free port when
# one is taken; the printed lines use the ports actually chosen.

set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
STATE=$TOP/build/demo
CONF_SRC=$TOP/lua-free-config/gateway.conf
MODULE=$TOP/build/ngx_http_wsgate_module.so
TOKEN_CLI=$TOP/build/wsgate-token
NGINX=${NGINX:-/usr/sbin/nginx}

# The demo's workspace (any UUID would do) and the system caller that
# the platform's restart notifier uses.
WS=3f2c8a1e-5b7d-4e9a-8c6f-1d2e3f4a5b6c
SYSTEM_CALLER=system:restart-context

die() {
    echo "demo: $*" >&2
    exit 1
}

for f in "$MODULE" "$TOKEN_CLI"; do
    [ -e "$f" ] || die "$f is missing; run \`make\` (or \`make demo\`) first"
done
for c in "$NGINX" redis-server redis-cli perl curl setsid; do
    command -v "$c" >/dev/null || die "$c not found; run \`make deps\`"
done

# A previous demo, if any, goes first: re-running restarts cleanly.
"$TOP/lua-free-config/demo-stop.sh" --quiet
rm -rf "$STATE"
mkdir -p "$STATE/redis" "$STATE/nginx/conf" "$STATE/nginx/logs"

# Is something listening on 127.0.0.1:$1?
busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The wanted port when it is free, else one the kernel picks.
pick_port() {
    if ! busy "$1"; then
        echo "$1"
        return
    fi
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
                                      LocalPort => 0, Listen => 1) or die;
        print $s->sockport, "\n";'
}

# Wait up to 10s for "$@" to succeed.
wait_for() {
    local i
    for i in $(seq 100); do
        if "$@"; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

REDIS_PORT=$(pick_port 6399)
BACKEND_PORT=$(pick_port 8090)
GW_PORT=$(pick_port 8080)
GW=http://127.0.0.1:$GW_PORT

# --- Redis: private, loopback only, nothing written to disk.
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' \
    --appendonly no --daemonize yes --pidfile "$STATE/redis.pid" \
    --logfile "$STATE/redis.log" --dir "$STATE/redis" >/dev/null \
    || die "redis-server did not start; see $STATE/redis.log"
redis_up() {
    [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
}
wait_for redis_up || die "redis-server did not answer; see $STATE/redis.log"

# --- The demo backend, in its own session so that demo-stop.sh can end it
# together with the children it forks per connection.
setsid perl "$TOP/lua-free-config/demo-backend.pl" --port "$BACKEND_PORT" \
    --pidfile "$STATE/backend.pid" </dev/null >"$STATE/backend.log" 2>&1 &
backend_up() {
    [ -s "$STATE/backend.pid" ] && busy "$BACKEND_PORT"
}
wait_for backend_up || die "the demo backend did not start; see $STATE/backend.log"

# --- nginx with gateway.conf: the same file, with the module from build/
# and the demo's ports.  Each replacement must hit exactly once.
CONF=$STATE/nginx/conf/nginx.conf
cp "$CONF_SRC" "$CONF"
replace() {
    local from=$1 to=$2 n
    n=$(grep -cF -- "$from" "$CONF" || true)
    [ "$n" = 1 ] || die "gateway.conf: expected one \"$from\", found $n"
    FROM=$from TO=$to perl -pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/' "$CONF"
}
replace "load_module /usr/lib/nginx/modules/ngx_http_wsgate_module.so;" \
        "load_module $MODULE;"
replace "wsgate_redis 127.0.0.1:6379 " "wsgate_redis 127.0.0.1:$REDIS_PORT "
replace "server 127.0.0.1:8090;" "server 127.0.0.1:$BACKEND_PORT;"
replace "listen 127.0.0.1:8080;" "listen 127.0.0.1:$GW_PORT;"

NGX=("$NGINX" -p "$STATE/nginx/" -c "$CONF" -e "$STATE/nginx/logs/error.log")
"${NGX[@]}" -t -q 2>"$STATE/nginx/logs/nginx-t.log" \
    || { cat "$STATE/nginx/logs/nginx-t.log" >&2; die "nginx -t failed"; }
"${NGX[@]}" || die "nginx did not start; see $STATE/nginx/logs/error.log"
nginx_up() {
    [ -s "$STATE/nginx/logs/nginx.pid" ] && busy "$GW_PORT"
}
wait_for nginx_up || die "nginx did not start; see $STATE/nginx/logs/error.log"

# --- Tokens: the CLI prints each once; Redis keeps only its sha256.
export WSGATE_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
TOKEN=$("$TOKEN_CLI" -q issue "$WS") || die "wsgate-token issue failed"
SYSTOKEN=$("$TOKEN_CLI" -q issue-system "$SYSTEM_CALLER") \
    || die "wsgate-token issue-system failed"

# --- The lines to paste.
AUTH="-H 'Authorization: Bearer $TOKEN'"
SYSAUTH="-H 'Authorization: Bearer $SYSTOKEN'"
JSON="-H 'Content-Type: application/json'"
C="curl -s -w '  [%{http_code}]\n'"
GOOD="{\"id\":\"$WS\",\"url\":\"https://agent.example.com/a2a\",\"agent_card\":{\"name\":\"demo agent\"}}"
BAD="{\"id\":\"$WS\",\"url\":\"http://169.254.169.254/latest/meta-data\",\"agent_card\":{\"name\":\"demo agent\"}}"
RPC='{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{"role":"user","messageId":"m-1","parts":[{"kind":"text","text":"you were restarted; carry on"}]}}}'

{
cat <<EOF
# 1. The workspace's registration state: "online", no failure on record.
$C $AUTH $GW/workspaces/$WS/registration

# 2. A good register: the backend answers 200 (it echoes what it received).
$C -X POST $AUTH $JSON --data '$GOOD' $GW/registry/register

# 3. A bad register: 400 naming the field and the exact reason (the cloud
#    metadata address), and the backend never sees it.
$C -X POST $AUTH $JSON --data '$BAD' $GW/registry/register

# 4. That failure is on record: "degraded" (no restart window was open).
$C $AUTH $GW/workspaces/$WS/registration

# 5. The platform restarts the workspace: the backend's 200 opens the
#    restart window (restart_at_ms).
$C -X POST $GW/workspaces/$WS/restart

# 6. The first register after the restart fails (400 again) ...
$C -X POST $AUTH $JSON --data '$BAD' $GW/registry/register

# 7. ... and the state reads "restarting", not "degraded".
$C $AUTH $GW/workspaces/$WS/registration

# 8. The next register is good (200): the failure and the window are cleared ...
$C -X POST $AUTH $JSON --data '$GOOD' $GW/registry/register

# 9. ... and the workspace is "online" again.
$C $AUTH $GW/workspaces/$WS/registration

# 10. A2A from the system caller $SYSTEM_CALLER, with its own token: the
#     backend sees x_workspace_id 1a6dd07d-3c32-5fad-a541-9b52f879b82d
#     (its UUIDv5), x_caller_kind "system", x_caller_name "$SYSTEM_CALLER".
$C -X POST $SYSAUTH -H 'X-Workspace-ID: $SYSTEM_CALLER' $JSON --data '$RPC' $GW/workspaces/$WS/a2a

# 11. The same claim with a workspace token is a forged system caller: 403.
$C -X POST $AUTH -H 'X-Workspace-ID: $SYSTEM_CALLER' $JSON --data '$RPC' $GW/workspaces/$WS/a2a

# 12. No token at all: 401.
$C $GW/workspaces/$WS/registration

# 13. What all of that did, summed over the workers (Prometheus text).
curl -s $GW/metrics | grep -v '^#'
EOF
} >"$STATE/curl-lines.sh"

cat <<EOF
wsgate demo is running, on 127.0.0.1 only:
  nginx    $GW  (lua-free-config/gateway.conf as build/demo/nginx/conf/nginx.conf)
  backend  http://127.0.0.1:$BACKEND_PORT  (lua-free-config/demo-backend.pl)
  redis    127.0.0.1:$REDIS_PORT  (WSGATE_REDIS_URL=$WSGATE_REDIS_URL)
  logs     build/demo/nginx/logs/error.log, build/demo/nginx/logs/access.json

workspace $WS
  token         $TOKEN
  system token  $SYSTOKEN  ($SYSTEM_CALLER)

Paste these, in order (also in build/demo/curl-lines.sh):

EOF
cat "$STATE/curl-lines.sh"
cat <<EOF

Inspect Redis:  build/wsgate-token --redis $WSGATE_REDIS_URL status $WS
Stop it all:    make demo-stop
EOF
