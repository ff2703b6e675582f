import { ApiObject, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { completeRestrictedSecurity } from '../common/restricted-pod';
import { HelmChart, PART_OF } from '../helm/helm-chart';
import { Helm, renderIf } from '../helm/helm-token';
import { Tunable, conditionOf, defaultOf, isHelmValue, renderOf, stringOf } from '../helm/helm-values';
import { Patch } from '../helm/patch';
import { DisruptionBudgetOptions, NetworkPeer, PodOptions, ResourceRequirements, SERVICE_DEFAULTS, ServiceMonitorOptions } from '../platform/rallyforge-service';
import { TENANT_CRD_NAME, TENANT_GROUP, TENANT_PLURAL } from './tenant-crd';

/** Ports and endpoints the operator serves (controller-runtime's conventions). */
export const OPERATOR_CONTRACT = {
  metricsPort: 8080,
  metricsPortName: 'http-metrics',
  healthPort: 8081,
  healthPortName: 'health',
  livenessPath: '/healthz',
  readinessPath: '/readyz',
  metricsPath: '/metrics',
} as const;

export const OPERATOR_DEFAULTS = {
  replicas: 2,
  resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } } as ResourceRequirements,
  runAsUser: 1000,
} as const;

const ALL_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

/** A PolicyRule. */
export interface PolicyRule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
  readonly resourceNames?: string[];
}

/**
 * What the operator may do cluster-wide to provision any tenant. The `tenant-admin` Role it writes in each tenant
 * namespace (a read-only view for the organisation's admins) grants only permissions listed here, so the API
 * server's escalation check passes without `escalate` or `bind`; that is the only reason the operator may read pods,
 * their logs, Events and ReplicaSets. `operator/test/tenant/operator-rbac.spec.ts` runs the operator as the chart's
 * ServiceAccount to prove these rules are enough, and refused the rest.
 */
export const TENANT_OPERATOR_RULES: PolicyRule[] = [
  { apiGroups: [TENANT_GROUP], resources: [TENANT_PLURAL], verbs: ['get', 'list', 'watch', 'update', 'patch'] },
  { apiGroups: [TENANT_GROUP], resources: [`${TENANT_PLURAL}/status`], verbs: ['get', 'update', 'patch'] },
  { apiGroups: [TENANT_GROUP], resources: [`${TENANT_PLURAL}/finalizers`], verbs: ['update'] },
  // Deleting the CRD deletes every tenant object: the finalizer checks for that and keeps the tenants' data.
  { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], resourceNames: [TENANT_CRD_NAME], verbs: ['get'] },
  { apiGroups: [''], resources: ['namespaces', 'resourcequotas', 'limitranges', 'secrets'], verbs: ALL_VERBS },
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ALL_VERBS },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: ALL_VERBS },
  { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
  // Held only to grant them in the tenant-admin Role (see above).
  { apiGroups: [''], resources: ['pods', 'pods/log', 'events', 'services', 'configmaps'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch'] },
];

/** Extra permissions to run a dedicated tenant's own copy of the five services. */
export const DEDICATED_TENANT_RULES: PolicyRule[] = [
  { apiGroups: [''], resources: ['services', 'serviceaccounts', 'configmaps', 'persistentvolumeclaims'], verbs: ALL_VERBS },
  { apiGroups: ['apps'], resources: ['deployments'], verbs: ALL_VERBS },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ALL_VERBS },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ALL_VERBS },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ALL_VERBS },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ALL_VERBS },
  { apiGroups: ['monitoring.coreos.com'], resources: ['servicemonitors'], verbs: ALL_VERBS },
];

export interface RallyForgeOperatorProps {
  /** Full image reference of the operator. */
  readonly image: string;
  /** @default 'IfNotPresent' */
  readonly imagePullPolicy?: Tunable<string>;
  /** Objects are called `<namePrefix>-operator`. @default 'rallyforge' */
  readonly namePrefix?: string;
  /** @default namePrefix */
  readonly instance?: string;
  /**
   * Namespace the operator runs in (the subject of its role bindings).
   * @default 'rallyforge-system'
   */
  readonly namespace?: string;
  /** @default 2 (one leader, one warm standby) */
  readonly replicas?: Tunable<number>;
  /**
   * Leader election through a Lease in the operator's namespace. Required with more than one replica.
   * @default true
   */
  readonly leaderElection?: Tunable<boolean>;
  /** @default - requests 50m / 128Mi, limits 500m / 256Mi */
  readonly resources?: Tunable<ResourceRequirements>;
  /** Configuration of the operator (tenancy settings, credentials). @default {} */
  readonly env?: Record<string, kplus.EnvValue>;
  /**
   * Grant what a dedicated tenant's workloads need (Deployments, Services, HPAs, ...). Without it
   * the operator can only provision shared tenants.
   * @default true
   */
  readonly dedicatedTenants?: Tunable<boolean>;
  /** @default - maxUnavailable 1 */
  readonly disruptionBudget?: DisruptionBudgetOptions;
  /** @default - enabled; only monitoring may connect (to the metrics port) */
  readonly networkPolicy?: { readonly enabled?: Tunable<boolean>; readonly monitoring?: NetworkPeer };
  /** @default - enabled */
  readonly serviceMonitor?: ServiceMonitorOptions;
  /** @default {} */
  readonly pod?: PodOptions;
}

/**
 * The RallyForgeTenant operator: a leader-elected Deployment with least-privilege RBAC (a
 * ClusterRole for tenants and their namespaces, a Role for its Lease), a metrics Service,
 * ServiceMonitor, NetworkPolicy and PodDisruptionBudget.
 */
export class RallyForgeOperator extends Construct {
  public readonly name: string;
  public readonly leaseName: string;
  public readonly deployment: kplus.Deployment;
  public readonly serviceAccount: kplus.ServiceAccount;
  public readonly clusterRole: kplus.k8s.KubeClusterRole;
  public readonly role: kplus.k8s.KubeRole;
  public readonly selectorLabels: Record<string, string>;

  public constructor(scope: Construct, id: string, props: RallyForgeOperatorProps) {
    super(scope, id);
    const namePrefix = props.namePrefix ?? 'rallyforge';
    const instance = props.instance ?? namePrefix;
    const namespace = props.namespace ?? 'rallyforge-system';
    this.name = `${namePrefix}-operator`;
    this.leaseName = `${this.name}-leader`;
    this.selectorLabels = { 'app.kubernetes.io/name': 'operator', 'app.kubernetes.io/instance': instance };
    const labels = { ...this.selectorLabels, 'app.kubernetes.io/component': 'operator', 'app.kubernetes.io/part-of': PART_OF };
    const metadata = { name: this.name, labels };
    const replicas = props.replicas ?? OPERATOR_DEFAULTS.replicas;
    const leaderElection = props.leaderElection ?? true;
    if (defaultOf(replicas) > 1 && !defaultOf(leaderElection)) {
      throw new Error(`RallyForgeOperator: ${defaultOf(replicas)} replicas without leader election would reconcile every tenant concurrently. Enable leaderElection or run one replica.`);
    }
    if (isHelmValue(replicas) || isHelmValue(leaderElection)) {
      HelmChart.tryOf(this)?.addValidation({
        condition: `and (gt (int ${isHelmValue(replicas) ? replicas.expr : replicas}) 1) (not ${isHelmValue(leaderElection) ? leaderElection.expr : leaderElection})`,
        message: 'More than one operator replica needs leaderElection.enabled=true, or every replica reconciles every tenant. Enable leader election or set replicas to 1.',
      });
    }

    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', { metadata, automountToken: true });
    this.clusterRole = new kplus.k8s.KubeClusterRole(this, 'ClusterRole', { metadata, rules: TENANT_OPERATOR_RULES });
    const dedicated = props.dedicatedTenants ?? true;
    if (isHelmValue(dedicated)) {
      DEDICATED_TENANT_RULES.forEach((rule) => Patch.add(this.clusterRole, '/rules/-', Helm.when(dedicated.expr, rule)));
    } else if (dedicated) {
      DEDICATED_TENANT_RULES.forEach((rule) => Patch.add(this.clusterRole, '/rules/-', rule));
    }
    new kplus.k8s.KubeClusterRoleBinding(this, 'ClusterRoleBinding', {
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: this.name },
      subjects: [{ kind: 'ServiceAccount', name: this.name, namespace: namespace }],
    });
    // Leader election: only its own Lease, in its own namespace.
    this.role = new kplus.k8s.KubeRole(this, 'LeaderElectionRole', {
      metadata: { name: `${this.name}-leader-election`, labels },
      rules: [
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [this.leaseName], verbs: ['get', 'update', 'patch'] },
      ],
    });
    new kplus.k8s.KubeRoleBinding(this, 'LeaderElectionRoleBinding', {
      metadata: { name: `${this.name}-leader-election`, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${this.name}-leader-election` },
      subjects: [{ kind: 'ServiceAccount', name: this.name, namespace: namespace }],
    });

    const c = OPERATOR_CONTRACT;
    const tmp = kplus.Volume.fromEmptyDir(this, 'Tmp', 'tmp', { sizeLimit: SERVICE_DEFAULTS.tmpSizeLimit });
    this.deployment = new kplus.Deployment(this, 'Deployment', {
      metadata,
      podMetadata: { labels },
      select: false,
      spread: false,
      replicas: defaultOf(replicas),
      serviceAccount: this.serviceAccount,
      automountServiceAccountToken: true,
      // Let an in-flight reconcile finish and the Lease be released.
      terminationGracePeriod: Duration.seconds(30),
      securityContext: { ensureNonRoot: true, user: OPERATOR_DEFAULTS.runAsUser, group: OPERATOR_DEFAULTS.runAsUser, fsGroup: OPERATOR_DEFAULTS.runAsUser },
      containers: [
        {
          name: 'operator',
          image: props.image,
          imagePullPolicy: defaultOf(props.imagePullPolicy ?? 'IfNotPresent') as kplus.ImagePullPolicy,
          ports: [
            { number: c.metricsPort, name: c.metricsPortName },
            { number: c.healthPort, name: c.healthPortName },
          ],
          envVariables: {
            NODE_ENV: kplus.EnvValue.fromValue('production'),
            POD_NAMESPACE: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAMESPACE),
            LEADER_ELECTION: kplus.EnvValue.fromValue(stringOf(leaderElection)),
            LEADER_ELECTION_LEASE_NAME: kplus.EnvValue.fromValue(this.leaseName),
            METRICS_PORT: kplus.EnvValue.fromValue(String(c.metricsPort)),
            HEALTH_PORT: kplus.EnvValue.fromValue(String(c.healthPort)),
            ...props.env,
          },
          startup: kplus.Probe.fromHttpGet(c.livenessPath, { port: c.healthPort, periodSeconds: Duration.seconds(5), failureThreshold: 30 }),
          liveness: kplus.Probe.fromHttpGet(c.livenessPath, { port: c.healthPort, periodSeconds: Duration.seconds(10), failureThreshold: 3 }),
          readiness: kplus.Probe.fromHttpGet(c.readinessPath, { port: c.healthPort, periodSeconds: Duration.seconds(5), failureThreshold: 3 }),
          resources: { cpu: { request: kplus.Cpu.millis(50) }, memory: { request: Size.mebibytes(128) } },
          securityContext: {
            ensureNonRoot: true,
            user: OPERATOR_DEFAULTS.runAsUser,
            group: OPERATOR_DEFAULTS.runAsUser,
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
    completeRestrictedSecurity(deployment, '/spec/template/spec');
    Patch.replace(deployment, '/spec/template/spec/containers/0/resources', renderOf(props.resources ?? OPERATOR_DEFAULTS.resources));
    Patch.replaceIfHelm(deployment, '/spec/replicas', replicas);
    Patch.replaceIfHelm(deployment, '/spec/template/spec/containers/0/imagePullPolicy', props.imagePullPolicy);
    const pod = props.pod ?? {};
    Patch.setOptional(deployment, '/spec/template/metadata/annotations', pod.annotations);
    Patch.setOptional(deployment, '/spec/template/spec/nodeSelector', pod.nodeSelector);
    Patch.setOptional(deployment, '/spec/template/spec/tolerations', pod.tolerations);
    Patch.setOptional(deployment, '/spec/template/spec/affinity', pod.affinity);
    Patch.setOptional(deployment, '/spec/template/spec/imagePullSecrets', pod.imagePullSecrets);

    const metricsName = `${this.name}-metrics`;
    const service = new kplus.Service(this, 'MetricsService', {
      metadata: { name: metricsName, labels },
      ports: [{ name: c.metricsPortName, port: c.metricsPort, targetPort: c.metricsPort, protocol: kplus.Protocol.TCP }],
    });
    for (const [key, value] of Object.entries(this.selectorLabels)) {
      service.selectLabel(key, value);
    }

    const pdb = { enabled: true, maxUnavailable: 1, ...props.disruptionBudget };
    if (isHelmValue(pdb.enabled) || pdb.enabled) {
      const budget = new kplus.k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
        metadata,
        spec: { maxUnavailable: kplus.k8s.IntOrString.fromNumber(defaultOf(pdb.maxUnavailable)), selector: { matchLabels: this.selectorLabels } },
      });
      Patch.replaceIfHelm(budget, '/spec/maxUnavailable', pdb.maxUnavailable);
      this.renderIf(budget, conditionOf(pdb.enabled));
    }

    const netpol = props.networkPolicy ?? {};
    if (isHelmValue(netpol.enabled) || (netpol.enabled ?? true)) {
      const monitoring = netpol.monitoring ?? SERVICE_DEFAULTS.monitoring;
      // Nothing connects to the operator but Prometheus; it only makes outbound connections.
      const policy = new kplus.k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
        metadata,
        spec: {
          podSelector: { matchLabels: this.selectorLabels },
          policyTypes: ['Ingress'],
          ingress: [
            {
              from: [{ namespaceSelector: { matchLabels: defaultOf(monitoring.namespaceLabels) }, podSelector: { matchLabels: defaultOf(monitoring.podLabels) } }],
              ports: [{ port: kplus.k8s.IntOrString.fromNumber(c.metricsPort), protocol: 'TCP' }],
            },
          ],
        },
      });
      Patch.replaceIfHelm(policy, '/spec/ingress/0/from/0/namespaceSelector/matchLabels', monitoring.namespaceLabels);
      Patch.replaceIfHelm(policy, '/spec/ingress/0/from/0/podSelector/matchLabels', monitoring.podLabels);
      this.renderIf(policy, conditionOf(netpol.enabled ?? true));
    }

    const monitor = props.serviceMonitor ?? {};
    if (isHelmValue(monitor.enabled) || (monitor.enabled ?? true)) {
      const serviceMonitor = new ApiObject(this, 'ServiceMonitor', {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata,
        spec: {
          selector: { matchLabels: this.selectorLabels },
          endpoints: [{ port: c.metricsPortName, path: c.metricsPath, interval: renderOf(monitor.interval ?? SERVICE_DEFAULTS.serviceMonitorInterval) }],
        },
      });
      if (HelmChart.tryOf(this)) {
        const served = Helm.apiAvailable('monitoring.coreos.com/v1/ServiceMonitor');
        renderIf(serviceMonitor, isHelmValue(monitor.enabled) ? Helm.and(monitor.enabled.expr, served) : served);
      }
    }
  }

  private renderIf(construct: Construct, condition: string | undefined): void {
    if (condition) {
      renderIf(construct, condition);
    }
  }
}
