import { Testing } from 'cdk8s';
import { Manifest, Manifests, envOf } from '../../test/support/manifests';
import { RallyForgeOperator, RallyForgeOperatorProps } from './rallyforge-operator';

function synth(props: Partial<RallyForgeOperatorProps> = {}): Manifests {
  const chart = Testing.chart();
  new RallyForgeOperator(chart, 'operator', { image: 'ghcr.io/rallyforge/operator:1.0.0', namespace: 'rf-system', ...props });
  return Manifests.of(chart);
}

function rulesFor(rules: Manifest[], group: string, resource: string): string[] {
  return rules.filter((r) => r.apiGroups.includes(group) && r.resources.includes(resource)).flatMap((r) => r.verbs);
}

describe('RallyForgeOperator', () => {
  const m = synth();
  const rules: Manifest[] = m.get('ClusterRole').rules;

  it('runs two leader-elected replicas with the restricted security context', () => {
    const deployment = m.get('Deployment', 'rallyforge-operator');
    expect(deployment.spec.replicas).toBe(2);
    const pod = deployment.spec.template.spec;
    const [operator] = pod.containers;
    expect(operator.image).toBe('ghcr.io/rallyforge/operator:1.0.0');
    expect(envOf(operator).LEADER_ELECTION.value).toBe('true');
    expect(envOf(operator).LEADER_ELECTION_LEASE_NAME.value).toBe('rallyforge-operator-leader');
    expect(envOf(operator).POD_NAMESPACE.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.namespace' } });
    expect(operator.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(operator.livenessProbe.httpGet).toMatchObject({ path: '/healthz', port: 8081 });
    expect(operator.readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: 8081 });
  });

  it('manages tenants, their status and finalizers, but cannot create or delete them', () => {
    expect(rulesFor(rules, 'rallyforge.io', 'rallyforgetenants')).toEqual(['get', 'list', 'watch', 'update', 'patch']);
    expect(rulesFor(rules, 'rallyforge.io', 'rallyforgetenants/status')).toEqual(['get', 'update', 'patch']);
    expect(rulesFor(rules, 'rallyforge.io', 'rallyforgetenants/finalizers')).toEqual(['update']);
  });

  it('manages tenant namespaces, quotas, limit ranges, network policies, roles and secrets; records events', () => {
    for (const [group, resource] of [
      ['', 'namespaces'],
      ['', 'resourcequotas'],
      ['', 'limitranges'],
      ['', 'secrets'],
      ['networking.k8s.io', 'networkpolicies'],
      ['rbac.authorization.k8s.io', 'roles'],
      ['rbac.authorization.k8s.io', 'rolebindings'],
    ]) {
      expect(rulesFor(rules, group, resource)).toEqual(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']);
    }
    expect(rulesFor(rules, 'events.k8s.io', 'events')).toEqual(['create', 'patch']);
  });

  it('holds no wildcard, escalate, bind or impersonate permission, and no cluster-wide role management', () => {
    for (const rule of rules) {
      expect([...rule.apiGroups, ...rule.resources, ...rule.verbs]).not.toContain('*');
      expect(rule.verbs).not.toEqual(expect.arrayContaining(['escalate']));
      expect(rule.verbs).not.toEqual(expect.arrayContaining(['bind']));
      expect(rule.verbs).not.toEqual(expect.arrayContaining(['impersonate']));
      expect(rule.resources).not.toEqual(expect.arrayContaining(['clusterroles']));
      expect(rule.resources).not.toEqual(expect.arrayContaining(['clusterrolebindings']));
    }
  });

  it('can run dedicated tenants\' workloads unless told otherwise', () => {
    expect(rulesFor(rules, 'apps', 'deployments')).toContain('create');
    expect(rulesFor(rules, 'autoscaling', 'horizontalpodautoscalers')).toContain('create');
    const shared = synth({ dedicatedTenants: false }).get('ClusterRole').rules as Manifest[];
    // Without the dedicated tier: read only, held to grant the tenant admins' view (RBAC's escalation check).
    expect(rulesFor(shared, 'apps', 'deployments')).toEqual(['get', 'list', 'watch']);
    expect(rulesFor(shared, 'batch', 'jobs')).toEqual(['get', 'list', 'watch']);
    expect(rulesFor(shared, 'autoscaling', 'horizontalpodautoscalers')).toEqual([]);
  });

  it('touches only its own Lease, in its own namespace', () => {
    expect(m.get('Role').rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['rallyforge-operator-leader'], verbs: ['get', 'update', 'patch'] },
    ]);
    expect(m.get('RoleBinding').subjects).toEqual([{ kind: 'ServiceAccount', name: 'rallyforge-operator', namespace: 'rf-system' }]);
    expect(m.get('ClusterRoleBinding').subjects).toEqual([{ kind: 'ServiceAccount', name: 'rallyforge-operator', namespace: 'rf-system' }]);
  });

  it('admits only monitoring, on the metrics port', () => {
    expect(m.get('NetworkPolicy').spec.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } }],
        ports: [{ port: 8080, protocol: 'TCP' }],
      },
    ]);
    expect(m.get('ServiceMonitor').spec.endpoints).toEqual([{ port: 'http-metrics', path: '/metrics', interval: '30s' }]);
    expect(m.get('Service').spec.ports).toEqual([{ name: 'http-metrics', port: 8080, targetPort: 8080, protocol: 'TCP' }]);
  });

  it('refuses several replicas without leader election', () => {
    expect(() => synth({ replicas: 2, leaderElection: false })).toThrow(/2 replicas without leader election.*Enable leaderElection or run one replica/);
    expect(() => synth({ replicas: 1, leaderElection: false })).not.toThrow();
  });

  it('matches the snapshot', () => {
    expect(m.all).toMatchSnapshot();
  });
});
