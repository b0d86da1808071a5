#!/usr/bin/env bash
# Create .venv (if missing) and install m3i-ref with its dev tools. Offline-friendly: needs only a package index.
# The torch pin lives here, not in the package's dependencies (those stay loose: torch>=2.4).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
case "$(uname -m)" in
  x86_64)  TORCH="torch==2.14.1 torchvision==0.29.1" ;;   # the pair that works on this project's machines
  aarch64) TORCH="torch==2.9.1 torchvision==0.24.1" ;;
  *)       TORCH="torch torchvision" ;;
esac
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q $TORCH
.venv/bin/python -m pip install -q -e ".[dev]"
echo "m3i-ref installed in .venv ($(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'))"
