# Sourced by the set-up scripts: find a Python >= 3.11 and name it $PYTHON.
for candidate in python3.11 python3.12 python3.13 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    PYTHON=$(command -v "$candidate")
    break
  fi
done
if [ -z "${PYTHON:-}" ]; then
  echo "Kuzet needs Python 3.11 or newer (python3.11 not found)" >&2
  exit 1
fi
