#!/usr/bin/env bash
# Creates (or reuses) the Python environment of the public-table benchmark:
# scikit-survival and lifelines (which ship the tables), scikit-learn and
# LightGBM (the reference learners), pinned in requirements.txt. Nothing else
# is downloaded: the tables come inside those PyPI packages.
#
#   benches/public/setup.sh      (idempotent; prints the environment's path last)
#
# PUBLIC_VENV overrides the location; the default is outside the repository
# (${XDG_CACHE_HOME:-~/.cache}/carescore/public-venv), so neither git nor
# `cargo clean` sees it. PYTHON picks the interpreter (default python3; 3.11+,
# for tomllib). The environment is rebuilt when requirements.txt changes.
set -euo pipefail
cd "$(dirname "$0")"
venv="${PUBLIC_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/carescore/public-venv}"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup.sh: $python is older than 3.11 (tomllib is needed); set PYTHON" >&2
  exit 1
fi
# The copy of requirements.txt inside the venv records what it was built from.
if [ ! -x "$venv/bin/python" ] || ! cmp -s requirements.txt "$venv/carescore-requirements.txt"; then
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip >&2
  "$venv/bin/pip" install -q -r requirements.txt >&2
  cp requirements.txt "$venv/carescore-requirements.txt"
fi
echo "$venv"
