#!/usr/bin/env bash
# Every benchmark, one after another (`make bench`); results go to BENCHMARKS.md by hand.
#
#   1. scripts/bench-up.sh         control plane up to ready
#   2. scripts/bench-nodes.sh      up with two workers; pod start latency (root)
#   3. scripts/bench-kube.sh       kube client against kubectl, on a control plane started here
#   4. aks_up_bench                AKS up against the ARM emulator (0.2 and 0.05 s per unit)
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=build/aiconform
[[ -x "$CLI" ]] || { echo "bench: build first (make build)" >&2; exit 1; }

echo "== control plane up to ready"
scripts/bench-up.sh 5

if [[ $(id -u) == 0 ]]; then
  echo "== up with two workers; pod start latency"
  scripts/bench-nodes.sh 5 50
else
  echo "== skipped: worker-node benchmarks need root"
fi

echo "== kube client against kubectl"
dir=$(mktemp -d /tmp/aic-bench-kube-XXXXXX)
rmdir "$dir"
trap '"$CLI" down --state-dir "$dir" --purge >/dev/null 2>&1 || true' EXIT
"$CLI" up --workers 0 --state-dir "$dir" >/dev/null
AIC_BENCH_KUBECONFIG="$dir/kubeconfig" scripts/bench-kube.sh build
"$CLI" down --state-dir "$dir" --purge >/dev/null
trap - EXIT

echo "== AKS up against the ARM emulator"
build/bench/azure/aks_up_bench 0.2 3
build/bench/azure/aks_up_bench 0.05 3
