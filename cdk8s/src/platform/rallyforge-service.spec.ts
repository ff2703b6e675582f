import { Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Manifests, envOf } from '../../test/support/manifests';
import { HelmChart } from '../helm/helm-chart';
import { RENDER_IF_ANNOTATION, wholeToken } from '../helm/helm-token';
import { renderTemplate } from '../helm/template-renderer';
import { RallyForgeService, RallyForgeServiceProps } from './rallyforge-service';

function synth(props: Partial<RallyForgeServiceProps> = {}): Manifests {
  const chart = Testing.chart();
  new RallyForgeService(chart, 'claims', { service: 'claims', image: 'ghcr.io/rallyforge/claims:1.0.0', ...props });
  return Manifests.of(chart);
}

describe('RallyForgeService', () => {
  describe('with its defaults', () => {
    const m = synth();
    const deployment = m.get('Deployment', 'rallyforge-claims');
    const pod = deployment.spec.template.spec;
    const [app] = pod.containers;

    it('creates one of each object, all named after the service', () => {
      expect(m.kinds().sort()).toEqual(
        ['Deployment', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'PodDisruptionBudget', 'Service', 'ServiceAccount', 'ServiceMonitor'].sort(),
      );
      expect(new Set(m.all.map((o) => o.metadata.name))).toEqual(new Set(['rallyforge-claims']));
    });

    it("probes the service kit's health endpoints on port 3000", () => {
      expect(app.name).toBe('app');
      expect(app.ports).toEqual([{ containerPort: 3000, name: 'http' }]);
      expect(app.startupProbe).toMatchObject({ httpGet: { path: '/health/startup', port: 3000 }, periodSeconds: 5, failureThreshold: 30 });
      expect(app.livenessProbe).toMatchObject({ httpGet: { path: '/health/live', port: 3000 }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 });
      expect(app.readinessProbe).toMatchObject({ httpGet: { path: '/health/ready', port: 3000 }, periodSeconds: 5, failureThreshold: 3 });
    });

    it('sets resource requests and limits as written', () => {
      expect(app.resources).toEqual({ requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } });
    });

    it('runs with the restricted security context and a writable /tmp only', () => {
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
      expect(app.securityContext).toEqual({
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        privileged: false,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(app.volumeMounts).toEqual([{ mountPath: '/tmp', name: 'tmp' }]);
      expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }]);
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.serviceAccountName).toBe('rallyforge-claims');
      expect(deployment.spec.template.metadata.labels['cdk8s.io/metadata.addr']).toBeUndefined();
    });

    it('gives the drain time room: preStop 5 s, SHUTDOWN_TIMEOUT_MS 20000, grace period 30 s', () => {
      expect(app.lifecycle.preStop.exec.command).toEqual(['node', '-e', 'setTimeout(() => {}, 5000)']);
      expect(envOf(app).SHUTDOWN_TIMEOUT_MS.value).toBe('20000');
      expect(pod.terminationGracePeriodSeconds).toBe(30);
    });

    it('sets the contract environment', () => {
      const env = envOf(app);
      expect(env.NODE_ENV.value).toBe('production');
      expect(env.PORT.value).toBe('3000');
      expect(env.SERVICE_NAME.value).toBe('claims');
    });

    it('spreads pods across zones and nodes without blocking scheduling', () => {
      const selector = { 'app.kubernetes.io/name': 'claims', 'app.kubernetes.io/instance': 'rallyforge' };
      expect(pod.topologySpreadConstraints).toEqual(
        ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'].map((topologyKey) => ({
          topologyKey,
          maxSkew: 1,
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: { matchLabels: selector },
          matchLabelKeys: ['pod-template-hash'],
        })),
      );
    });

    it('leaves the replica count to the HPA and never runs below capacity during a rollout', () => {
      expect(deployment.spec.replicas).toBeUndefined();
      expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } });
      expect(deployment.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'claims', 'app.kubernetes.io/instance': 'rallyforge' });
    });

    it('scales 3 to 10 replicas on CPU 70 % and memory 80 % with a 300 s scale-down window', () => {
      const hpa = m.get('HorizontalPodAutoscaler');
      expect(hpa.apiVersion).toBe('autoscaling/v2');
      expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 10, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'rallyforge-claims' } });
      expect(hpa.spec.metrics).toEqual([
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
        { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 80 } } },
      ]);
      expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(300);
    });

    it('exposes port 3000 as "http" to its own pods only', () => {
      const service = m.get('Service');
      expect(service.spec.ports).toEqual([{ name: 'http', port: 3000, targetPort: 3000, protocol: 'TCP' }]);
      expect(service.spec.selector).toEqual({ 'app.kubernetes.io/name': 'claims', 'app.kubernetes.io/instance': 'rallyforge' });
    });

    it('allows one voluntary disruption at a time', () => {
      expect(m.get('PodDisruptionBudget').spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: deployment.spec.selector.matchLabels } });
    });

    it('admits only the ingress controller and monitoring on port 3000', () => {
      const policy = m.get('NetworkPolicy').spec;
      expect(policy.policyTypes).toEqual(['Ingress']);
      expect(policy.ingress).toEqual([
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } } }],
          ports: [{ port: 3000, protocol: 'TCP' }],
        },
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }],
          ports: [{ port: 3000, protocol: 'TCP' }],
        },
      ]);
    });

    it('has Prometheus scrape /metrics on the http port', () => {
      expect(m.get('ServiceMonitor').spec).toEqual({
        selector: { matchLabels: deployment.spec.selector.matchLabels },
        endpoints: [{ port: 'http', path: '/metrics', interval: '30s' }],
      });
    });

    it('matches the snapshot', () => {
      expect(m.all).toMatchSnapshot();
    });
  });

  it('admits the platform services that call it', () => {
    const chart = Testing.chart();
    const auth = new RallyForgeService(chart, 'auth', { service: 'auth', image: 'a' });
    const claims = new RallyForgeService(chart, 'claims', { service: 'claims', image: 'c' });
    auth.allowFrom(claims);
    const policy = Manifests.of(chart).get('NetworkPolicy', 'rallyforge-auth');
    expect(policy.spec.ingress[2]).toEqual({
      from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'claims', 'app.kubernetes.io/instance': 'rallyforge' } } }],
      ports: [{ port: 3000, protocol: 'TCP' }],
    });
    expect(() => auth.allowFrom(auth)).toThrow(/cannot list itself/);
  });

  it('runs a fixed replica count without an HPA when autoscaling is off', () => {
    const m = synth({ autoscaling: { enabled: false }, replicas: 2 });
    expect(m.list('HorizontalPodAutoscaler')).toHaveLength(0);
    expect(m.get('Deployment').spec.replicas).toBe(2);
  });

  it('leaves out what is switched off', () => {
    const m = synth({ disruptionBudget: { enabled: false }, networkPolicy: { enabled: false }, serviceMonitor: { enabled: false } });
    expect(m.kinds().sort()).toEqual(['Deployment', 'HorizontalPodAutoscaler', 'Service', 'ServiceAccount']);
  });

  it('admits whole namespaces, can leave out the default peers, and never renders an empty rule list', () => {
    const m = synth({ networkPolicy: { ingressController: null, monitoring: { namespaceLabels: { team: 'obs' }, podLabels: {} }, allowedNamespaces: ['partners', 'rallyforge-system', 'partners'] } });
    expect(m.get('NetworkPolicy').spec.ingress).toEqual([
      // An empty pod selector is left out (the API server drops it; keeping it would make every apply a write).
      { from: [{ namespaceSelector: { matchLabels: { team: 'obs' } } }], ports: [{ port: 3000, protocol: 'TCP' }] },
      {
        from: [
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'partners' } } },
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'rallyforge-system' } } },
        ],
        ports: [{ port: 3000, protocol: 'TCP' }],
      },
    ]);
    const closed = synth({ networkPolicy: { ingressController: null, monitoring: null } }).get('NetworkPolicy').spec;
    expect(closed).toEqual({ podSelector: closed.podSelector, policyTypes: ['Ingress'] });
    expect(() => synth({ networkPolicy: { allowedNamespaces: ['Not_A_Namespace'] } })).toThrow(/allowedNamespaces entry "Not_A_Namespace" is not a namespace name/);
  });

  it('renders no Helm-only annotation outside a Helm chart', () => {
    const monitor = synth().get('ServiceMonitor');
    expect(monitor.metadata.annotations).toBeUndefined();
  });

  it('mounts extra volumes and adds extra env and pod placement', () => {
    const m = synth({
      volumes: [{ name: 'data', mountPath: '/data', source: { emptyDir: {} } }],
      extraEnv: [{ name: 'EXTRA', value: '1' }],
      env: { LOG_LEVEL: kplus.EnvValue.fromValue('debug') },
      pod: { nodeSelector: { disk: 'ssd' }, annotations: {}, imagePullSecrets: [{ name: 'pull' }] },
    });
    const pod = m.get('Deployment').spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: 'data', emptyDir: {} });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
    expect(envOf(pod.containers[0]).EXTRA.value).toBe('1');
    expect(envOf(pod.containers[0]).LOG_LEVEL.value).toBe('debug');
    expect(pod.nodeSelector).toEqual({ disk: 'ssd' });
    expect(pod.imagePullSecrets).toEqual([{ name: 'pull' }]);
    expect(m.get('Deployment').spec.template.metadata.annotations).toBeUndefined();
  });

  describe('validation', () => {
    it.each([
      [{ shutdown: { terminationGracePeriod: Duration.seconds(20) } }, /terminationGracePeriod \(20 s\) is shorter than preStopDelay \+ drainTimeout \(25 s\).*at least 25 s/],
      [{ autoscaling: { minReplicas: 5, maxReplicas: 4 } }, /maxReplicas \(4\) is lower than minReplicas \(5\)/],
      [{ autoscaling: { minReplicas: 0 } }, /minReplicas must be an integer >= 1/],
      [{ autoscaling: { cpuUtilization: 120 } }, /cpuUtilization is a percentage of the requests, between 1 and 100/],
      [{ replicas: -1, autoscaling: { enabled: false } }, /replicas must be a non-negative integer/],
      [{ resources: { limits: { cpu: '1' } } }, /requests.cpu and resources.requests.memory are required/],
      [{ resources: { requests: { cpu: 'lots', memory: '1Gi' } } }, /"lots" is not a Kubernetes quantity/],
    ])('refuses %o', (props, message) => {
      expect(() => synth(props as Partial<RallyForgeServiceProps>)).toThrow(message);
    });
  });

  describe('bound to Helm values', () => {
    function helmSynth() {
      const chart = new HelmChart(Testing.app(), 'c', { chartName: 'demo', description: 'Demo.', appVersion: '1.0.0' });
      const v = chart.values;
      new RallyForgeService(chart, 'claims', {
        service: 'claims',
        image: 'img',
        namePrefix: chart.fullname,
        replicas: v.integer('replicas', 3, { description: 'R.' }),
        autoscaling: { enabled: v.boolean('hpa', true, { description: 'H.' }), minReplicas: v.integer('min', 3, { description: 'Min.' }) },
        resources: v.object('resources', { requests: { cpu: '1', memory: '1Gi' } }, { description: 'Res.' }),
        probes: { liveness: { periodSeconds: v.integer('period', 10, { description: 'P.' }) } },
        disruptionBudget: { enabled: v.boolean('pdb', true, { description: 'PDB.' }) },
      });
      return { chart, m: Manifests.of(chart) };
    }

    it('templates the tunable fields and makes the HPA and PDB conditional', () => {
      const { chart, m } = helmSynth();
      const deployment = m.get('Deployment');
      expect(wholeToken(deployment.spec.replicas)).toEqual({ kind: 'if', condition: 'not (.Values.hpa)', value: expect.any(String) });
      expect(wholeToken(deployment.spec.template.spec.containers[0].resources)).toMatchObject({ kind: 'yaml', expr: '.Values.resources' });
      expect(wholeToken(deployment.spec.template.spec.containers[0].livenessProbe.periodSeconds)).toMatchObject({ expr: '.Values.period', type: 'raw' });
      expect(m.get('HorizontalPodAutoscaler').metadata.annotations[RENDER_IF_ANNOTATION]).toBe('.Values.hpa');
      expect(m.get('PodDisruptionBudget').metadata.annotations[RENDER_IF_ANNOTATION]).toBe('.Values.pdb');
      expect(m.get('ServiceMonitor').metadata.annotations[RENDER_IF_ANNOTATION]).toBe('.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor"');
      expect(chart.toModel().validations).toEqual([{ condition: 'gt (int .Values.min) (int 10)', message: expect.stringMatching(/minReplicas is greater than maxReplicas/) }]);
    });

    it('renders the replica count only without the HPA', () => {
      const { m } = helmSynth();
      const text = renderTemplate(m.get('Deployment'));
      expect(text).toContain('{{- if not (.Values.hpa) }}\n  replicas: {{ .Values.replicas }}\n{{- end }}');
      expect(text).toContain('name: "{{ include "demo.fullname" $ }}-claims"');
    });
  });
});
