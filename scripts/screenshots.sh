#!/usr/bin/env bash
# Refresh the pictures in docs/screenshots (the README's and docs/design/console.md's) from
# the browser tests that take them when KUZET_SCREENSHOTS is set: the wall and live view
# (wall.png, live.png), the archive (archive.png) and each role's home page in Kazakh
# (home-<role>.png). Run after `scripts/test.sh` has installed .venv; one process, since
# the pictures are of real playback and the live test needs the machine's cores.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p docs/screenshots
KUZET_SCREENSHOTS=docs/screenshots exec .venv/bin/python -m pytest -q -n 0 "$@" \
  tests/test_console_walkthrough.py \
  "tests/test_console_roles.py::test_a_guard_reaches_the_archive_by_clicks_and_the_screen_locks" \
  "tests/test_console.py::test_live_view_plays_in_chromium" \
  "tests/test_console.py::test_archive_timeline_gap_missing_file_sync_and_reconnect"
