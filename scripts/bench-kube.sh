#!/usr/bin/env bash
# Compares the kube client with kubectl v1.34.2 on the same ConfigMaps in the same run:
# wall time and peak memory (max RSS) of one process that lists and decodes them, and of one
# process that receives them as watch events. Then runs the Google Benchmark loops.
#
#   AIC_BENCH_KUBECONFIG=<admin kubeconfig> scripts/bench-kube.sh [build-dir]
#
# Environment: AIC_BENCH_COUNT (10000), AIC_BENCH_NAMESPACE (aic-bench), AIC_BENCH_RUNS (5),
# KUBECTL (~/.cache/aiconform/bin/v1.34.2/kubectl).
set -euo pipefail

BUILD=${1:-build}
BENCH=$BUILD/bench/kube/kube_list_watch_bench
KUBECTL=${KUBECTL:-$HOME/.cache/aiconform/bin/v1.34.2/kubectl}
COUNT=${AIC_BENCH_COUNT:-10000}
RUNS=${AIC_BENCH_RUNS:-5}
export AIC_BENCH_NAMESPACE=${AIC_BENCH_NAMESPACE:-aic-bench}
: "${AIC_BENCH_KUBECONFIG:?set AIC_BENCH_KUBECONFIG to an admin kubeconfig}"
export AIC_BENCH_KUBECONFIG
SELECTOR=aiconform.dev/bench=list-watch
KC=(--kubeconfig "$AIC_BENCH_KUBECONFIG" -n "$AIC_BENCH_NAMESPACE" -l "$SELECTOR")

[ -x "$BENCH" ] || { echo "bench-kube: $BENCH is missing; build it first" >&2; exit 1; }
[ -x "$KUBECTL" ] || { echo "bench-kube: kubectl not found at $KUBECTL" >&2; exit 1; }

echo "bench-kube: $("$KUBECTL" version --client | head -1); $COUNT ConfigMaps"
"$BENCH" --setup="$COUNT"
"$KUBECTL" "${KC[@]}" get configmaps -o json >/dev/null  # warms kubectl's discovery cache

# Runs a command RUNS times; prints the median wall seconds and median max RSS (MiB).
# With a count N, the process is stopped once its stdout showed N ConfigMaps (kubectl's watch
# never ends by itself); its max RSS is read from the kernel's accounting when it exits.
measure() {
  local objects=$1
  shift
  python3 - "$RUNS" "$objects" "$@" <<'PY'
import os, statistics, subprocess, sys, time
runs, lines, cmd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
walls, rss = [], []
for _ in range(runs):
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    seen, tail, marker = 0, b"", b'"kind":"ConfigMap"'
    for chunk in iter(lambda: os.read(p.stdout.fileno(), 1 << 16), b""):
        seen += (tail + chunk).count(marker)
        tail = chunk[-(len(marker) - 1):]
        if lines and seen >= lines:
            break
    wall = time.monotonic() - start
    if lines:
        p.kill()
    _, status, usage = os.wait4(p.pid, 0)
    p.stdout.close()
    walls.append(wall)
    rss.append(usage.ru_maxrss / 1024)
print(f"{statistics.median(walls):.3f} {statistics.median(rss):.1f}")
PY
}

row() {  # name ours kubectl
  read -r ow om <<<"$2"
  read -r kw km <<<"$3"
  printf '| %s | %s s | %s MiB | %s s | %s MiB | %.2f | %.2f |\n' "$1" "$ow" "$om" "$kw" "$km" \
    "$(echo "$ow / $kw" | bc -l)" "$(echo "$om / $km" | bc -l)"
}

echo
echo "| process ($COUNT objects, median of $RUNS) | aiconform wall | aiconform max RSS | kubectl wall | kubectl max RSS | time ratio | memory ratio |"
echo "|---|---|---|---|---|---|---|"
ours=$(measure 0 "$BENCH" --once=list)
theirs=$(measure 0 "$KUBECTL" "${KC[@]}" get configmaps -o json)
row "list + decode (pages of 500)" "$ours" "$theirs"
ours=$(measure 0 "$BENCH" --once=watch:"$COUNT")
theirs=$(measure "$COUNT" "$KUBECTL" "${KC[@]}" get configmaps -w --output-watch-events -o json)
row "$COUNT watch events" "$ours" "$theirs"
echo

"$BENCH" --benchmark_min_time=2 --benchmark_counters_tabular=true
