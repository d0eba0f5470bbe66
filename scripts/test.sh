#!/usr/bin/env bash
# Run the whole test suite (unit, property, golden on real data, cross-checks, CLI end to end).
# Extra arguments go to pytest, e.g. scripts/test.sh -m "not heavy" -x
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/ruff check brainalign tests benchmarks
exec .venv/bin/python -m pytest "$@"
