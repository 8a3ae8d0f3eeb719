#!/usr/bin/env bash
# Type-checks and builds the web UI into dist/web (served by the supervisor).
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p supervisor/web/tsconfig.json
npx vite build --config supervisor/web/vite.config.ts --logLevel warn
test -f dist/web/index.html || { echo "vaktpost: UI build produced no dist/web/index.html" >&2; exit 1; }
echo "web UI built into dist/web"
