# Vaktpost — two commands on a fresh Debian machine:
#   make run    set up and start the supervisor on the simulated box (http://127.0.0.1:8080)
#   make test   set up and run everything (typecheck, lint, unit, integration, e2e)
#   make bench  every benchmark, one JSON line per figure (also .bench/latest.jsonl)
#   make chaos  the chaos suite in its long form (its short form runs in make test)
#   make deb    dist-deb/vaktpost_<version>_<arch>.deb (ops/deb/README.md)
SHELL := /bin/bash
.DEFAULT_GOAL := help
NPM_STAMP := node_modules/.vaktpost-installed

.PHONY: help deps system-deps node-deps build build-ui run test typecheck lint unit bench chaos clean deb

help:
	@echo "make run    — start Vaktpost on the simulated box (web UI http://127.0.0.1:8080)"
	@echo "make test   — install what tests need, then typecheck, lint and run every test"
	@echo "make bench  — run the benchmarks (JSON lines; .bench/latest.jsonl)"
	@echo "make chaos  — the chaos suite, long form (kills, full disk, hostile clients, clock steps, injected faults)"
	@echo "make deb    — build the Debian package dist-deb/vaktpost_<version>_<arch>.deb (ops/deb/README.md)"

$(NPM_STAMP): package.json package-lock.json
	@command -v node >/dev/null || { echo "vaktpost: Node.js >= 20 is required (apt-get install nodejs npm)"; exit 1; }
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<12)) { console.error("vaktpost: Node >= 20.12 required, found "+process.version); process.exit(1) }'
	# npm install honours the lockfile; npm ci trips over biome's optional platform packages in npm 11.
	npm install --no-audit --no-fund
	@touch $@

node-deps: $(NPM_STAMP)

system-deps:
	@bash ops/install/debian-deps.sh

deps: node-deps system-deps

build: node-deps build-ui
	npx tsc -p tsconfig.build.json
	npx tsc -p flows/tsconfig.json

# The web UI (supervisor/web, Vite + Preact) → dist/web, served by the supervisor.
build-ui: node-deps
	@bash supervisor/web/build.sh

run: node-deps build
	@mkdir -p .run/data
	@echo "Vaktpost (simulated box) → http://127.0.0.1:8080"
	@if [ -f .run/data/initial-admin-password ]; then echo "Log in as admin, password in .run/data/initial-admin-password (logg inn som admin)"; \
	 else echo "An admin password is generated and printed below on first start (passordet vises under)"; fi
	@echo "Inject a fault: see README (curl … /api/sim/fault). Stop with Ctrl-C."
	node dist/supervisor/src/cli/main.js run -c ops/sim/vaktpost.sim.yaml

typecheck: node-deps
	npx tsc --noEmit -p tsconfig.json

lint: node-deps
	npx biome check .
	npx depcruise --config .dependency-cruiser.cjs supervisor hardware flows

test: deps
	@bash test/run-all.sh

bench: deps build
	@bash test/bench/run-all.sh

# The same chaos tests as in `make test`, with VAKTPOST_CHAOS=long (e.g. 50 kills instead of 5).
chaos: deps build
	@bash test/chaos.sh

# The Debian package from a fresh build (production node_modules cached in dist-deb/cache).
deb: build
	@bash ops/deb/build.sh

clean:
	rm -rf dist .run .bench .tap coverage
