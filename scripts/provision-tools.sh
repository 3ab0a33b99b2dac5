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

# How many packages building $1 (pkg@version) involves, from `go list -deps` inside the module's
# downloaded source; prints nothing when that cannot be worked out (the count then has no total).
# The package may sit below its module's root (temporal's is .../cli/cmd/temporal), so the module
# is found by trimming path elements until `go mod download` knows it.
package_total() {
  local pkg="${1%@*}" version="${1##*@}" mod dir
  mod="$pkg"
  while [ -n "$mod" ]; do
    dir="$(go mod download -json "$mod@$version" 2>/dev/null | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')" || true
    if [ -n "$dir" ]; then
      (cd "$dir" && go list -deps "$pkg" 2>/dev/null | wc -l | tr -d ' ') || true
      return 0
    fi
    case "$mod" in */*) mod="${mod%/*}" ;; *) mod="" ;; esac
  done
}

# Reads `go install -v` output: counts the package lines (one per package compiled), reports every
# 50th, keeps the count in $1 for the heartbeat, and passes everything else (errors) through.
count_packages() {
  local state="$1" total="$2" count=0 line
  while IFS= read -r line; do
    case "$line" in
      "go: downloading "*) printf '%s\n' "$count ${line#go: downloading }" >"$state" ;;
      *" "* | "#"* | "") printf '%s\n' "$line" >&2 ;;
      *)
        count=$((count + 1))
        printf '%s\n' "$count $line" >"$state"
        if [ $((count % 50)) -eq 0 ]; then say "  built $count${total:+ of ~$total} packages (now $line)"; fi
        ;;
    esac
  done
  say "  built $count${total:+ of ~$total} packages"
}

go_install() {
  local module="$1"
  if ! command -v go >/dev/null 2>&1; then
    say "ERROR: Go is needed to build $module (no prebuilt binary can be downloaded here). Install Go >= 1.24." >&2
    return 1
  fi
  say "building $module into $TOOLS_DIR (first run only; takes several minutes)"
  local state started heartbeat total status=0
  state="$(mktemp)"
  started="$(date +%s)"
  printf '0 resolving modules\n' >"$state"
  # A line at least every 10 s, so a long build never looks hung.
  (
    while sleep 10; do
      read -r done_count current <"$state" || true
      say "  … $module: ${done_count:-0} packages built after $(($(date +%s) - started)) s (${current:-working})"
    done
  ) &
  heartbeat=$!
  export GOFLAGS="${GOFLAGS:--buildvcs=false}"
  say "  downloading the module graph to count its packages"
  total="$(package_total "$module")"
  [ -n "$total" ] && say "  $total packages to build (fewer if some are in Go's build cache)"
  GOBIN="$TOOLS_DIR" go install -v "$module" 2>&1 | count_packages "$state" "$total" || status=$?
  kill "$heartbeat" 2>/dev/null || true
  wait "$heartbeat" 2>/dev/null || true
  rm -f "$state"
  say "  $module: $([ "$status" -eq 0 ] && echo done || echo "failed (exit $status)") after $(($(date +%s) - started)) s"
  return "$status"
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
