#!/usr/bin/env bash
# Installs what Qmmm needs on a fresh Debian machine with the .NET SDK: native OpenBLAS + LAPACKE (the managed
# fallback runs without them, slower), fonts for plots. Needs root (or sudo) for apt; skips what is already there.
set -euo pipefail
need=()
for pkg in liblapacke libopenblas0-pthread fonts-dejavu-core; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  if [ -n "$SUDO" ] && ! command -v sudo >/dev/null; then
    echo "setup: cannot install ${need[*]} (not root, no sudo); the managed LAPACK fallback will be used" >&2
  else
    echo "setup: installing ${need[*]}" >&2
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi
cd "$(dirname "$0")/.."
dotnet tool restore >/dev/null
