#!/usr/bin/env bash
# loadgen's --hdr_log is read by HdrHistogram's own library (Debian's
# libhdrhistogram-java), and the histogram in it is the one loadgen reported:
# the same count, and min, max and percentiles in the same buckets.
set -euo pipefail
loadgen=$1
jar=/usr/share/java/hdrhistogram.jar
[[ -r $jar ]] || { echo "FAIL: $jar is missing (./bazelw installs libhdrhistogram-java)"; exit 1; }
work=${TEST_TMPDIR:-$(mktemp -d)}

# The embedded server, a few seconds of load so the log has several intervals.
"$loadgen" -n 200000 -c 8 --live off --hdr_log "$work/run.hlog" --json "$work/run.json" >"$work/report.txt"
grep -q '^#\[Histogram log format version 1.3\]' "$work/run.hlog" || { echo "FAIL: not an interval log"; exit 1; }

read -r count min max p50 p75 p90 p99 p999 p9999 < <(python3 -c '
import json, sys
latency = json.load(open(sys.argv[1]))["latency_us"]
print(*(latency[k] for k in ("count", "min", "max", "p50", "p75", "p90", "p99", "p99_9", "p99_99")))
' "$work/run.json")
((count == 200000)) || { echo "FAIL: loadgen's JSON counts $count responses, not 200000"; exit 1; }

javac -d "$work" -cp "$jar" "$(dirname "$0")/testdata/HdrLogCheck.java"
java -cp "$jar:$work" HdrLogCheck "$work/run.hlog" "$count" "$min" "$max" "$p50" "$p75" "$p90" "$p99" "$p999" "$p9999"
