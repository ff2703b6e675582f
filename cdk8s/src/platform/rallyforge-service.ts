import { ApiObject, Duration, Lazy, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { HelmChart, PART_OF } from '../helm/helm-chart';
import { Helm, renderIf } from '../helm/helm-token';
import { Tunable, defaultOf, isHelmValue, renderOf } from '../helm/helm-values';
import { Patch } from '../helm/patch';
import { completeRestrictedSecurity } from '../common/restricted-pod';
import {
  APP_CONTAINER_NAME,
  DEFAULT_DRAIN_TIMEOUT_SECONDS,
  DEFAULT_RUN_AS_USER,
  HEALTH_PATHS,
  METRICS_PATH,
  SERVICE_PORT,
  SERVICE_PORT_NAME,
  ServiceName,
} from './service-contract';

/** CPU and memory as Kubernetes quantities (`250m`, `512Mi`). */
export interface ResourceQuantities {
  readonly cpu?: string;
  readonly memory?: string;
}

/** Container resources, in the shape of the Kubernetes `resources` field. */
export interface ResourceRequirements {
  readonly requests?: ResourceQuantities;
  readonly limits?: ResourceQuantities;
}

/** Timings of one probe. The endpoints are fixed by the service kit. */
export interface ProbeTimings {
  /** @default 0 */
  readonly initialDelaySeconds?: Tunable<number>;
  /** @default 10 (liveness), 5 (readiness, startup) */
  readonly periodSeconds?: Tunable<number>;
  /** @default 2 */
  readonly timeoutSeconds?: Tunable<number>;
  /** @default 3 (liveness, readiness), 30 (startup: 150 s to start) */
  readonly failureThreshold?: Tunable<number>;
}

export interface ServiceProbes {
  readonly startup?: ProbeTimings;
  readonly liveness?: ProbeTimings;
  readonly readiness?: ProbeTimings;
}

/**
 * Horizontal autoscaling (autoscaling/v2) on CPU and memory utilisation of the requests.
 * @see https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
 */
export interface ServiceAutoscalingOptions {
  /**
   * When false, the Deployment runs `replicas` pods and no HPA is created.
   * @default true
   */
  readonly enabled?: Tunable<boolean>;
  /** @default 3 */
  readonly minReplicas?: Tunable<number>;
  /** @default 10 */
  readonly maxReplicas?: Tunable<number>;
  /** Target average CPU utilisation, percent of requests. @default 70 */
  readonly cpuUtilization?: Tunable<number>;
  /** Target average memory utilisation, percent of requests. @default 80 */
  readonly memoryUtilization?: Tunable<number>;
  /** How long load must stay low before scaling down. @default 300 */
  readonly scaleDownStabilizationSeconds?: Tunable<number>;
}

/**
 * Graceful shutdown. On deletion the kubelet runs the preStop delay (so that endpoints and the
 * ingress controller stop routing to the pod), then sends SIGTERM; the service drains for at most
 * `drainTimeout` (env SHUTDOWN_TIMEOUT_MS); the grace period must cover both.
 */
export interface GracefulShutdownOptions {
  /** @default Duration.seconds(5) */
  readonly preStopDelay?: Duration;
  /** @default Duration.seconds(20) (the service kit's SHUTDOWN_TIMEOUT_MS default) */
  readonly drainTimeout?: Duration;
  /** @default Duration.seconds(30) */
  readonly terminationGracePeriod?: Duration;
}

/** Pods allowed to connect: pods matching `podLabels` in namespaces matching `namespaceLabels`. */
export interface NetworkPeer {
  readonly namespaceLabels: Tunable<Record<string, string>>;
  readonly podLabels: Tunable<Record<string, string>>;
}

export interface ServiceNetworkPolicyOptions {
  /** @default true */
  readonly enabled?: Tunable<boolean>;
  /**
   * The ingress controller; `null` admits none (for example a cluster without one).
   * @default ingress-nginx: namespace `ingress-nginx`, pods `app.kubernetes.io/name=ingress-nginx`
   */
  readonly ingressController?: NetworkPeer | null;
  /**
   * The metrics scraper; `null` admits none.
   * @default namespace `monitoring`, pods `app.kubernetes.io/name=prometheus`
   */
  readonly monitoring?: NetworkPeer | null;
  /**
   * Namespaces whose pods (all of them) may connect too, selected by their `kubernetes.io/metadata.name`
   * label (for example a dedicated tenant's `spec.network.allowedNamespaces` and the platform namespace).
   * @default []
   */
  readonly allowedNamespaces?: readonly string[];
}

export interface ServiceMonitorOptions {
  /**
   * Create a prometheus-operator ServiceMonitor. Under Helm it is also skipped when the cluster
   * does not serve monitoring.coreos.com/v1.
   * @default true
   */
  readonly enabled?: Tunable<boolean>;
  /** @default '30s' */
  readonly interval?: Tunable<string>;
}

export interface DisruptionBudgetOptions {
  /** @default true */
  readonly enabled?: Tunable<boolean>;
  /** @default 1 */
  readonly maxUnavailable?: Tunable<number>;
}

/** A volume mounted into the app container, beside the writable /tmp. */
export interface ServiceVolume {
  readonly name: string;
  readonly mountPath: string;
  /** The Kubernetes volume source, for example `{ emptyDir: {} }`. */
  readonly source: Record<string, unknown>;
}

/** Pod placement and metadata a platform team adjusts per cluster. */
export interface PodOptions {
  /** @default {} */
  readonly annotations?: Tunable<Record<string, string>>;
  /** @default {} */
  readonly nodeSelector?: Tunable<Record<string, string>>;
  /** @default [] */
  readonly tolerations?: Tunable<unknown[]>;
  /** @default {} */
  readonly affinity?: Tunable<Record<string, unknown>>;
  /** @default [] */
  readonly imagePullSecrets?: Tunable<Array<{ name: string }>>;
}

export interface RallyForgeServiceProps {
  /** Which platform service this is: the component label, SERVICE_NAME, and the name suffix. */
  readonly service: ServiceName;
  /** Full image reference, for example `ghcr.io/rallyforge/auth:1.2.3`. */
  readonly image: string;
  /** @default 'IfNotPresent' */
  readonly imagePullPolicy?: Tunable<string>;
  /**
   * Prefix of every object name: objects are called `<namePrefix>-<service>`.
   * @default 'rallyforge'
   */
  readonly namePrefix?: string;
  /**
   * Value of `app.kubernetes.io/instance`, part of every selector, so that two installations in
   * one namespace never select each other's pods.
   * @default namePrefix
   */
  readonly instance?: string;
  /** Environment besides what the construct sets itself (NODE_ENV, PORT, SERVICE_NAME, SHUTDOWN_TIMEOUT_MS). @default {} */
  readonly env?: Record<string, kplus.EnvValue>;
  /** More environment entries in Kubernetes `env` form (for example from a values file). @default [] */
  readonly extraEnv?: Tunable<unknown[]>;
  /** Replicas when autoscaling is disabled. @default 3 */
  readonly replicas?: Tunable<number>;
  /** @default - enabled, 3 to 10 replicas, CPU 70 %, memory 80 %, 300 s scale-down stabilisation */
  readonly autoscaling?: ServiceAutoscalingOptions;
  /** @default - requests 100m CPU / 256Mi memory, limits 1 CPU / 512Mi memory */
  readonly resources?: Tunable<ResourceRequirements>;
  /** @default - see {@link ProbeTimings} */
  readonly probes?: ServiceProbes;
  /** @default - 5 s preStop, 20 s drain, 30 s grace period */
  readonly shutdown?: GracefulShutdownOptions;
  /** @default - maxUnavailable 1 */
  readonly disruptionBudget?: DisruptionBudgetOptions;
  /** @default - ingress from the ingress controller and monitoring only */
  readonly networkPolicy?: ServiceNetworkPolicyOptions;
  /** @default - enabled, 30 s interval */
  readonly serviceMonitor?: ServiceMonitorOptions;
  /** @default [] */
  readonly volumes?: ServiceVolume[];
  /** @default {} */
  readonly pod?: PodOptions;
  /**
   * UID and GID the container runs as (numeric, so that runAsNonRoot can be verified).
   * @default 1000 (the `node` user of the service images)
   */
  readonly runAsUser?: number;
  /**
   * Topology spread: at most this many more pods in one zone (or on one node) than in another.
   * @default 1
   */
  readonly maxSkew?: number;
}

/** Defaults, named so that the Helm values and the docs quote the same numbers. */
export const SERVICE_DEFAULTS = {
  replicas: 3,
  imagePullPolicy: 'IfNotPresent',
  autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 10, cpuUtilization: 70, memoryUtilization: 80, scaleDownStabilizationSeconds: 300 },
  resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } } as ResourceRequirements,
  probes: {
    startup: { initialDelaySeconds: 0, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 30 },
    liveness: { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
    readiness: { initialDelaySeconds: 0, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 },
  },
  shutdown: { preStopDelaySeconds: 5, drainTimeoutSeconds: DEFAULT_DRAIN_TIMEOUT_SECONDS, terminationGracePeriodSeconds: 30 },
  disruptionBudget: { enabled: true, maxUnavailable: 1 },
  ingressController: { namespaceLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' }, podLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } },
  monitoring: { namespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' }, podLabels: { 'app.kubernetes.io/name': 'prometheus' } },
  serviceMonitorInterval: '30s',
  tmpSizeLimit: Size.mebibytes(64),
} as const;

const POD_SPEC = '/spec/template/spec';
const CONTAINER = `${POD_SPEC}/containers/0`;
const SERVICE_MONITOR_API = 'monitoring.coreos.com/v1/ServiceMonitor';

/**
 * One RallyForge service: a Deployment of the service image with the service kit's probes, a
 * restricted security context and graceful shutdown, spread across zones and nodes; its Service,
 * ServiceAccount, HorizontalPodAutoscaler, PodDisruptionBudget, NetworkPolicy and ServiceMonitor.
 *
 * Every tunable prop takes a literal or a {@link HelmValue}; with Helm values the synthesised
 * manifests become templates of a Helm chart (see HelmChart).
 */
export class RallyForgeService extends Construct {
  public readonly service: ServiceName;
  /** `<namePrefix>-<service>`: the Deployment, Service, ServiceAccount, HPA, PDB, ... */
  public readonly name: string;
  /** Labels that select this service's pods (and only this installation's). */
  public readonly selectorLabels: Record<string, string>;
  public readonly deployment: kplus.Deployment;
  public readonly k8sService: kplus.Service;
  public readonly serviceAccount: kplus.ServiceAccount;
  public readonly autoscaler?: kplus.HorizontalPodAutoscaler;
  public readonly disruptionBudget?: kplus.k8s.KubePodDisruptionBudget;
  public readonly networkPolicy?: kplus.k8s.KubeNetworkPolicy;
  public readonly serviceMonitor?: ApiObject;
  /** In-cluster base URL, for example `http://rallyforge-auth:3000`. */
  public readonly url: string;

  private readonly callers: RallyForgeService[] = [];

  public constructor(scope: Construct, id: string, props: RallyForgeServiceProps) {
    super(scope, id);
    this.service = props.service;
    const namePrefix = props.namePrefix ?? 'rallyforge';
    const instance = props.instance ?? namePrefix;
    this.name = `${namePrefix}-${props.service}`;
    this.url = `http://${this.name}:${SERVICE_PORT}`;
    this.selectorLabels = { 'app.kubernetes.io/name': props.service, 'app.kubernetes.io/instance': instance };
    const labels = { ...this.selectorLabels, 'app.kubernetes.io/component': props.service, 'app.kubernetes.io/part-of': PART_OF };
    const metadata = { name: this.name, labels };

    const autoscaling = { ...SERVICE_DEFAULTS.autoscaling, ...props.autoscaling };
    const shutdown = resolveShutdown(props.shutdown);
    const probes = resolveProbes(props.probes);
    const resources = props.resources ?? SERVICE_DEFAULTS.resources;
    const runAsUser = props.runAsUser ?? DEFAULT_RUN_AS_USER;
    validate(props, autoscaling, resources);
    const hasAutoscaler = isHelmValue(autoscaling.enabled) || autoscaling.enabled;

    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', { metadata, automountToken: false });

    const tmp = kplus.Volume.fromEmptyDir(this, 'Tmp', 'tmp', { sizeLimit: SERVICE_DEFAULTS.tmpSizeLimit });
    this.deployment = new kplus.Deployment(this, 'Deployment', {
      metadata,
      podMetadata: { labels },
      select: false,
      spread: false,
      serviceAccount: this.serviceAccount,
      automountServiceAccountToken: false,
      terminationGracePeriod: shutdown.terminationGracePeriod,
      // With an autoscaler (even one Helm may leave out) cdk8s-plus must not set replicas.
      replicas: hasAutoscaler ? undefined : defaultOf(props.replicas ?? SERVICE_DEFAULTS.replicas),
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        maxSurge: kplus.PercentOrAbsolute.percent(25),
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
      }),
      securityContext: { ensureNonRoot: true, user: runAsUser, group: runAsUser, fsGroup: runAsUser, fsGroupChangePolicy: kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH },
      containers: [
        {
          name: APP_CONTAINER_NAME,
          image: props.image,
          imagePullPolicy: defaultOf(props.imagePullPolicy ?? SERVICE_DEFAULTS.imagePullPolicy) as kplus.ImagePullPolicy,
          ports: [{ number: SERVICE_PORT, name: SERVICE_PORT_NAME }],
          envVariables: {
            NODE_ENV: kplus.EnvValue.fromValue('production'),
            PORT: kplus.EnvValue.fromValue(String(SERVICE_PORT)),
            SERVICE_NAME: kplus.EnvValue.fromValue(props.service),
            SHUTDOWN_TIMEOUT_MS: kplus.EnvValue.fromValue(String(shutdown.drainTimeout.toMilliseconds())),
            ...props.env,
          },
          startup: httpProbe(HEALTH_PATHS.startup, probes.startup),
          liveness: httpProbe(HEALTH_PATHS.liveness, probes.liveness),
          readiness: httpProbe(HEALTH_PATHS.readiness, probes.readiness),
          lifecycle: {
            // The images may be distroless: `node` is the one binary every service image has.
            preStop: kplus.Handler.fromCommand(['node', '-e', `setTimeout(() => {}, ${shutdown.preStopDelay.toMilliseconds()})`]),
          },
          resources: toPlusResources(defaultOf(resources)),
          securityContext: {
            ensureNonRoot: true,
            user: runAsUser,
            group: runAsUser,
            privileged: false,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
          },
          volumeMounts: [{ path: '/tmp', volume: tmp }],
        },
      ],
    });
    this.deployment.select(kplus.LabelSelector.of({ labels: this.selectorLabels }));
    const deployment = ApiObject.of(this.deployment);
    this.hardenAndSpread(deployment, props, resources);
    this.bindProbes(deployment, probes);
    Patch.replaceIfHelm(deployment, `${CONTAINER}/imagePullPolicy`, props.imagePullPolicy);
    if (!hasAutoscaler) {
      Patch.replaceIfHelm(deployment, '/spec/replicas', props.replicas);
    }
    Patch.append(deployment, `${CONTAINER}/env`, props.extraEnv);
    for (const volume of props.volumes ?? []) {
      Patch.add(deployment, `${POD_SPEC}/volumes/-`, { name: volume.name, ...volume.source });
      Patch.add(deployment, `${CONTAINER}/volumeMounts/-`, { name: volume.name, mountPath: volume.mountPath });
    }

    this.k8sService = new kplus.Service(this, 'Service', {
      metadata,
      ports: [{ name: SERVICE_PORT_NAME, port: SERVICE_PORT, targetPort: SERVICE_PORT, protocol: kplus.Protocol.TCP }],
    });
    for (const [key, value] of Object.entries(this.selectorLabels)) {
      this.k8sService.selectLabel(key, value);
    }

    if (hasAutoscaler) {
      this.autoscaler = this.createAutoscaler(metadata, autoscaling, props.replicas ?? SERVICE_DEFAULTS.replicas);
    }
    const pdb = { ...SERVICE_DEFAULTS.disruptionBudget, ...props.disruptionBudget };
    if (isHelmValue(pdb.enabled) || pdb.enabled) {
      this.disruptionBudget = this.createDisruptionBudget(metadata, pdb);
    }
    const netpol = props.networkPolicy ?? {};
    if (isHelmValue(netpol.enabled) || (netpol.enabled ?? true)) {
      this.networkPolicy = this.createNetworkPolicy(metadata, netpol);
    }
    const monitor = props.serviceMonitor ?? {};
    if (isHelmValue(monitor.enabled) || (monitor.enabled ?? true)) {
      this.serviceMonitor = this.createServiceMonitor(metadata, monitor);
    }
  }

  /** Lets `caller`'s pods connect to this service (its NetworkPolicy admits them). */
  public allowFrom(caller: RallyForgeService): void {
    if (caller === this) {
      throw new Error(`${this.service} cannot list itself as a caller: pods of one service do not call each other through the Service.`);
    }
    this.callers.push(caller);
  }

  /** Security context details and spread constraints that cdk8s-plus does not render. */
  private hardenAndSpread(deployment: ApiObject, props: RallyForgeServiceProps, resources: Tunable<ResourceRequirements>): void {
    completeRestrictedSecurity(deployment, POD_SPEC);
    // The literal object, not cdk8s-plus' normalised quantities, so values read as written.
    Patch.replace(deployment, `${CONTAINER}/resources`, renderOf(resources));
    Patch.add(
      deployment,
      `${POD_SPEC}/topologySpreadConstraints`,
      ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'].map((topologyKey) => ({
        topologyKey,
        maxSkew: props.maxSkew ?? 1,
        // ScheduleAnyway: a lost zone must not stop the surviving ones from scaling up.
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: this.selectorLabels },
        matchLabelKeys: ['pod-template-hash'],
      })),
    );
    const pod = props.pod ?? {};
    Patch.setOptional(deployment, '/spec/template/metadata/annotations', pod.annotations);
    Patch.setOptional(deployment, `${POD_SPEC}/nodeSelector`, pod.nodeSelector);
    Patch.setOptional(deployment, `${POD_SPEC}/tolerations`, pod.tolerations);
    Patch.setOptional(deployment, `${POD_SPEC}/affinity`, pod.affinity);
    Patch.setOptional(deployment, `${POD_SPEC}/imagePullSecrets`, pod.imagePullSecrets);
  }

  private bindProbes(deployment: ApiObject, probes: Required<ServiceProbes>): void {
    const fields = ['initialDelaySeconds', 'periodSeconds', 'timeoutSeconds', 'failureThreshold'] as const;
    for (const [kind, timings] of Object.entries(probes)) {
      for (const field of fields) {
        Patch.replaceIfHelm(deployment, `${CONTAINER}/${kind}Probe/${field}`, timings[field]);
      }
    }
  }

  private createAutoscaler(
    metadata: { name: string; labels: Record<string, string> },
    autoscaling: Required<ServiceAutoscalingOptions>,
    replicas: Tunable<number>,
  ): kplus.HorizontalPodAutoscaler {
    const hpa = new kplus.HorizontalPodAutoscaler(this, 'Autoscaler', {
      metadata,
      target: this.deployment,
      minReplicas: defaultOf(autoscaling.minReplicas),
      maxReplicas: defaultOf(autoscaling.maxReplicas),
      metrics: [
        kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(defaultOf(autoscaling.cpuUtilization))),
        kplus.Metric.resourceMemory(kplus.MetricTarget.averageUtilization(defaultOf(autoscaling.memoryUtilization))),
      ],
      // Kubernetes' own defaults for scale-up; a slow, stabilised scale-down.
      scaleUp: {
        stabilizationWindow: Duration.seconds(0),
        policies: [
          { replicas: kplus.Replicas.percent(100), duration: Duration.seconds(15) },
          { replicas: kplus.Replicas.absolute(4), duration: Duration.seconds(15) },
        ],
      },
      scaleDown: {
        stabilizationWindow: Duration.seconds(defaultOf(autoscaling.scaleDownStabilizationSeconds)),
        policies: [{ replicas: kplus.Replicas.percent(100), duration: Duration.seconds(15) }],
      },
    });
    const obj = ApiObject.of(hpa);
    Patch.replaceIfHelm(obj, '/spec/minReplicas', autoscaling.minReplicas);
    Patch.replaceIfHelm(obj, '/spec/maxReplicas', autoscaling.maxReplicas);
    Patch.replaceIfHelm(obj, '/spec/metrics/0/resource/target/averageUtilization', autoscaling.cpuUtilization);
    Patch.replaceIfHelm(obj, '/spec/metrics/1/resource/target/averageUtilization', autoscaling.memoryUtilization);
    Patch.replaceIfHelm(obj, '/spec/behavior/scaleDown/stabilizationWindowSeconds', autoscaling.scaleDownStabilizationSeconds);
    if (isHelmValue(autoscaling.enabled)) {
      renderIf(hpa, autoscaling.enabled.expr);
      // Without the HPA the Deployment needs its replica count; with it, none (the HPA owns it).
      Patch.add(ApiObject.of(this.deployment), '/spec/replicas', Helm.when(Helm.not(autoscaling.enabled.expr), renderOf(replicas)));
    }
    if (isHelmValue(autoscaling.minReplicas) || isHelmValue(autoscaling.maxReplicas)) {
      HelmChart.tryOf(this)?.addValidation({
        condition: `gt (int ${expr(autoscaling.minReplicas)}) (int ${expr(autoscaling.maxReplicas)})`,
        message: `${this.service}: autoscaling minReplicas is greater than maxReplicas. Lower minReplicas or raise maxReplicas.`,
      });
    }
    return hpa;
  }

  private createDisruptionBudget(
    metadata: { name: string; labels: Record<string, string> },
    options: Required<DisruptionBudgetOptions>,
  ): kplus.k8s.KubePodDisruptionBudget {
    const pdb = new kplus.k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata,
      spec: {
        // maxUnavailable rather than minAvailable: a single-replica service can still be drained.
        maxUnavailable: kplus.k8s.IntOrString.fromNumber(defaultOf(options.maxUnavailable)),
        selector: { matchLabels: this.selectorLabels },
      },
    });
    Patch.replaceIfHelm(pdb, '/spec/maxUnavailable', options.maxUnavailable);
    if (isHelmValue(options.enabled)) {
      renderIf(pdb, options.enabled.expr);
    }
    return pdb;
  }

  private createNetworkPolicy(
    metadata: { name: string; labels: Record<string, string> },
    options: ServiceNetworkPolicyOptions,
  ): kplus.k8s.KubeNetworkPolicy {
    // undefined: the default peer; null: no peer at all.
    const ingressController = options.ingressController === undefined ? SERVICE_DEFAULTS.ingressController : options.ingressController;
    const monitoring = options.monitoring === undefined ? SERVICE_DEFAULTS.monitoring : options.monitoring;
    const peers = [ingressController, monitoring].filter((p): p is NetworkPeer => p !== null);
    const namespaces = [...new Set(options.allowedNamespaces ?? [])];
    for (const namespace of namespaces) {
      if (namespace.length > 63 || !DNS_LABEL.test(namespace)) {
        throw new Error(`RallyForgeService "${this.service}": networkPolicy.allowedNamespaces entry "${namespace}" is not a namespace name (a DNS-1123 label).`);
      }
    }
    const ports = [{ port: kplus.k8s.IntOrString.fromNumber(SERVICE_PORT), protocol: 'TCP' }];
    // Literal selectors here; Helm values are patched in below (typed objects cannot carry them). A literal empty
    // podLabels (every pod of the namespace) leaves podSelector out, as the API server stores it: an empty selector
    // would be normalised away and every server-side apply would then write the object again.
    const peer = (p: NetworkPeer) => ({
      namespaceSelector: { matchLabels: defaultOf(p.namespaceLabels) },
      ...(!isHelmValue(p.podLabels) && Object.keys(p.podLabels).length === 0 ? {} : { podSelector: { matchLabels: defaultOf(p.podLabels) } }),
    });
    const policy = new kplus.k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata,
      spec: {
        podSelector: { matchLabels: this.selectorLabels },
        policyTypes: ['Ingress'],
        ingress: Lazy.any({
          produce: () => {
            const rules = [
              ...peers.map((p) => ({ from: [peer(p)], ports })),
              ...(namespaces.length > 0
                ? [{ from: namespaces.map((name) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } } })), ports }]
                : []),
              ...(this.callers.length > 0 ? [{ from: this.callers.map((c) => ({ podSelector: { matchLabels: c.selectorLabels } })), ports }] : []),
            ];
            // No rule admits nothing (policyTypes has Ingress). Left out rather than [], which the API server
            // drops, so that re-applying the object is a no-op.
            return rules.length > 0 ? rules : undefined;
          },
        }),
      },
    });
    peers.forEach((p, i) => {
      Patch.replaceIfHelm(policy, `/spec/ingress/${i}/from/0/namespaceSelector/matchLabels`, p.namespaceLabels);
      Patch.replaceIfHelm(policy, `/spec/ingress/${i}/from/0/podSelector/matchLabels`, p.podLabels);
    });
    if (isHelmValue(options.enabled)) {
      renderIf(policy, options.enabled.expr);
    }
    return policy;
  }

  private createServiceMonitor(metadata: { name: string; labels: Record<string, string> }, options: ServiceMonitorOptions): ApiObject {
    const monitor = new ApiObject(this, 'ServiceMonitor', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata,
      spec: {
        selector: { matchLabels: this.selectorLabels },
        endpoints: [{ port: SERVICE_PORT_NAME, path: METRICS_PATH, interval: renderOf(options.interval ?? SERVICE_DEFAULTS.serviceMonitorInterval) }],
      },
    });
    if (HelmChart.tryOf(this)) {
      // Installing a ServiceMonitor into a cluster without prometheus-operator would fail the release.
      const served = Helm.apiAvailable(SERVICE_MONITOR_API);
      renderIf(monitor, isHelmValue(options.enabled) ? Helm.and(options.enabled.expr, served) : served);
    }
    return monitor;
  }
}

function expr(value: Tunable<number>): string {
  return isHelmValue(value) ? value.expr : String(value);
}

function resolveShutdown(options: GracefulShutdownOptions = {}) {
  const d = SERVICE_DEFAULTS.shutdown;
  return {
    preStopDelay: options.preStopDelay ?? Duration.seconds(d.preStopDelaySeconds),
    drainTimeout: options.drainTimeout ?? Duration.seconds(d.drainTimeoutSeconds),
    terminationGracePeriod: options.terminationGracePeriod ?? Duration.seconds(d.terminationGracePeriodSeconds),
  };
}

function resolveProbes(probes: ServiceProbes = {}): Required<ServiceProbes> {
  const d = SERVICE_DEFAULTS.probes;
  return {
    startup: { ...d.startup, ...probes.startup },
    liveness: { ...d.liveness, ...probes.liveness },
    readiness: { ...d.readiness, ...probes.readiness },
  };
}

function httpProbe(path: string, timings: ProbeTimings): kplus.Probe {
  return kplus.Probe.fromHttpGet(path, {
    port: SERVICE_PORT,
    initialDelaySeconds: Duration.seconds(defaultOf(timings.initialDelaySeconds ?? 0)),
    periodSeconds: Duration.seconds(defaultOf(timings.periodSeconds ?? 10)),
    timeoutSeconds: Duration.seconds(defaultOf(timings.timeoutSeconds ?? 2)),
    failureThreshold: defaultOf(timings.failureThreshold ?? 3),
  });
}

/** cdk8s-plus wants typed quantities (it checks that an autoscaled container has requests). */
function toPlusResources(resources: ResourceRequirements): kplus.ContainerResources {
  return {
    cpu: { request: toCpu(resources.requests?.cpu), limit: toCpu(resources.limits?.cpu) },
    memory: { request: toSize(resources.requests?.memory), limit: toSize(resources.limits?.memory) },
  };
}

function toCpu(quantity: string | undefined): kplus.Cpu | undefined {
  if (quantity === undefined) return undefined;
  return quantity.endsWith('m') ? kplus.Cpu.millis(Number(quantity.slice(0, -1))) : kplus.Cpu.units(Number(quantity));
}

function toSize(quantity: string | undefined): Size | undefined {
  if (quantity === undefined) return undefined;
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity);
  if (!match) return undefined;
  const amount = Number(match[1]);
  return match[2] === 'Gi' ? Size.gibibytes(amount) : match[2] === 'Ki' ? Size.kibibytes(amount) : Size.mebibytes(match[2] === 'Mi' ? amount : amount / 2 ** 20);
}

/** A namespace name. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const QUANTITY = /^([0-9]+(\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;

function validate(props: RallyForgeServiceProps, autoscaling: Required<ServiceAutoscalingOptions>, resources: Tunable<ResourceRequirements>): void {
  const where = `RallyForgeService "${props.service}"`;
  const min = defaultOf(autoscaling.minReplicas);
  const max = defaultOf(autoscaling.maxReplicas);
  if (!Number.isInteger(min) || min < 1) {
    throw new Error(`${where}: autoscaling.minReplicas must be an integer >= 1 (got ${min}). Use autoscaling.enabled=false and replicas=0 to stop the service.`);
  }
  if (max < min) {
    throw new Error(`${where}: autoscaling.maxReplicas (${max}) is lower than minReplicas (${min}). Raise maxReplicas or lower minReplicas.`);
  }
  for (const [key, value] of [['cpuUtilization', autoscaling.cpuUtilization], ['memoryUtilization', autoscaling.memoryUtilization]] as const) {
    const v = defaultOf(value);
    if (!Number.isInteger(v) || v < 1 || v > 100) {
      throw new Error(`${where}: autoscaling.${key} is a percentage of the requests, between 1 and 100 (got ${v}).`);
    }
  }
  const replicas = defaultOf(props.replicas ?? SERVICE_DEFAULTS.replicas);
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw new Error(`${where}: replicas must be a non-negative integer (got ${replicas}).`);
  }
  const requests = defaultOf(resources).requests;
  if (!requests?.cpu || !requests.memory) {
    throw new Error(`${where}: resources.requests.cpu and resources.requests.memory are required: the autoscaler's utilisation targets are percentages of the requests.`);
  }
  for (const [kind, quantities] of Object.entries(defaultOf(resources))) {
    for (const [resource, quantity] of Object.entries(quantities as ResourceQuantities)) {
      if (quantity !== undefined && !QUANTITY.test(quantity)) {
        throw new Error(`${where}: resources.${kind}.${resource} "${quantity}" is not a Kubernetes quantity (for example "250m", "1", "512Mi").`);
      }
    }
  }
  const shutdown = resolveShutdown(props.shutdown);
  const needed = shutdown.preStopDelay.toSeconds() + shutdown.drainTimeout.toSeconds();
  if (shutdown.terminationGracePeriod.toSeconds() < needed) {
    throw new Error(
      `${where}: terminationGracePeriod (${shutdown.terminationGracePeriod.toSeconds()} s) is shorter than preStopDelay + drainTimeout (${needed} s): ` +
        `the kubelet would SIGKILL the service in the middle of draining. Raise terminationGracePeriod to at least ${needed} s or shorten the drain.`,
    );
  }
}
