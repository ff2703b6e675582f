# Shared by the tools/bin entry points.
export NX_DAEMON=false NX_TUI=false NX_NO_CLOUD=true
# Installs npm dependencies when node_modules is missing or older than the lockfile.
ensure_node_modules() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "[setup] installing npm dependencies (npm ci)…" >&2
    npm ci --no-audit --no-fund --loglevel=error >&2
  fi
}
