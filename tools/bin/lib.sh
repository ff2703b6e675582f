# Shared by the tools/bin entry points.
export NX_DAEMON=false NX_TUI=false NX_NO_CLOUD=true
# Installs npm dependencies when node_modules is missing or older than the lockfile.
ensure_node_modules() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    # `npm install`, not `npm ci`: npm 11 writes lockfiles without the optional platform binaries of @swc/core
    # and friends, and then its own `npm ci` refuses them as out of sync. The lockfile still pins every version.
    echo "[setup] installing npm dependencies…" >&2
    npm install --no-audit --no-fund --loglevel=error >&2
  fi
}
# The tools import the workspace libraries (@rallyforge/contracts, bus, service-kit) from their built dist/:
# build them first (Nx-cached, a no-op when nothing changed), or a fresh clone cannot even load up.ts.
build_libs() {
  npx nx run-many -t build --projects='tag:type:lib' --output-style=static >/dev/null || {
    echo "[setup] building the workspace libraries failed; run: npx nx run-many -t build --projects=tag:type:lib" >&2
    return 1
  }
}
