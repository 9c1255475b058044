#!/usr/bin/env bash
# Worker-node benchmarks of the local cluster (root; binaries and images cached).
#
# 1. `aiconform up` with its default two workers, from nothing until every node is Ready and the
#    first pod (CoreDNS) is Running and Ready; `up` waits for exactly that. Fresh state each run.
# 2. Pod start latency: 50 probe pods created back to back (spread over both workers), each timed
#    from the moment its create request returned until a watch reports it Running; p50 and p99.
#
#   scripts/bench-nodes.sh [up-runs] [pods]     (defaults 5 and 50)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"
PODS="${2:-50}"
CLI=${AIC_CLI:-build/aiconform}
[[ -x "$CLI" ]] || { echo "bench-nodes: build first (make build)" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "bench-nodes: needs root" >&2; exit 1; }

times=()
for i in $(seq "$RUNS"); do
  dir=$(mktemp -d /tmp/aic-bench-nodes-XXXXXX)
  rmdir "$dir"
  start=$(date +%s.%N)
  "$CLI" up --state-dir "$dir" >/dev/null 2>&1
  end=$(date +%s.%N)
  if [[ $i -lt $RUNS ]]; then "$CLI" down --state-dir "$dir" --purge >/dev/null 2>&1; fi
  t=$(echo "$end - $start" | bc)
  times+=("$t")
  printf 'bench-nodes: up run %d: %.2f s\n' "$i" "$t" >&2
done
printf '%s\n' "${times[@]}" | sort -n | awk '
  { v[NR] = $1; sum += $1 }
  END { printf "up (2 workers) to nodes Ready + first pod Running: runs=%d min=%.2fs median=%.2fs max=%.2fs\n",
        NR, v[1], v[int((NR + 1) / 2)], v[NR] }'

# The last run's cluster stays up for the pod latency measurement.
trap '"$CLI" down --state-dir "$dir" --purge >/dev/null 2>&1' EXIT
python3 - "$dir" "$PODS" <<'PY'
import json, ssl, sys, threading, time, urllib.request

state, count = sys.argv[1], int(sys.argv[2])
port = json.load(open(state + "/cluster.json"))["ports"]["apiserver"]
base = f"https://127.0.0.1:{port}"
ctx = ssl.create_default_context(cafile=state + "/pki/ca.crt")
ctx.load_cert_chain(state + "/pki/admin.crt", state + "/pki/admin.key")

def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body else None,
                                 headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, context=ctx))

ns = "bench-pods"
call("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
while True:  # the namespace's default service account must exist before pods are admitted
    try:
        call("GET", f"/api/v1/namespaces/{ns}/serviceaccounts/default"); break
    except Exception:
        time.sleep(0.05)
rv = call("GET", f"/api/v1/namespaces/{ns}/pods")["metadata"]["resourceVersion"]
created, running = {}, {}
done = threading.Event()

def watch():
    url = f"{base}/api/v1/namespaces/{ns}/pods?watch=1&resourceVersion={rv}"
    with urllib.request.urlopen(urllib.request.Request(url), context=ctx) as stream:
        for line in stream:
            pod = json.loads(line)["object"]
            name = pod["metadata"]["name"]
            if pod.get("status", {}).get("phase") == "Running" and name not in running:
                running[name] = time.monotonic()
                if len(running) == count:
                    done.set(); return

threading.Thread(target=watch, daemon=True).start()
time.sleep(0.2)
for i in range(count):
    name = f"p{i}"
    call("POST", f"/api/v1/namespaces/{ns}/pods", {
        "metadata": {"name": name},
        "spec": {"terminationGracePeriodSeconds": 0,
                 "tolerations": [{"key": "sku", "operator": "Exists"}],
                 "containers": [{"name": "c", "image": "aiconform.local/probe:1",
                                 "imagePullPolicy": "Never", "command": ["sleep", "3600"]}]}})
    created[name] = time.monotonic()
if not done.wait(300):
    sys.exit(f"only {len(running)} of {count} pods Running after 300 s")
lat = sorted(running[n] - created[n] for n in created)
pct = lambda p: lat[min(len(lat) - 1, int(round(p / 100 * len(lat) + 0.5)) - 1)]
print(f"pod start latency (created -> Running), {count} pods created back to back: "
      f"p50={pct(50):.2f}s p99={pct(99):.2f}s max={lat[-1]:.2f}s")
PY
