#!/usr/bin/env bash
# Builds the upstream Kubernetes and etcd binaries aiconform runs, from their Go modules,
# into a versioned cache outside the repository. Binaries already built are skipped.
#
#   scripts/build-kube.sh            build what is missing
#   AICONFORM_BIN_DIR=/path ...      use that directory instead of the cache
#
# The k8s.io/kubernetes module requires its staging modules at v0.0.0 with replace directives
# that only work inside its own repository, so a throwaway module pins them to the release.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.34.2}"
STAGING_VERSION="v0${KUBE_VERSION#v1}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
CACHE="${AICONFORM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aiconform}"
BIN_DIR="${AICONFORM_BIN_DIR:-$CACHE/bin/$KUBE_VERSION}"
WORK="$CACHE/gobuild/$KUBE_VERSION"

KUBE_CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
STAGING=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
  cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
  cri-client csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms
  kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
  mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller)

say() { printf 'build-kube: %s\n' "$*" >&2; }

missing=()
for cmd in "${KUBE_CMDS[@]}" etcd; do
  [[ -x "$BIN_DIR/$cmd" ]] || missing+=("$cmd")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  say "all binaries present in $BIN_DIR"
  exit 0
fi
say "building ${missing[*]} into $BIN_DIR (first build takes a long while on 2 cores)"
mkdir -p "$BIN_DIR" "$WORK/kube" "$WORK/etcd"
export GOFLAGS="-buildvcs=false -mod=mod"
export CGO_ENABLED=0

# Kubernetes components.
if [[ ! -f "$WORK/kube/go.sum" ]]; then
  {
    echo "module aiconform.local/kubebuild"
    echo "go 1.24"
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo "replace ("
    for m in "${STAGING[@]}"; do echo "  k8s.io/$m => k8s.io/$m $STAGING_VERSION"; done
    echo ")"
  } > "$WORK/kube/go.mod"
  printf 'package tools\n\nimport (\n' > "$WORK/kube/tools.go"
  for cmd in "${KUBE_CMDS[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$cmd" >> "$WORK/kube/tools.go"; done
  printf ')\n' >> "$WORK/kube/tools.go"
  sed -i '1i //go:build tools' "$WORK/kube/tools.go"
  say "resolving k8s.io/kubernetes $KUBE_VERSION modules"
  (cd "$WORK/kube" && go mod tidy >&2)
fi
ldflags="-s -w"
for v in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $v.gitVersion=$KUBE_VERSION -X $v.gitMajor=1 -X $v.gitMinor=${KUBE_VERSION#v1.}"
  ldflags+=" -X $v.gitTreeState=clean -X $v.buildDate=1970-01-01T00:00:00Z"
done
ldflags="${ldflags//gitMinor=${KUBE_VERSION#v1.}/gitMinor=$(cut -d. -f2 <<<"$KUBE_VERSION")}"
for cmd in "${missing[@]}"; do
  [[ "$cmd" == etcd ]] && continue
  say "go build $cmd"
  (cd "$WORK/kube" && go build -trimpath -ldflags "$ldflags" -o "$BIN_DIR/$cmd.tmp" \
    "k8s.io/kubernetes/cmd/$cmd" && mv "$BIN_DIR/$cmd.tmp" "$BIN_DIR/$cmd")
done

# etcd: a two-line main around the server module's entry point.
if [[ ! -x "$BIN_DIR/etcd" ]]; then
  if [[ ! -f "$WORK/etcd/go.sum" ]]; then
    printf 'module aiconform.local/etcdbuild\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 %s\n' \
      "$ETCD_VERSION" > "$WORK/etcd/go.mod"
    printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' \
      > "$WORK/etcd/main.go"
    say "resolving etcd $ETCD_VERSION modules"
    (cd "$WORK/etcd" && go mod tidy >&2)
  fi
  say "go build etcd"
  (cd "$WORK/etcd" && go build -trimpath -ldflags "-s -w" -o "$BIN_DIR/etcd.tmp" . \
    && mv "$BIN_DIR/etcd.tmp" "$BIN_DIR/etcd")
fi
say "done: $BIN_DIR"
