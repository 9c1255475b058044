#!/usr/bin/env bash
# Fails, listing the files, when any given C++ file differs from what clang-format makes of it.
set -euo pipefail
bad=()
for f in "$@"; do
  if ! diff -q <(clang-format --style=file "$f") "$f" >/dev/null; then bad+=("$f"); fi
done
if [[ ${#bad[@]} -gt 0 ]]; then
  echo "check-format: not formatted (run 'make format'):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "check-format: $# files formatted" >&2
