#!/usr/bin/env bash
# Creates .venv and installs Designer with its test tools. Safe to run again:
# it reinstalls only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=".venv/.designer-$(sha1sum pyproject.toml | cut -c1-12)"
if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    # Install the CPU build of torch first: an unpinned torch pulls a multi-GB
    # CUDA build. The project itself only asks for torch>=2.3.
    if ! .venv/bin/python -c "import torch" 2>/dev/null; then
        .venv/bin/python -m pip install --quiet "torch==${DESIGNER_TORCH:-2.13.0}"
    fi
    .venv/bin/python -m pip install --quiet -e ".[test]"
    rm -f .venv/.designer-*
    touch "$stamp"
fi
