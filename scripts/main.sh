#!/usr/bin/env bash
# The main job: score MobileNetV2 against V4 neurons (encoding) and monkey/human IT (RSA),
# print per-layer scores and write an HTML report. Extra arguments go to `brainalign demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/brainalign demo "$@"
