#!/usr/bin/env bash
# Provisions the Temporal CLI (dev server + UI) and the MinIO server into a tool cache outside
# the checkout, so that fresh clones (CI) reuse them. Each step is skipped when already satisfied.
# Order of preference (DESIGN §3):
#   Temporal: TEMPORAL_ADDRESS set -> `temporal` on PATH -> cached build -> go install
#   MinIO:    S3_ENDPOINT set      -> `minio` on PATH    -> cached build -> go install
set -euo pipefail

TOOLS_DIR="${IMMOFLOW_TOOLS_DIR:-$HOME/.cache/immoflow/tools}"
TEMPORAL_MODULE="github.com/temporalio/cli/cmd/temporal@v1.5.1"
# The last community MinIO release (DESIGN §3) is no longer served by the Go module proxy
# ("403 Forbidden: This module version is not available", seen 2026-11-23). The newest
# pseudo-version the proxy lists is the fallback.
MINIO_MODULES=(
  "github.com/minio/minio@v0.0.0-20251015172955-9e49d5e7a648"
  "github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
)
mkdir -p "$TOOLS_DIR"

say() { printf '[provision] %s\n' "$*"; }

go_install() {
  local module="$1"
  if ! command -v go >/dev/null 2>&1; then
    say "ERROR: Go is needed to build $module (no prebuilt binary can be downloaded here). Install Go >= 1.24." >&2
    return 1
  fi
  say "building $module into $TOOLS_DIR (first run only; takes several minutes)"
  GOBIN="$TOOLS_DIR" GOFLAGS="${GOFLAGS:--buildvcs=false}" go install "$module"
}

provision_temporal() {
  if [ -n "${TEMPORAL_ADDRESS:-}" ]; then say "temporal: using running server at TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS"; return; fi
  if command -v temporal >/dev/null 2>&1; then say "temporal: on PATH ($(command -v temporal))"; return; fi
  if [ -x "$TOOLS_DIR/temporal" ]; then say "temporal: cached build ($TOOLS_DIR/temporal)"; return; fi
  go_install "$TEMPORAL_MODULE"
  say "temporal: built with go install ($TOOLS_DIR/temporal)"
}

provision_minio() {
  if [ -n "${S3_ENDPOINT:-}" ]; then say "minio: using running S3 at S3_ENDPOINT=$S3_ENDPOINT"; return; fi
  if command -v minio >/dev/null 2>&1; then say "minio: on PATH ($(command -v minio))"; return; fi
  if [ -x "$TOOLS_DIR/minio" ]; then say "minio: cached build ($TOOLS_DIR/minio)"; return; fi
  local module
  for module in "${MINIO_MODULES[@]}"; do
    if go_install "$module"; then say "minio: built with go install ($TOOLS_DIR/minio from $module)"; return; fi
    say "minio: $module could not be built; trying the next fallback"
  done
  say "ERROR: no MinIO build succeeded; set S3_ENDPOINT to a running S3-compatible server." >&2
  return 1
}

# Headless Chromium for the connect page's browser tests (playwright-core drives it; Playwright's
# own browser download is never used). Debian's package, installed only when missing.
provision_chromium() {
  local path="${CHROMIUM_PATH:-/usr/bin/chromium}"
  if [ -x "$path" ]; then say "chromium: $path"; return; fi
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    say "chromium: installing Debian's chromium package (first run only)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    say "chromium: installed ($path)"
    return
  fi
  say "ERROR: Chromium is needed for the browser tests: install it (apt-get install chromium) or set CHROMIUM_PATH." >&2
  return 1
}

case "${1:-all}" in
  temporal) provision_temporal ;;
  minio) provision_minio ;;
  chromium) provision_chromium ;;
  all) provision_temporal; provision_minio ;;
  *) echo "usage: $0 [temporal|minio|chromium|all]" >&2; exit 2 ;;
esac
