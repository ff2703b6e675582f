#!/usr/bin/env bash
# Builds the local Kubernetes control plane's tools from Go modules (never prebuilt binaries) into
#   ${RALLYFORGE_CACHE:-$HOME/.cache/rallyforge}/<tool>-<version>/bin/
# with the versions pinned in tools/k8s/versions.env. A tool whose cache entry exists is skipped, so
# CI on the same machine reuses what a developer built; a fresh machine builds each tool once.
#
# Usage: tools/k8s/build-tools.sh [etcd|kubernetes|kwok|helm ...]   (default: all)
#        tools/k8s/build-tools.sh --bin-dirs                        (print the bin dirs, build nothing)
#
# Each build happens in a temporary directory inside the cache and is renamed into place only when
# complete, under a per-tool lock: an interrupted or concurrent build never leaves a half-filled entry.
# Builds run under `nice -n 10` with RALLYFORGE_BUILD_JOBS (default 2) parallel compile jobs because
# other work shares this machine's cores.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "${SCRIPT_DIR}/versions.env"

readonly CACHE_DIR="${RALLYFORGE_CACHE:-${HOME}/.cache/rallyforge}"
readonly BUILD_JOBS="${RALLYFORGE_BUILD_JOBS:-2}"
readonly ALL_TOOLS=(etcd kubernetes kwok helm)
readonly STAMP_FILE="BUILD_INFO"

log() { printf '[build-tools] %s\n' "$*" >&2; }
die() { printf '[build-tools] ERROR: %s\n' "$*" >&2; exit 1; }

tool_version() {
  case "$1" in
    etcd) echo "${ETCD_VERSION}" ;;
    kubernetes) echo "${KUBERNETES_VERSION}" ;;
    kwok) echo "${KWOK_VERSION}" ;;
    helm) echo "${HELM_VERSION}" ;;
    *) die "unknown tool '$1'; known tools: ${ALL_TOOLS[*]}" ;;
  esac
}

tool_binaries() {
  case "$1" in
    etcd) echo "etcd" ;;
    kubernetes) echo "kube-apiserver kube-controller-manager kube-scheduler kubectl" ;;
    kwok) echo "kwok" ;;
    helm) echo "helm" ;;
  esac
}

# Files other than binaries that cluster.sh reads from a tool's cache entry.
tool_data_files() {
  case "$1" in
    kwok) echo "stages/node-initialize.yaml rbac/role.yaml" ;;
  esac
}

tool_dir() { echo "${CACHE_DIR}/$1-$(tool_version "$1")"; }

is_built() {
  local dir bin
  dir="$(tool_dir "$1")"
  [[ -f "${dir}/${STAMP_FILE}" ]] || return 1
  for bin in $(tool_binaries "$1"); do
    [[ -x "${dir}/bin/${bin}" ]] || return 1
  done
  for bin in $(tool_data_files "$1"); do
    [[ -f "${dir}/${bin}" ]] || return 1
  done
}

check_go() {
  command -v go >/dev/null || die "go is not on PATH; install Go >= ${GO_MIN_VERSION} (https://go.dev/dl) and retry."
  local have
  have="$(go env GOVERSION)"; have="${have#go}"
  if [[ "$(printf '%s\n%s\n' "${GO_MIN_VERSION}" "${have}" | sort -V | head -n1)" != "${GO_MIN_VERSION}" ]]; then
    die "go ${have} is older than ${GO_MIN_VERSION}, which the pinned modules declare; install a newer Go."
  fi
}

# The go command with the environment every build uses: the installed toolchain only (no toolchain
# downloads), static binaries, no VCS stamping, and nothing inherited from the caller's GOFLAGS.
go_nice() {
  nice -n 10 env GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false go "$@"
}

# Prints the go.mod path of a module version, downloading it into the module cache if needed.
module_gomod() {
  go_nice mod download -json "$1" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p'
}

# Prints the source directory of a module version in the module cache, downloading it if needed.
module_dir() {
  go_nice mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

# Prints the release time of a module version (used as the reproducible build date).
module_time() {
  go_nice list -m -json "$1" | sed -n 's/^[[:space:]]*"Time": "\(.*\)",\{0,1\}$/\1/p' | head -n1
}

# Writes the go and godebug directives of a dependency's go.mod, so the wrapper module (whose own
# directives decide the language version and GODEBUG defaults) builds the program as upstream does.
copy_go_directives() {
  awk '
    /^go [0-9]/ { print; next }
    /^godebug \(/ { inblock = 1; print; next }
    inblock { print; if ($0 ~ /^\)/) inblock = 0; next }
    /^godebug / { print }
  ' "$1"
}

build_etcd() {
  local work="$1" version="$2" gomod
  gomod="$(module_gomod "go.etcd.io/etcd/server/v3@${version}")"
  [[ -n "${gomod}" ]] || die "could not download go.etcd.io/etcd/server/v3@${version}; check the Go module proxy."
  mkdir -p "${work}/src"
  # etcd's own go.mod has replace directives, so `go install ...@version` refuses it. As a dependency
  # of this wrapper its replace lines are ignored and its requirements resolve from the proxy.
  {
    echo "module rallyforge.local/build/etcd"
    echo
    copy_go_directives "${gomod}"
    echo
    echo "require go.etcd.io/etcd/server/v3 ${version}"
  } >"${work}/src/go.mod"
  (cd "${work}/src" && go_nice build -mod=mod -p "${BUILD_JOBS}" -trimpath \
    -ldflags "-s -w" -o "${work}/bin/etcd" go.etcd.io/etcd/server/v3)
}

build_kubernetes() {
  local work="$1" version="$2" gomod staging minor build_date ldflags pkg
  gomod="$(module_gomod "k8s.io/kubernetes@${version}")"
  [[ -n "${gomod}" ]] || die "could not download k8s.io/kubernetes@${version}; check the Go module proxy."
  # k8s.io/kubernetes points its staging modules at ./staging/src/...; every one of them is published
  # on its own as v0.<minor>.<patch>, which is what this wrapper points them at instead.
  staging="v0.${version#v1.}"
  minor="${version#v1.}"; minor="${minor%%.*}"
  build_date="$(module_time "k8s.io/kubernetes@${version}")"
  mkdir -p "${work}/src"
  {
    echo "module rallyforge.local/build/kubernetes"
    echo
    copy_go_directives "${gomod}"
    echo
    echo "require k8s.io/kubernetes ${version}"
    echo
    echo "replace ("
    awk -v v="${staging}" '$2 == "=>" && $3 ~ /^\.\/staging\// { printf "\t%s => %s %s\n", $1, $1, v }' "${gomod}"
    echo ")"
  } >"${work}/src/go.mod"
  grep -q '=> k8s.io/api ' "${work}/src/go.mod" || die "found no staging replace directives in ${gomod}; has the layout of k8s.io/kubernetes changed?"
  # The same version stamps hack/lib/version.sh sets, so `--version`, /version and `kubectl version`
  # report the release. The commit is unknown from a module zip and stays empty.
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X ${pkg}.gitVersion=${version} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor}"
    ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=${build_date}"
  done
  (cd "${work}/src" && go_nice build -mod=mod -p "${BUILD_JOBS}" -trimpath -ldflags "${ldflags}" \
    -o "${work}/bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubectl)
}

build_kwok() {
  local work="$1" version="$2" src stage
  GOBIN="${work}/bin" go_nice install -p "${BUILD_JOBS}" -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${version#v}" \
    "sigs.k8s.io/kwok/cmd/kwok@${version}"
  # The kwok binary needs Stage definitions (kwokctl embeds them); keep the release's own defaults next
  # to the binary so cluster.sh does not depend on the Go module cache still holding the source.
  src="$(module_dir "sigs.k8s.io/kwok@${version}")"
  mkdir -p "${work}/stages"
  for stage in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
    pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
    [[ -f "${src}/kustomize/stage/${stage}.yaml" ]] || die "kwok ${version} has no stage ${stage}.yaml; update the stage list in build_kwok."
    cp "${src}/kustomize/stage/${stage}.yaml" "${work}/stages/"
  done
  # And the release's least-privilege ClusterRole for the kwok controller.
  mkdir -p "${work}/rbac"
  cp "${src}/kustomize/rbac/role.yaml" "${work}/rbac/" || die "kwok ${version} has no kustomize/rbac/role.yaml."
}

build_helm() {
  local work="$1" version="$2" gomod client_go minor ldflags
  gomod="$(module_gomod "helm.sh/helm/v3@${version}")"
  [[ -n "${gomod}" ]] || die "could not download helm.sh/helm/v3@${version}; check the Go module proxy."
  # Helm's Makefile stamps the Kubernetes version it was built against (else `helm template` assumes
  # v1.20 for .Capabilities.KubeVersion); derive it from its k8s.io/client-go requirement.
  client_go="$(awk '$1 == "k8s.io/client-go" && $2 ~ /^v0\./ { print $2; exit }' "${gomod}")"
  minor="${client_go#v0.}"; minor="${minor%%.*}"
  [[ -n "${minor}" ]] || die "could not find the k8s.io/client-go requirement in ${gomod}."
  ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=${version}"
  ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${minor}"
  ldflags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${minor}"
  GOBIN="${work}/bin" go_nice install -p "${BUILD_JOBS}" -trimpath -ldflags "${ldflags}" \
    "helm.sh/helm/v3/cmd/helm@${version}"
}

build_tool() {
  local tool="$1" version dir lock work started elapsed
  version="$(tool_version "${tool}")"
  dir="$(tool_dir "${tool}")"
  if is_built "${tool}"; then
    log "${tool} ${version}: cached in ${dir}"
    return 0
  fi
  mkdir -p "${CACHE_DIR}/.locks"
  lock="${CACHE_DIR}/.locks/${tool}-${version}.lock"
  exec {lock_fd}>"${lock}"
  if ! flock -n "${lock_fd}"; then
    log "${tool} ${version}: another build holds ${lock}; waiting for it"
    flock "${lock_fd}"
  fi
  if is_built "${tool}"; then
    log "${tool} ${version}: built by a concurrent run, cached in ${dir}"
    exec {lock_fd}>&-
    return 0
  fi
  # Holding the lock, any leftover temp dir of this tool is from a killed build: remove it. An entry
  # without its stamp (hand-edited, or from an older layout) is replaced as a whole.
  rm -rf "${CACHE_DIR}/.build-${tool}-${version}."*
  [[ -e "${dir}" ]] && rm -rf "${dir}"
  work="$(mktemp -d "${CACHE_DIR}/.build-${tool}-${version}.XXXXXX")"
  CLEANUP_DIRS+=("${work}")
  mkdir -p "${work}/bin"
  log "${tool} ${version}: building from Go modules (nice 10, -p ${BUILD_JOBS}) ..."
  started="$(date +%s)"
  "build_${tool}" "${work}" "${version}" || die "${tool} ${version} failed to build (output above). Retry with: bash tools/k8s/build-tools.sh ${tool}"
  elapsed="$(( $(date +%s) - started ))"
  {
    echo "tool=${tool}"
    echo "version=${version}"
    echo "go=$(go env GOVERSION)"
    echo "built_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "build_seconds=${elapsed}"
  } >"${work}/${STAMP_FILE}"
  rm -rf "${work}/src"
  chmod -R a+rX "${work}"
  mv -T "${work}" "${dir}"
  exec {lock_fd}>&-
  log "${tool} ${version}: built in ${elapsed}s -> ${dir}/bin"
}

CLEANUP_DIRS=()
cleanup() {
  local d
  for d in "${CLEANUP_DIRS[@]}"; do
    # After a successful rename the temp dir no longer exists; otherwise drop the partial build.
    [[ -d "${d}" ]] && rm -rf "${d}"
  done
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

main() {
  local tools=() tool
  if [[ "${1:-}" == "--bin-dirs" ]]; then
    for tool in "${ALL_TOOLS[@]}"; do echo "$(tool_dir "${tool}")/bin"; done
    return 0
  fi
  if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    return 0
  fi
  if [[ $# -gt 0 ]]; then tools=("$@"); else tools=("${ALL_TOOLS[@]}"); fi
  for tool in "${tools[@]}"; do tool_version "${tool}" >/dev/null; done
  local missing=0
  for tool in "${tools[@]}"; do is_built "${tool}" || missing=1; done
  [[ "${missing}" == 0 ]] || check_go
  mkdir -p "${CACHE_DIR}"
  local started; started="$(date +%s)"
  for tool in "${tools[@]}"; do build_tool "${tool}"; done
  log "all requested tools ready in $(( $(date +%s) - started ))s (cache: ${CACHE_DIR})"
}

main "$@"
