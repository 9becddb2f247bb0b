#!/usr/bin/env bash
# Sets up (first time only) and opens the app; extra arguments go to `designer`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/designer "$@"
