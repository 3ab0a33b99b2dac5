# The two commands (DESIGN §3). Each provisions what it needs and skips what is already there.
SHELL := /bin/bash
NODE_MODULES_STAMP := node_modules/.package-lock.json

.PHONY: dev test install tools browser build typecheck clean-data

dev: install tools
	node -r @swc-node/register scripts/dev.ts

test: install tools browser
	npx tsc -p tsconfig.json --noEmit
	npx jest

install: $(NODE_MODULES_STAMP)

# npm 11 runs only the install scripts approved in package.json's allowScripts.
# `npm install`, not `npm ci`: the lockfile cannot list other platforms' optional binaries
# (@swc/core-*, @unrs/resolver-binding-*) when generated against a registry mirror that lacks
# them, and `npm ci` rejects such a lockfile; `npm install` keeps it as it is.
$(NODE_MODULES_STAMP): package.json package-lock.json
	npm install --no-audit --no-fund
	@touch $(NODE_MODULES_STAMP)

tools:
	bash scripts/provision-tools.sh

# Only the test suite needs a browser (the connect page's tests).
browser:
	bash scripts/provision-tools.sh chromium

build: install
	npm run build

typecheck: install
	npx tsc -p tsconfig.json --noEmit

# Removes make dev's persistent data (Postgres when embedded, Temporal's SQLite, MinIO).
clean-data:
	rm -rf .data
