#!/usr/bin/env bash
# A real local Kubernetes control plane built from Go modules: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok (fake nodes whose pods report Running and Ready).
# No containers, no kubelet. See docs/runbooks/local-control-plane.md.
#
# Usage: tools/k8s/cluster.sh up            build tools if needed, start everything, wait until ready
#        tools/k8s/cluster.sh down [--purge] stop everything (--purge also deletes all state and PKI)
#        tools/k8s/cluster.sh env           print `export KUBECONFIG=...` and `export PATH=...` lines
#        tools/k8s/cluster.sh status        show each component; exit 0 only when all are running
#
# State (PKI, etcd data, kubeconfigs, pids, logs) lives in .rallyforge/k8s/ at the repository root
# (RALLYFORGE_K8S_DIR overrides it). Ports can be moved with the RALLYFORGE_K8S_*_PORT variables below.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/../.." && pwd)"
# shellcheck source=versions.env
source "${SCRIPT_DIR}/versions.env"

readonly STATE_DIR="${RALLYFORGE_K8S_DIR:-${REPO_ROOT}/.rallyforge/k8s}"
readonly PKI_DIR="${STATE_DIR}/pki"
readonly LOG_DIR="${STATE_DIR}/logs"
readonly RUN_DIR="${STATE_DIR}/run"
readonly ETCD_DATA_DIR="${STATE_DIR}/etcd"
readonly CONFIG_DIR="${STATE_DIR}/config"
readonly ADMIN_KUBECONFIG="${STATE_DIR}/kubeconfig"
readonly CACHE_DIR="${RALLYFORGE_CACHE:-${HOME}/.cache/rallyforge}"

readonly ETCD_CLIENT_PORT="${RALLYFORGE_K8S_ETCD_PORT:-12379}"
readonly ETCD_PEER_PORT="${RALLYFORGE_K8S_ETCD_PEER_PORT:-12380}"
readonly APISERVER_PORT="${RALLYFORGE_K8S_APISERVER_PORT:-16443}"
readonly CONTROLLER_MANAGER_PORT="${RALLYFORGE_K8S_CONTROLLER_MANAGER_PORT:-17257}"
readonly SCHEDULER_PORT="${RALLYFORGE_K8S_SCHEDULER_PORT:-17259}"
readonly KWOK_PORT="${RALLYFORGE_K8S_KWOK_PORT:-17247}"

readonly CLUSTER_NAME="rallyforge-local"
readonly SERVICE_CIDR="10.96.0.0/16"
readonly KUBERNETES_SERVICE_IP="10.96.0.1"
readonly POD_CIDR="10.244.0.0/16"
readonly SERVICE_ACCOUNT_ISSUER="https://kubernetes.default.svc.cluster.local"
readonly KWOK_NODE_ANNOTATION="kwok.x-k8s.io/node=fake"
readonly NODE_ZONES=(a b c)
# Leaf certificates are renewed on `up` when they expire within this many seconds (7 days).
readonly CERT_RENEW_WITHIN_SECONDS=604800

readonly LOG_ROTATE_BYTES=$(( 20 * 1024 * 1024 ))

# Start order; `down` stops the apiserver's clients first, then the apiserver, then etcd.
readonly COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

readonly ETCD_BIN="${CACHE_DIR}/etcd-${ETCD_VERSION}/bin/etcd"
readonly KUBE_BIN_DIR="${CACHE_DIR}/kubernetes-${KUBERNETES_VERSION}/bin"
readonly KWOK_DIR="${CACHE_DIR}/kwok-${KWOK_VERSION}"
readonly HELM_BIN_DIR="${CACHE_DIR}/helm-${HELM_VERSION}/bin"
readonly KUBECTL="${KUBE_BIN_DIR}/kubectl"

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------------
# Processes

component_bin() {
  case "$1" in
    etcd) echo "${ETCD_BIN}" ;;
    kube-apiserver | kube-controller-manager | kube-scheduler) echo "${KUBE_BIN_DIR}/$1" ;;
    kwok) echo "${KWOK_DIR}/bin/kwok" ;;
  esac
}

component_port() {
  case "$1" in
    etcd) echo "${ETCD_CLIENT_PORT}" ;;
    kube-apiserver) echo "${APISERVER_PORT}" ;;
    kube-controller-manager) echo "${CONTROLLER_MANAGER_PORT}" ;;
    kube-scheduler) echo "${SCHEDULER_PORT}" ;;
    kwok) echo "${KWOK_PORT}" ;;
  esac
}

pid_file() { echo "${RUN_DIR}/$1.pid"; }

# Prints the pid of a component started from this state dir, if it is still alive. A pid file whose
# process is gone or is now some other program (pid reuse after a crash or reboot) is stale.
component_pid() {
  local file pid
  file="$(pid_file "$1")"
  [[ -f "${file}" ]] || return 1
  pid="$(<"${file}")"
  if [[ "${pid}" =~ ^[0-9]+$ ]] && kill -0 "${pid}" 2>/dev/null \
    && tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -qF -- "${STATE_DIR}/"; then
    echo "${pid}"
    return 0
  fi
  return 1
}

clean_stale_pid() {
  local file
  file="$(pid_file "$1")"
  if [[ -f "${file}" ]] && ! component_pid "$1" >/dev/null; then
    log "$1: removing stale pid file (process $(<"${file}") is gone)"
    rm -f "${file}"
  fi
}

# Prints who listens on a TCP port of 127.0.0.1, or nothing when it is free.
port_owner() {
  ss -Hltnp "sport = :$1" 2>/dev/null | head -n1
}

ensure_port_free() {
  local name="$1" port owner
  for port in "${@:2}"; do
    owner="$(port_owner "${port}")"
    [[ -z "${owner}" ]] || die "${name} cannot start: port ${port} is already in use (${owner}). Stop that process, or if it is a leftover of this cluster run 'bash tools/k8s/cluster.sh down' / kill it by pid, or move the port with the RALLYFORGE_K8S_*_PORT variables."
  done
}

# Starts a program detached (own session, no terminal, stdin closed) so that neither a Ctrl-C in the
# caller's terminal nor a test runner killing its process group stops the cluster.
start_detached() {
  local name="$1" log_file; shift
  log_file="${LOG_DIR}/${name}.log"
  # Logs append across restarts; keep one previous generation once they grow past the limit.
  if [[ -f "${log_file}" ]] && (( $(stat -c %s "${log_file}") > LOG_ROTATE_BYTES )); then
    mv -f "${log_file}" "${log_file}.1"
  fi
  printf '\n===== %s starting %s =====\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${name}" >>"${LOG_DIR}/${name}.log"
  # The lock fd must not leak into the daemon, or the daemon would hold cluster.sh's lock forever.
  setsid "$@" </dev/null >>"${LOG_DIR}/${name}.log" 2>&1 {lock_fd}>&- &
  echo "$!" >"$(pid_file "${name}")"
}

# Stops the given components together (SIGTERM, SIGKILL after 20s): each takes ~2s to shut down
# gracefully, so stopping independent ones in parallel keeps `down` short.
stop_components() {
  local name pid waited=0 names=() pids=()
  for name in "$@"; do
    if pid="$(component_pid "${name}")"; then
      kill -TERM "${pid}" 2>/dev/null || true
      names+=("${name}")
      pids+=("${pid}")
    else
      rm -f "$(pid_file "${name}")"
    fi
  done
  local i alive=1
  while (( alive )); do
    alive=0
    for i in "${!pids[@]}"; do kill -0 "${pids[i]}" 2>/dev/null && alive=1; done
    (( alive )) || break
    if (( waited >= 200 )); then
      for i in "${!pids[@]}"; do
        if kill -0 "${pids[i]}" 2>/dev/null; then
          log "${names[i]}: still running 20s after SIGTERM; sending SIGKILL to ${pids[i]}"
          kill -KILL "${pids[i]}" 2>/dev/null || true
        fi
      done
      break
    fi
    sleep 0.1
    waited=$(( waited + 1 ))
  done
  for i in "${!pids[@]}"; do
    rm -f "$(pid_file "${names[i]}")"
    log "${names[i]}: stopped (pid ${pids[i]})"
  done
}

# Polls a command until it succeeds; on timeout shows the component's log tail and exits.
wait_until() {
  local name="$1" timeout="$2" deadline; shift 2
  deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    if ! component_pid "${name}" >/dev/null; then
      tail -n 40 "${LOG_DIR}/${name}.log" >&2 || true
      die "${name} exited while starting; its log is above and in ${LOG_DIR}/${name}.log"
    fi
    if (( $(date +%s) >= deadline )); then
      tail -n 40 "${LOG_DIR}/${name}.log" >&2 || true
      die "${name} did not become healthy within ${timeout}s; its log is above and in ${LOG_DIR}/${name}.log"
    fi
    sleep 0.25
  done
}

# Health endpoints. The apiserver is asked with the admin identity; the others allow anonymous
# /healthz (their default --authorization-always-allow-paths).
etcd_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:${ETCD_CLIENT_PORT}/health" | grep -q '"health":"true"'; }
apiserver_ready() {
  curl -fsS --max-time 3 --cacert "${PKI_DIR}/ca.crt" --cert "${PKI_DIR}/admin.crt" --key "${PKI_DIR}/admin.key" \
    "https://127.0.0.1:${APISERVER_PORT}/readyz" | grep -qx ok
}
https_healthy() { curl -fsS --max-time 2 --cacert "${PKI_DIR}/ca.crt" "https://127.0.0.1:$1/healthz" | grep -qx ok; }

# ---------------------------------------------------------------------------------------------------
# PKI: one CA signs every serving and client certificate; a separate RSA key pair signs service
# account tokens. Generated once and kept, so kubeconfigs handed out stay valid across restarts.

openssl_quiet() { openssl "$@" 2>/dev/null; }

# ensure_ca <name> <common name>
ensure_ca() {
  local name="$1" cn="$2"
  [[ -f "${PKI_DIR}/${name}.crt" && -f "${PKI_DIR}/${name}.key" ]] && return 0
  log "generating CA ${name} in ${PKI_DIR}"
  openssl_quiet genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "${PKI_DIR}/${name}.key"
  openssl_quiet req -x509 -new -key "${PKI_DIR}/${name}.key" -sha256 -days 3650 -subj "/CN=${cn}" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out "${PKI_DIR}/${name}.crt"
}

# issue_cert <name> <subject> <extendedKeyUsage> [subjectAltName] [issuing CA name]
issue_cert() {
  local name="$1" subject="$2" eku="$3" san="${4:-}" ca="${5:-ca}" ext
  local crt="${PKI_DIR}/${name}.crt" key="${PKI_DIR}/${name}.key"
  # Kept while it is still valid for a while and was signed by the current CA (a regenerated CA
  # invalidates everything it signed before).
  if [[ -f "${crt}" && -f "${key}" ]] \
    && openssl x509 -checkend "${CERT_RENEW_WITHIN_SECONDS}" -noout -in "${crt}" >/dev/null 2>&1 \
    && openssl verify -CAfile "${PKI_DIR}/${ca}.crt" "${crt}" >/dev/null 2>&1; then
    return 0
  fi
  log "issuing certificate ${name} (${subject})"
  [[ -f "${key}" ]] || openssl_quiet genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "${key}"
  ext="basicConstraints=critical,CA:FALSE"$'\n'"keyUsage=critical,digitalSignature,keyEncipherment"$'\n'"extendedKeyUsage=${eku}"
  [[ -z "${san}" ]] || ext+=$'\n'"subjectAltName=${san}"
  openssl_quiet req -new -key "${key}" -subj "${subject}" \
    | openssl_quiet x509 -req -CA "${PKI_DIR}/${ca}.crt" -CAkey "${PKI_DIR}/${ca}.key" -set_serial "0x$(openssl rand -hex 16)" \
      -sha256 -days 825 -extfile <(printf '%s\n' "${ext}") -out "${crt}"
}

ensure_pki() {
  mkdir -p "${PKI_DIR}"
  chmod 700 "${PKI_DIR}"
  ensure_ca ca "${CLUSTER_NAME}-ca"
  # The aggregation layer's CA: the apiserver proves itself to extension apiservers with
  # front-proxy-client, and publishes this CA so that controllers can verify proxied requests.
  ensure_ca front-proxy-ca "${CLUSTER_NAME}-front-proxy-ca"
  issue_cert front-proxy-client "/CN=front-proxy-client" clientAuth "" front-proxy-ca
  issue_cert kube-apiserver "/CN=kube-apiserver" serverAuth \
    "IP:127.0.0.1,IP:${KUBERNETES_SERVICE_IP},DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  issue_cert kube-apiserver-kubelet-client "/CN=kube-apiserver-kubelet-client" clientAuth
  # system:masters bypasses RBAC: the admin kubeconfig is the cluster's break-glass identity.
  issue_cert admin "/O=system:masters/CN=rallyforge-admin" clientAuth
  issue_cert kube-controller-manager "/CN=system:kube-controller-manager" clientAuth
  issue_cert kube-scheduler "/CN=system:kube-scheduler" clientAuth
  issue_cert kube-controller-manager-serving "/CN=kube-controller-manager" serverAuth "IP:127.0.0.1,DNS:localhost"
  issue_cert kube-scheduler-serving "/CN=kube-scheduler" serverAuth "IP:127.0.0.1,DNS:localhost"
  # kwok authenticates as kwok-controller (bound to kwok's own ClusterRole) and serves the fake
  # kubelet endpoint (logs/exec) on 127.0.0.1 with the same certificate.
  issue_cert kwok "/CN=kwok-controller" "clientAuth,serverAuth" "IP:127.0.0.1,DNS:localhost"
  if [[ ! -f "${PKI_DIR}/sa.key" || ! -f "${PKI_DIR}/sa.pub" ]]; then
    log "generating the service account signing key pair"
    openssl_quiet genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "${PKI_DIR}/sa.key"
    openssl_quiet pkey -in "${PKI_DIR}/sa.key" -pubout -out "${PKI_DIR}/sa.pub"
  fi
  chmod 600 "${PKI_DIR}"/*.key
}

# write_kubeconfig <file> <user> <cert name>: certificates embedded, so the file works on its own.
write_kubeconfig() {
  local file="$1" user="$2" cert="$3" tmp
  tmp="$(mktemp "${file}.XXXXXX")"
  cat >"${tmp}" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ${CLUSTER_NAME}
  cluster:
    server: https://127.0.0.1:${APISERVER_PORT}
    certificate-authority-data: $(base64 -w0 <"${PKI_DIR}/ca.crt")
users:
- name: ${user}
  user:
    client-certificate-data: $(base64 -w0 <"${PKI_DIR}/${cert}.crt")
    client-key-data: $(base64 -w0 <"${PKI_DIR}/${cert}.key")
contexts:
- name: ${CLUSTER_NAME}
  context:
    cluster: ${CLUSTER_NAME}
    user: ${user}
current-context: ${CLUSTER_NAME}
EOF
  chmod 600 "${tmp}"
  mv -f "${tmp}" "${file}"
}

ensure_kubeconfigs() {
  mkdir -p "${CONFIG_DIR}"
  write_kubeconfig "${ADMIN_KUBECONFIG}" rallyforge-admin admin
  write_kubeconfig "${CONFIG_DIR}/kube-controller-manager.kubeconfig" system:kube-controller-manager kube-controller-manager
  write_kubeconfig "${CONFIG_DIR}/kube-scheduler.kubeconfig" system:kube-scheduler kube-scheduler
  write_kubeconfig "${CONFIG_DIR}/kwok.kubeconfig" kwok-controller kwok
}

# kwok's configuration: the release's default Stages (node initialise + lease heartbeat, pod ready,
# complete, delete), the same set kwokctl uses.
ensure_kwok_config() {
  local stage first=1
  {
    for stage in node-initialize node-heartbeat-with-lease pod-ready pod-complete pod-delete; do
      [[ "${first}" == 1 ]] || echo "---"
      first=0
      cat "${KWOK_DIR}/stages/${stage}.yaml"
    done
  } >"${CONFIG_DIR}/kwok.yaml"
}

# ---------------------------------------------------------------------------------------------------
# Components

start_etcd() {
  ensure_port_free etcd "${ETCD_CLIENT_PORT}" "${ETCD_PEER_PORT}"
  # Loopback only and plain HTTP, like Kubernetes' own local-up-cluster. No fsync: this is throwaway
  # local state, and fsync latency on shared disks makes the apiserver crawl.
  start_detached etcd "${ETCD_BIN}" \
    --name="${CLUSTER_NAME}" \
    --data-dir="${ETCD_DATA_DIR}" \
    --listen-client-urls="http://127.0.0.1:${ETCD_CLIENT_PORT}" \
    --advertise-client-urls="http://127.0.0.1:${ETCD_CLIENT_PORT}" \
    --listen-peer-urls="http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-advertise-peer-urls="http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-cluster="${CLUSTER_NAME}=http://127.0.0.1:${ETCD_PEER_PORT}" \
    --unsafe-no-fsync=true \
    --log-level=warn
  wait_until etcd 30 etcd_healthy
}

start_kube_apiserver() {
  ensure_port_free kube-apiserver "${APISERVER_PORT}"
  # Admission: the plugins a real cluster runs (these are also on by default) plus NodeRestriction,
  # which kubeadm adds. ServiceAccount admission needs each namespace's `default` ServiceAccount,
  # which kube-controller-manager's serviceaccount controller creates; tokens come from the
  # TokenRequest API signed with sa.key.
  start_detached kube-apiserver "${KUBE_BIN_DIR}/kube-apiserver" \
    --advertise-address=127.0.0.1 \
    --bind-address=127.0.0.1 \
    --secure-port="${APISERVER_PORT}" \
    --etcd-servers="http://127.0.0.1:${ETCD_CLIENT_PORT}" \
    --tls-cert-file="${PKI_DIR}/kube-apiserver.crt" \
    --tls-private-key-file="${PKI_DIR}/kube-apiserver.key" \
    --client-ca-file="${PKI_DIR}/ca.crt" \
    --kubelet-client-certificate="${PKI_DIR}/kube-apiserver-kubelet-client.crt" \
    --kubelet-client-key="${PKI_DIR}/kube-apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="${PKI_DIR}/ca.crt" \
    --requestheader-client-ca-file="${PKI_DIR}/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="${PKI_DIR}/front-proxy-client.crt" \
    --proxy-client-key-file="${PKI_DIR}/front-proxy-client.key" \
    --authorization-mode=Node,RBAC \
    --enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultStorageClass,DefaultTolerationSeconds,Priority,PodSecurity,ResourceQuota,NodeRestriction,MutatingAdmissionWebhook,ValidatingAdmissionWebhook \
    --service-account-issuer="${SERVICE_ACCOUNT_ISSUER}" \
    --service-account-key-file="${PKI_DIR}/sa.pub" \
    --service-account-signing-key-file="${PKI_DIR}/sa.key" \
    --service-cluster-ip-range="${SERVICE_CIDR}" \
    --endpoint-reconciler-type=none \
    --allow-privileged=true \
    --profiling=false
  wait_until kube-apiserver 120 apiserver_ready
}

start_kube_controller_manager() {
  ensure_port_free kube-controller-manager "${CONTROLLER_MANAGER_PORT}"
  local kubeconfig="${CONFIG_DIR}/kube-controller-manager.kubeconfig"
  # '*' is every default controller (garbage collector, namespace, deployment, replicaset, statefulset,
  # daemonset, job, cronjob, serviceaccount, serviceaccount-token, resourcequota,
  # horizontalpodautoscaling, disruption, endpoints/endpointslice, node lifecycle, csr signing, ...).
  # One instance only, so no leader election: a restart after a crash need not wait for a lease.
  start_detached kube-controller-manager "${KUBE_BIN_DIR}/kube-controller-manager" \
    --kubeconfig="${kubeconfig}" \
    --authentication-kubeconfig="${kubeconfig}" \
    --authorization-kubeconfig="${kubeconfig}" \
    --bind-address=127.0.0.1 \
    --secure-port="${CONTROLLER_MANAGER_PORT}" \
    --tls-cert-file="${PKI_DIR}/kube-controller-manager-serving.crt" \
    --tls-private-key-file="${PKI_DIR}/kube-controller-manager-serving.key" \
    --leader-elect=false \
    --controllers='*,bootstrap-signer-controller,token-cleaner-controller' \
    --use-service-account-credentials=true \
    --service-account-private-key-file="${PKI_DIR}/sa.key" \
    --root-ca-file="${PKI_DIR}/ca.crt" \
    --cluster-signing-cert-file="${PKI_DIR}/ca.crt" \
    --cluster-signing-key-file="${PKI_DIR}/ca.key" \
    --cluster-name="${CLUSTER_NAME}" \
    --service-cluster-ip-range="${SERVICE_CIDR}" \
    --allocate-node-cidrs=false \
    --flex-volume-plugin-dir="${STATE_DIR}/flexvolume" \
    --profiling=false
  wait_until kube-controller-manager 60 https_healthy "${CONTROLLER_MANAGER_PORT}"
}

start_kube_scheduler() {
  ensure_port_free kube-scheduler "${SCHEDULER_PORT}"
  local kubeconfig="${CONFIG_DIR}/kube-scheduler.kubeconfig"
  start_detached kube-scheduler "${KUBE_BIN_DIR}/kube-scheduler" \
    --kubeconfig="${kubeconfig}" \
    --authentication-kubeconfig="${kubeconfig}" \
    --authorization-kubeconfig="${kubeconfig}" \
    --bind-address=127.0.0.1 \
    --secure-port="${SCHEDULER_PORT}" \
    --tls-cert-file="${PKI_DIR}/kube-scheduler-serving.crt" \
    --tls-private-key-file="${PKI_DIR}/kube-scheduler-serving.key" \
    --leader-elect=false \
    --profiling=false
  wait_until kube-scheduler 60 https_healthy "${SCHEDULER_PORT}"
}

start_kwok() {
  ensure_port_free kwok "${KWOK_PORT}"
  ensure_kwok_config
  apply_kwok_rbac
  release_node_leases
  start_detached kwok "${KWOK_DIR}/bin/kwok" \
    --kubeconfig="${CONFIG_DIR}/kwok.kubeconfig" \
    --config="${CONFIG_DIR}/kwok.yaml" \
    --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector="${KWOK_NODE_ANNOTATION}" \
    --cidr="${POD_CIDR}" \
    --node-ip=127.0.0.1 \
    --node-port="${KWOK_PORT}" \
    --server-address="127.0.0.1:${KWOK_PORT}" \
    --tls-cert-file="${PKI_DIR}/kwok.crt" \
    --tls-private-key-file="${PKI_DIR}/kwok.key" \
    --node-lease-duration-seconds=40 \
    --v=WARN
  wait_until kwok 30 https_healthy "${KWOK_PORT}"
}

admin_kubectl() { "${KUBECTL}" --kubeconfig="${ADMIN_KUBECONFIG}" "$@"; }

# kwok takes a random holder identity per process and only manages a node once it holds the node's
# Lease, so after a restart it would wait up to the lease duration (40s) for its predecessor's leases
# to expire, and pods would stay Pending meanwhile. kwok is not running here: nobody holds them.
release_node_leases() {
  local zone leases=()
  for zone in "${NODE_ZONES[@]}"; do leases+=("kwok-node-${zone}"); done
  admin_kubectl delete lease -n kube-node-lease --ignore-not-found "${leases[@]}" >/dev/null
}

apply_kwok_rbac() {
  admin_kubectl apply -f "${KWOK_DIR}/rbac/role.yaml" >/dev/null
  admin_kubectl apply -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: kwok-controller
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: kwok-controller
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: kwok-controller
EOF
}

# Three fake nodes, one per zone, so topology spread constraints and zone anti-affinity behave as on
# a multi-zone cluster. kwok manages the nodes carrying its annotation and keeps the given capacity.
ensure_nodes() {
  local zone manifest=""
  for zone in "${NODE_ZONES[@]}"; do
    manifest+="$(cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-${zone}
  annotations:
    node.alpha.kubernetes.io/ttl: "0"
    ${KWOK_NODE_ANNOTATION%%=*}: ${KWOK_NODE_ANNOTATION#*=}
  labels:
    type: kwok
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: kwok-node-${zone}
    kubernetes.io/os: linux
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    topology.kubernetes.io/region: local
    topology.kubernetes.io/zone: ${zone}
status:
  allocatable:
    cpu: "16"
    memory: 64Gi
    pods: "110"
  capacity:
    cpu: "16"
    memory: 64Gi
    pods: "110"
---
EOF
)"$'\n'
  done
  printf '%s' "${manifest}" | admin_kubectl apply -f - >/dev/null
  admin_kubectl wait --for=condition=Ready node -l type=kwok --timeout=60s >/dev/null \
    || die "the kwok nodes did not become Ready within 60s; see ${LOG_DIR}/kwok.log"
}

# Pods are refused until the namespace's default ServiceAccount exists (ServiceAccount admission);
# waiting for it here means callers can create pods in `default` as soon as `up` returns.
wait_for_default_service_account() {
  local deadline=$(( $(date +%s) + 60 ))
  until admin_kubectl get serviceaccount default -n default >/dev/null 2>&1; do
    (( $(date +%s) < deadline )) || die "the default ServiceAccount was not created within 60s; see ${LOG_DIR}/kube-controller-manager.log"
    sleep 0.25
  done
}

# ---------------------------------------------------------------------------------------------------
# Commands

# Serialises up/down across processes (parallel test runners call `up` concurrently). The wait is
# long because the holder may be building the tools from source.
readonly LOCK_TIMEOUT_SECONDS=2400
with_lock() {
  local holders
  mkdir -p "${STATE_DIR}"
  exec {lock_fd}>"${STATE_DIR}/.lock"
  if ! flock -n "${lock_fd}"; then
    holders="$(fuser "${STATE_DIR}/.lock" 2>/dev/null | xargs || true)"
    log "another cluster.sh command holds ${STATE_DIR}/.lock (pids: ${holders:-unknown}); waiting up to ${LOCK_TIMEOUT_SECONDS}s"
    flock -w "${LOCK_TIMEOUT_SECONDS}" "${lock_fd}" \
      || die "gave up waiting for ${STATE_DIR}/.lock after ${LOCK_TIMEOUT_SECONDS}s; its holders were: ${holders:-unknown}. If none of them is a cluster.sh, delete the file and retry."
  fi
}

all_running() {
  local name
  for name in "${COMPONENTS[@]}"; do component_pid "${name}" >/dev/null || return 1; done
}

# A component running an older binary than versions.env pins (versions changed while it ran).
running_outdated() {
  local name="$1" pid
  pid="$(component_pid "${name}")" || return 1
  # Both sides resolved: the cache may sit behind a symlink. A replaced binary reads "... (deleted)".
  [[ "$(readlink "/proc/${pid}/exe" 2>/dev/null)" != "$(readlink -f "$(component_bin "${name}")")" ]]
}

cmd_up() {
  local started name
  started="$(date +%s)"
  command -v openssl >/dev/null || die "openssl is required (apt-get install -y openssl)."
  command -v curl >/dev/null || die "curl is required (apt-get install -y curl)."
  command -v ss >/dev/null || die "ss is required (apt-get install -y iproute2)."
  with_lock
  if all_running && apiserver_ready; then
    local outdated=0
    for name in "${COMPONENTS[@]}"; do running_outdated "${name}" && outdated=1; done
    if [[ "${outdated}" == 0 ]]; then
      log "already running (kubeconfig: ${ADMIN_KUBECONFIG})"
      return 0
    fi
  fi
  bash "${SCRIPT_DIR}/build-tools.sh" etcd kubernetes kwok helm
  mkdir -p "${LOG_DIR}" "${RUN_DIR}" "${CONFIG_DIR}" "${ETCD_DATA_DIR}"
  chmod 700 "${ETCD_DATA_DIR}"
  ensure_pki
  ensure_kubeconfigs
  for name in "${COMPONENTS[@]}"; do
    clean_stale_pid "${name}"
    if running_outdated "${name}"; then
      log "${name}: running an outdated binary; restarting it with the pinned version"
      stop_components "${name}"
    fi
  done
  for name in "${COMPONENTS[@]}"; do
    if component_pid "${name}" >/dev/null; then
      continue
    fi
    log "${name}: starting (log: ${LOG_DIR}/${name}.log)"
    "start_${name//-/_}"
  done
  ensure_nodes
  wait_for_default_service_account
  log "ready in $(( $(date +%s) - started ))s: ${KUBERNETES_VERSION} at https://127.0.0.1:${APISERVER_PORT}"
  log "use it with: eval \"\$(bash tools/k8s/cluster.sh env)\" && kubectl get nodes"
}

cmd_down() {
  local purge=0
  case "${1:-}" in
    "") ;;
    --purge) purge=1 ;;
    *) die "unknown option '$1' for down; use: cluster.sh down [--purge]" ;;
  esac
  if [[ ! -d "${STATE_DIR}" ]]; then
    log "nothing to stop (${STATE_DIR} does not exist)"
    return 0
  fi
  with_lock
  # Clients of the apiserver first (together), then the apiserver, then its storage.
  stop_components kwok kube-scheduler kube-controller-manager
  stop_components kube-apiserver
  stop_components etcd
  if [[ "${purge}" == 1 ]]; then
    # Keep the lock file we hold; everything else (PKI, etcd data, kubeconfigs, logs) goes.
    find "${STATE_DIR}" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} +
    log "purged ${STATE_DIR}"
  else
    log "stopped; state kept in ${STATE_DIR} (down --purge deletes it)"
  fi
}

cmd_env() {
  local path_dirs
  path_dirs="${KUBE_BIN_DIR}:${HELM_BIN_DIR}:${KWOK_DIR}/bin:$(dirname "${ETCD_BIN}")"
  printf 'export KUBECONFIG=%q\n' "${ADMIN_KUBECONFIG}"
  printf 'export PATH=%q:"$PATH"\n' "${path_dirs}"
}

cmd_status() {
  local name pid ok=0
  for name in "${COMPONENTS[@]}"; do
    if pid="$(component_pid "${name}")"; then
      printf '%-24s running  pid %-8s port %s\n' "${name}" "${pid}" "$(component_port "${name}")"
    else
      printf '%-24s stopped\n' "${name}"
      ok=1
    fi
  done
  if [[ "${ok}" == 0 ]]; then
    if apiserver_ready; then
      echo "apiserver /readyz        ok (https://127.0.0.1:${APISERVER_PORT})"
      admin_kubectl get nodes -L topology.kubernetes.io/zone
    else
      echo "apiserver /readyz        not ready"
      ok=1
    fi
  fi
  echo "kubeconfig               ${ADMIN_KUBECONFIG}"
  echo "logs                     ${LOG_DIR}"
  return "${ok}"
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "${cmd}" in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    env) cmd_env "$@" ;;
    status) cmd_status "$@" ;;
    -h | --help | help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
    *) die "usage: cluster.sh up|down [--purge]|env|status (got '${cmd}')" ;;
  esac
}

main "$@"
