#!/usr/bin/env bash
# Install Greenroom and start the portal on SQLite with the demo catalog (http://127.0.0.1:7007).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
exec .venv/bin/greenroom serve --demo "$@"
