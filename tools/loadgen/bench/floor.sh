#!/usr/bin/env bash
# Requests per client CPU-second against one nginx worker on loopback, for wrk,
# loadgen and the floor (floor_client.c: the least work a client can do per
# request, with epoll and with io_uring), in the same run, rounds alternating.
# nginx counts the requests (stub_status), so no client's own report is
# trusted; CPU is user + system from /usr/bin/time. nginx is pinned to core 0,
# the clients to core 1. Run it on an otherwise idle machine: a round's figure
# still moves by 10-15% on a VM, so take the medians of five rounds or more.
#
#   ./bazelw build -c opt //tools/loadgen
#   bash tools/loadgen/bench/floor.sh [-c CONNECTIONS] [-d SECONDS] [-r ROUNDS] [LOADGEN]
#
# LOADGEN defaults to bazel-out/k8-opt/bin/tools/loadgen/loadgen (the -c opt build). Needs nginx, wrk, gcc and
# liburing-dev (Debian packages; nginx and wrk are benchmark peers only, not
# build dependencies). Prints each round, then the medians and each client's
# ratio to wrk.
set -euo pipefail
connections=50 seconds=5 rounds=3 port=18093
while getopts "c:d:r:" option; do
  case $option in
    c) connections=$OPTARG ;;
    d) seconds=$OPTARG ;;
    r) rounds=$OPTARG ;;
    *) echo "usage: $0 [-c CONNECTIONS] [-d SECONDS] [-r ROUNDS] [LOADGEN]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
loadgen=${1:-bazel-out/k8-opt/bin/tools/loadgen/loadgen}
for tool in nginx wrk gcc "$loadgen"; do
  command -v "$tool" >/dev/null || { echo "$0: $tool not found" >&2; exit 2; }
done

work=$(mktemp -d)
gcc -O2 -o "$work/floor_client" "$(dirname "$0")/floor_client.c" -luring
cat >"$work/nginx.conf" <<CONF
worker_processes 1; daemon off; error_log $work/error.log; pid $work/nginx.pid;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$port; location / { return 200 "hello world\n"; }
           location = /_status { stub_status; } } }
CONF
taskset -c 0 nginx -c "$work/nginx.conf" -p "$work" &
nginx_pid=$!
trap 'kill $nginx_pid 2>/dev/null; wait $nginx_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/_status" && break; sleep 0.1; done
served() { curl -s "http://127.0.0.1:$port/_status" | awk 'NR==3 {print $3}'; }

url="http://127.0.0.1:$port/"
declare -A command=(
  [wrk]="wrk -t1 -c$connections -d${seconds}s $url"
  [loadgen]="$loadgen -c $connections -d ${seconds}s --live off $url"
  [floor_epoll]="$work/floor_client epoll $connections $seconds $port"
  [floor_uring]="$work/floor_client uring $connections $seconds $port"
)
names=(wrk loadgen floor_epoll floor_uring)

# Prints "name requests requests_per_cpu_second" for one run of a client.
measure() {
  local name=$1 before after cpu
  before=$(served)
  # shellcheck disable=SC2086 # the command is a word list
  /usr/bin/time -f "%U %S" -o "$work/time" taskset -c 1 ${command[$name]} >/dev/null 2>"$work/stderr"
  after=$(served)
  cpu=$(awk '{print $1 + $2}' "$work/time")
  # The status request itself is counted once.
  awk -v n="$name" -v r=$((after - before - 1)) -v c="$cpu" 'BEGIN {printf "%s %d %.0f\n", n, r, (c > 0 ? r / c : 0)}'
}

results="$work/results"
# Each round starts with the next client, so that none always runs right after
# the same other one (whose connections nginx may still be closing), with a
# pause between runs for the same reason.
for round in $(seq "$rounds"); do
  for offset in "${!names[@]}"; do
    name=${names[$(((round + offset) % ${#names[@]}))]}
    sleep 1
    line=$(measure "$name")
    echo "round $round: $line"
    echo "$line" >>"$results"
  done
done
median() { grep "^$1 " "$results" | sort -k3 -g | awk '{a[NR] = $3} END {print a[int((NR + 1) / 2)]}'; }
wrk_median=$(median wrk)
echo "median requests per client CPU-second (ratio to wrk):"
for name in "${names[@]}"; do
  value=$(median "$name")
  awk -v n="$name" -v v="$value" -v w="$wrk_median" 'BEGIN {printf "  %-12s %8.0f  %.2f\n", n, v, v / w}'
done
