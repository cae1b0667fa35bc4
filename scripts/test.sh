#!/usr/bin/env bash
# Install Greenroom with its test dependencies and run the whole test suite (SQLite and PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
exec .venv/bin/python -m pytest -n 2 "$@"
