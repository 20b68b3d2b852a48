#!/usr/bin/env bash
# Several instances on one PostgreSQL database (issue 6): N domains of the shared workload,
# K `domaind serve` processes draining them, wall time from the first attempt to the last
# taken from domain_attempts. Prints one line per run.
#
#   scripts/bench-instances.sh BINARY INSTANCES DOMAINS [SERVER_URL]
#
# Needs the shared nginx farm on 127.0.0.1:18080 (../shared/bench/start.sh) and psql.
set -euo pipefail
bin=$1 k=$2 n=$3
server=${4:-postgres://postgres@127.0.0.1:5432/postgres}
db="domaind_instances_$$"
dir=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    psql "$server" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
psql "$server" -qc "CREATE DATABASE $db" >/dev/null
url="${server%/*}/$db"
cat > "$dir/config.toml" <<TOML
[database]
url = "$url"
[http]
bind = "127.0.0.1:0"
[fetch]
schemes = ["http"]
[fetch.resolve_override]
"*.test" = "127.0.0.1:18080"
[[scheduler.jobs]]
id = "process_pending_domains"
trigger = "interval"
spec = "100ms"
args = { limit = 100000 }
[[scheduler.jobs]]
id = "reclaim_expired_leases"
trigger = "interval"
spec = "15s"
TOML
"$bin" --config "$dir/config.toml" migrate >/dev/null
for ((t = 0; t < 10; t++)); do
    for ((i = t; i < n; i += 10)); do echo "site-$i-$((i % 8)).test"; done > "$dir/t$t.txt"
    "$bin" --config "$dir/config.toml" add --tenant "t$t" --file "$dir/t$t.txt" >/dev/null
done
for ((i = 0; i < k; i++)); do
    "$bin" --config "$dir/config.toml" serve 2>"$dir/serve-$i.log" >/dev/null &
    pids+=($!)
done
while :; do
    done_rows=$(psql "$url" -Atc "SELECT COUNT(*) FROM domains WHERE status IN ('completed','error')")
    [ "$done_rows" -ge "$n" ] && break
    sleep 0.5
done
psql "$url" -Atc "SELECT $k AS instances, COUNT(*) AS attempts,
    COUNT(DISTINCT instance) AS instances_that_worked,
    ROUND(EXTRACT(EPOCH FROM MAX(finished_at) - MIN(started_at))::numeric, 2) AS wall_s,
    ROUND((COUNT(*) / EXTRACT(EPOCH FROM MAX(finished_at) - MIN(started_at)))::numeric, 0) AS domains_per_s,
    (SELECT COUNT(*) FROM domains WHERE status = 'completed') AS completed,
    (SELECT MAX(attempts) FROM domains) AS max_attempts
    FROM domain_attempts" -F ' '
