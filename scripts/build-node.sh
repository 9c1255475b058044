#!/usr/bin/env bash
# Builds the worker-node binaries aiconform runs, from their Go modules, into a versioned cache
# outside the repository: containerd, its runc shim and ctr, and CoreDNS. Binaries already built
# are skipped. runc and the CNI plugins come from Debian (scripts/install-deps.sh).
#
#   scripts/build-node.sh            build what is missing
#   AICONFORM_CACHE=/path ...        use that cache instead of ~/.cache/aiconform
#
# containerd v2.2.x: its CRI plugin speaks cri-api v0.34, the same API as kubelet v1.34, it
# has CDI on by default, and its go.mod asks for go 1.25, which the go1.26 toolchain builds.
# CoreDNS: a small main of ours links only the plugins a cluster needs, so the build does not
# pull every cloud SDK that the upstream plugin list brings in.
set -euo pipefail

CONTAINERD_VERSION="${CONTAINERD_VERSION:-v2.2.9}"
COREDNS_VERSION="${COREDNS_VERSION:-v1.14.7}"
CACHE="${AICONFORM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aiconform}"
CONTAINERD_DIR="$CACHE/bin/containerd-$CONTAINERD_VERSION"
COREDNS_DIR="$CACHE/bin/coredns-$COREDNS_VERSION"
WORK="$CACHE/gobuild"

CONTAINERD_CMDS=(containerd containerd-shim-runc-v2 ctr)
COREDNS_PLUGINS=(cache errors forward health hosts kubernetes loadbalance log loop metrics ready
  reload rewrite whoami)

say() { printf 'build-node: %s\n' "$*" >&2; }

export GOFLAGS="-buildvcs=false -mod=mod"
export CGO_ENABLED=0

# containerd: the module has no replace directives, so a throwaway module can require it.
build_containerd() {
  local work="$WORK/containerd-$CONTAINERD_VERSION" missing=() cmd
  for cmd in "${CONTAINERD_CMDS[@]}"; do
    [[ -x "$CONTAINERD_DIR/$cmd" ]] || missing+=("$cmd")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    say "containerd $CONTAINERD_VERSION present in $CONTAINERD_DIR"
    return
  fi
  mkdir -p "$CONTAINERD_DIR" "$work"
  if [[ ! -f "$work/go.sum" ]]; then
    printf 'module aiconform.local/containerdbuild\n\ngo 1.25\n\nrequire github.com/containerd/containerd/v2 %s\n' \
      "$CONTAINERD_VERSION" > "$work/go.mod"
    {
      printf '//go:build tools\n\npackage tools\n\nimport (\n'
      for cmd in "${CONTAINERD_CMDS[@]}"; do
        printf '\t_ "github.com/containerd/containerd/v2/cmd/%s"\n' "$cmd"
      done
      printf ')\n'
    } > "$work/tools.go"
    say "resolving containerd $CONTAINERD_VERSION modules"
    (cd "$work" && go mod tidy >&2)
  fi
  local pkg="github.com/containerd/containerd/v2/version"
  local ldflags="-s -w -X $pkg.Version=$CONTAINERD_VERSION -X $pkg.Revision=aiconform"
  for cmd in "${missing[@]}"; do
    say "go build $cmd ($CONTAINERD_VERSION)"
    (cd "$work" && go build -trimpath -tags "no_btrfs no_devmapper no_zfs" -ldflags "$ldflags" \
      -o "$CONTAINERD_DIR/$cmd.tmp" "github.com/containerd/containerd/v2/cmd/$cmd" \
      && mv "$CONTAINERD_DIR/$cmd.tmp" "$CONTAINERD_DIR/$cmd")
  done
}

# CoreDNS: coremain.Run with the plugins linked in; unlinked directives are simply unavailable.
build_coredns() {
  local work="$WORK/coredns-$COREDNS_VERSION" p
  if [[ -x "$COREDNS_DIR/coredns" ]]; then
    say "coredns $COREDNS_VERSION present in $COREDNS_DIR"
    return
  fi
  mkdir -p "$COREDNS_DIR" "$work"
  if [[ ! -f "$work/go.sum" ]]; then
    printf 'module aiconform.local/corednsbuild\n\ngo 1.25\n\nrequire github.com/coredns/coredns %s\n' \
      "$COREDNS_VERSION" > "$work/go.mod"
    {
      printf 'package main\n\nimport (\n\t"github.com/coredns/coredns/coremain"\n\n'
      for p in "${COREDNS_PLUGINS[@]}"; do
        printf '\t_ "github.com/coredns/coredns/plugin/%s"\n' "$p"
      done
      printf ')\n\nfunc main() { coremain.Run() }\n'
    } > "$work/main.go"
    say "resolving coredns $COREDNS_VERSION modules"
    (cd "$work" && go mod tidy >&2)
  fi
  say "go build coredns ($COREDNS_VERSION)"
  (cd "$work" && go build -trimpath -ldflags "-s -w" -o "$COREDNS_DIR/coredns.tmp" . \
    && mv "$COREDNS_DIR/coredns.tmp" "$COREDNS_DIR/coredns")
}

build_containerd
build_coredns
say "done: $CONTAINERD_DIR $COREDNS_DIR"
