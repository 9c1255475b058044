#!/usr/bin/env bash
# Times `aiconform up` (binaries cached) from nothing to ready: apiserver /readyz passing and
# both controllers holding their leases. Each run starts on a fresh state directory, so
# certificates and etcd are made anew every time, as on a first `up`.
#
#   scripts/bench-up.sh [runs]     (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"
CLI=build/aiconform
[[ -x "$CLI" ]] || { echo "bench-up: build first (make build)" >&2; exit 1; }

times=()
for i in $(seq "$RUNS"); do
  dir=$(mktemp -d /tmp/aic-bench-up-XXXXXX)
  rmdir "$dir"
  start=$(date +%s.%N)
  "$CLI" up --workers 0 --state-dir "$dir" >/dev/null 2>&1
  end=$(date +%s.%N)
  "$CLI" down --state-dir "$dir" --purge >/dev/null 2>&1
  t=$(echo "$end - $start" | bc)
  times+=("$t")
  printf 'bench-up: run %d: %.2f s\n' "$i" "$t" >&2
done
printf '%s\n' "${times[@]}" | sort -n | awk '
  { v[NR] = $1; sum += $1 }
  END { printf "up to ready: runs=%d min=%.2fs median=%.2fs max=%.2fs mean=%.2fs\n",
        NR, v[1], v[int((NR + 1) / 2)], v[NR], sum / NR }'
