#!/usr/bin/env bash
# Install Kuzet into .venv and start the demo: simulated cameras, recorded 24/7.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python.sh
"$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
exec .venv/bin/kuzet demo "$@"
