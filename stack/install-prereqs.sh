#!/usr/bin/env bash
# Checks (and where it can, installs) what the local stack needs from the system:
# Python >= 3.11 with venv, Node.js + npm, openssl, and Go (>= 1.21; go.mod's
# toolchain line fetches the exact Go release through the module proxy).
set -euo pipefail

missing=()
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
command -v openssl >/dev/null || missing+=(openssl)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "install-prereqs: installing ${missing[*]} with apt-get" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "install-prereqs: missing ${missing[*]}; install them with your package manager and retry." >&2
    exit 1
  fi
fi

python3 - <<'PY' || { echo "install-prereqs: Python >= 3.11 is required (python3 is $(python3 --version 2>&1))." >&2; exit 1; }
import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY

if ! command -v go >/dev/null; then
  echo "install-prereqs: Go is not installed. Install Go >= 1.21 (https://go.dev/dl/); it fetches the toolchain daprd needs itself." >&2
  exit 1
fi
