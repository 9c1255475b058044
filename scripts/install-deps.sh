#!/usr/bin/env bash
# Installs the Debian packages aiconform builds and tests with; a package already present is
# left alone, so running this twice installs nothing the second time.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang-format git golang-go
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libfmt-dev
  libspdlog-dev libgtest-dev libgmock-dev libbenchmark-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc prometheus-cpp-dev
  prometheus iproute2 iptables procps psmisc openssl runc containernetworking-plugins busybox-static
)

missing=()
for p in "${PACKAGES[@]}"; do
  # Go may come from outside Debian; accept any go on PATH.
  if [[ "$p" == golang-go ]] && command -v go >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present" >&2
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q "${missing[@]}" >&2 || {
  $SUDO apt-get update -q >&2
  $SUDO apt-get install -y -q "${missing[@]}" >&2
}
