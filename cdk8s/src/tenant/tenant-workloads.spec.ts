import { App } from 'cdk8s';
import { envOf } from '../../test/support/manifests';
import { CHART_VERSION } from '../charts';
import { RallyForgePlatformChart } from '../platform/platform-chart';
import { SERVICE_NAMES } from '../platform/service-contract';
import {
  KubernetesManifest,
  TenantWorkloadsError,
  TenantWorkloadsOptions,
  TenantWorkloadsQuota,
  planTenantReplicas,
  renderTenantWorkloads,
  tenantWorkloadsSelector,
} from './tenant-workloads';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

const BASE: TenantWorkloadsOptions = { tenantId: 'acme', credentialsSecretName: 'acme-credentials' };

function render(options: Partial<TenantWorkloadsOptions> = {}) {
  return renderTenantWorkloads({ ...BASE, ...options });
}

function of(objects: KubernetesManifest[], kind: string): Loose[] {
  return objects.filter((o) => o.kind === kind) as Loose[];
}

function container(deployment: Loose): Loose {
  return deployment.spec.template.spec.containers[0];
}

/** Every string anywhere in an object. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]);
  return [];
}

describe('renderTenantWorkloads', () => {
  const acme = render({ quota: { pods: 60, cpu: '16', memory: '32Gi' }, allowedNamespaces: ['partner-portal'] });
  const deployments = of(acme.objects, 'Deployment');

  it('renders the five services into rf-<id>, labelled for the operator and the tenant', () => {
    expect(acme.namespace).toBe('rf-acme');
    expect(acme.deployments).toEqual(SERVICE_NAMES.map((s) => `rallyforge-${s}`).sort());
    expect(deployments.map((d) => d.metadata.name)).toEqual(acme.deployments);
    for (const obj of acme.objects) {
      expect({ object: `${obj.kind}/${obj.metadata.name}`, namespace: obj.metadata.namespace }).toEqual({ object: `${obj.kind}/${obj.metadata.name}`, namespace: 'rf-acme' });
      expect(obj.metadata.labels).toMatchObject({
        'app.kubernetes.io/managed-by': 'rallyforge-operator',
        'app.kubernetes.io/part-of': 'rallyforge',
        'rallyforge.io/tenant': 'acme',
      });
    }
    expect(acme.selector).toBe(tenantWorkloadsSelector('acme'));
    expect(acme.selector).toContain('rallyforge.io/tenant=acme');
  });

  it('gives each service all three probes, on the service kit endpoints', () => {
    for (const d of deployments) {
      const c = container(d);
      expect([c.startupProbe?.httpGet.path, c.livenessProbe?.httpGet.path, c.readinessProbe?.httpGet.path]).toEqual(['/health/startup', '/health/live', '/health/ready']);
    }
  });

  it('runs every pod under the restricted Pod Security Standard', () => {
    for (const pod of [...deployments, ...of(acme.objects, 'Job')].map((o) => o.spec.template.spec)) {
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({
          runAsNonRoot: true,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          privileged: false,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
      }
    }
  });

  it("wires each service to the tenant's own credentials Secret", () => {
    const secretRefs = (name: string) => envOf(container(deployments.find((d) => d.metadata.name === `rallyforge-${name}`)!));
    for (const service of ['auth', 'claims', 'payments', 'documents']) {
      const env = secretRefs(service);
      expect(env.DATABASE_URL.valueFrom).toEqual({ secretKeyRef: { name: 'acme-credentials', key: `${service.toUpperCase()}_DATABASE_URL` } });
      expect(env.AMQP_URL.valueFrom).toEqual({ secretKeyRef: { name: 'acme-credentials', key: 'AMQP_URL' } });
      expect(env.REDIS_URL.valueFrom).toEqual({ secretKeyRef: { name: 'acme-credentials', key: 'REDIS_URL' } });
    }
    expect(secretRefs('realtime').DATABASE_URL).toBeUndefined();
    expect(secretRefs('auth').AUTH_KEY_ENCRYPTION_KEY.valueFrom).toEqual({ secretKeyRef: { name: 'acme-credentials', key: 'AUTH_KEY_ENCRYPTION_KEY' } });
    // Every Secret any pod reads is the tenant's.
    const secretNames = new Set(
      [...deployments, ...of(acme.objects, 'Job')].flatMap((o) => o.spec.template.spec.containers.flatMap((c: Loose) => (c.env as Loose[]).filter((e) => e.valueFrom).map((e) => e.valueFrom.secretKeyRef.name))),
    );
    expect([...secretNames]).toEqual(['acme-credentials']);
  });

  it("points the services at the tenant's own auth, serving one tenant", () => {
    for (const d of deployments.filter((x) => x.metadata.name !== 'rallyforge-auth')) {
      // A namespace-relative Service name: the auth Service in rf-acme, never another namespace's.
      expect(envOf(container(d)).AUTH_JWKS_URL.value).toBe('http://rallyforge-auth:3000/api/v1/auth/.well-known/jwks.json');
    }
    for (const d of deployments) {
      const env = envOf(container(d));
      expect([env.TENANCY_MODE.value, env.TENANT_ID.value, env.NODE_ENV.value]).toEqual(['dedicated', 'acme', 'production']);
      expect(env.AUTH_ISSUER.value).toBe('urn:rallyforge:tenant:acme');
    }
  });

  it('sets the same environment variables as the platform chart, plus the tenant-only ones', () => {
    const app = new App();
    const platform = new RallyForgePlatformChart(app, 'rallyforge', { appVersion: CHART_VERSION }).toJson() as Loose[];
    for (const service of SERVICE_NAMES) {
      const names = (objs: Loose[]) => (container(objs.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith(`-${service}`))!).env as Loose[]).map((e) => e.name).sort();
      const extra = service === 'auth' ? ['AUTH_KEY_ENCRYPTION_KEY'] : [];
      expect(names(deployments)).toEqual([...names(platform), ...extra].sort());
    }
  });

  it('uses the platform images by default and the given ones otherwise', () => {
    expect(container(deployments[1]).image).toBe(`ghcr.io/rallyforge/claims:${CHART_VERSION}`);
    // Empty settings are unset ones.
    const blank = render({ image: { registry: '', repositoryPrefix: '', tag: '' } });
    expect(container(of(blank.objects, 'Deployment')[1]).image).toBe(`ghcr.io/rallyforge/claims:${CHART_VERSION}`);
    const custom = render({ image: { registry: 'registry.example.org:5000', repositoryPrefix: 'rf/svc', tag: '2.0.1', pullPolicy: 'Always' } });
    for (const obj of [...of(custom.objects, 'Deployment'), ...of(custom.objects, 'Job')]) {
      const c = container(obj);
      expect(c.image).toMatch(/^registry\.example\.org:5000\/rf\/svc\/(auth|claims|payments|documents|realtime):2\.0\.1$/);
      expect(c.imagePullPolicy).toBe('Always');
    }
  });

  it('mentions no other tenant anywhere', () => {
    const text = strings(acme.objects).join('\n');
    expect(text).not.toMatch(/\bglobex\b/);
    const globex = render({ tenantId: 'globex', credentialsSecretName: 'globex-credentials' });
    const globexText = strings(globex.objects).join('\n');
    expect(globexText).not.toMatch(/acme/);
    expect(globex.namespace).toBe('rf-globex');
  });

  it('admits the ingress controller, monitoring, the platform and the allowed namespaces, and auth its callers', () => {
    const auth = of(acme.objects, 'NetworkPolicy').find((p) => p.metadata.name === 'rallyforge-auth')!;
    const namespaces = (auth.spec.ingress as Loose[]).flatMap((rule) => rule.from.map((peer: Loose) => peer.namespaceSelector?.matchLabels['kubernetes.io/metadata.name'])).filter(Boolean);
    expect(namespaces).toEqual(['ingress-nginx', 'monitoring', 'rallyforge-system', 'partner-portal']);
    const callers = (auth.spec.ingress as Loose[]).flatMap((rule) => rule.from.filter((peer: Loose) => !peer.namespaceSelector).map((peer: Loose) => peer.podSelector.matchLabels['app.kubernetes.io/name']));
    expect(callers).toEqual(['claims', 'payments', 'documents', 'realtime']);
    const none = render({ ingressControllerNamespace: '', monitoringNamespace: '', platformNamespace: '' });
    const claims = of(none.objects, 'NetworkPolicy').find((p) => p.metadata.name === 'rallyforge-claims')!;
    // Admits nothing; no `ingress: []`, which the API server would drop (and every apply would write again).
    expect(claims.spec).not.toHaveProperty('ingress');
    expect(claims.spec.policyTypes).toEqual(['Ingress']);
    // Peers that are whole namespaces carry no empty podSelector (normalised away by the API server too).
    const partner = of(acme.objects, 'NetworkPolicy')[0].spec.ingress[0].from[0];
    expect(partner).toEqual({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } });
  });

  it('runs a migration Job per database service, named after its spec', () => {
    expect(acme.migrationJobs).toHaveLength(4);
    for (const [i, service] of ['auth', 'claims', 'documents', 'payments'].entries()) {
      expect(acme.migrationJobs[i]).toMatch(new RegExp(`^rallyforge-${service}-migrate-[0-9a-f]{10}$`));
    }
    const job = of(acme.objects, 'Job')[0];
    expect(job.metadata.annotations ?? {}).toEqual({});
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(container(job).command).toEqual(['node', 'dist/migrate.js']);
    expect(envOf(container(job)).MIGRATION_DATABASE_URL.valueFrom).toEqual({ secretKeyRef: { name: 'acme-credentials', key: 'AUTH_MIGRATION_DATABASE_URL' } });
    // Same spec, same name (a re-apply is a no-op); a new image, a new Job (the template is immutable).
    expect(render({ quota: { pods: 60, cpu: '16', memory: '32Gi' } }).migrationJobs).toEqual(acme.migrationJobs);
    const upgraded = render({ image: { tag: '9.9.9' } }).migrationJobs;
    expect(upgraded.filter((name) => acme.migrationJobs.includes(name))).toEqual([]);
  });

  it('is deterministic', () => {
    expect(render({ quota: { pods: 60, cpu: '16', memory: '32Gi' }, allowedNamespaces: ['partner-portal'] })).toEqual(acme);
  });

  it('orders objects so that policies and accounts come before the pods', () => {
    const kinds = acme.objects.map((o) => o.kind);
    expect(kinds.indexOf('NetworkPolicy')).toBe(0);
    expect(kinds.lastIndexOf('ServiceAccount')).toBeLessThan(kinds.indexOf('Deployment'));
    expect(kinds.lastIndexOf('Job')).toBeLessThan(kinds.indexOf('Deployment'));
  });

  it('leaves out ServiceMonitors and Ingresses unless asked', () => {
    expect(acme.objects.map((o) => o.kind)).not.toContain('ServiceMonitor');
    expect(acme.objects.map((o) => o.kind)).not.toContain('Ingress');
    const exposed = render({ host: 'acme.rallyforge.example.org', tlsSecretName: 'acme-tls', serviceMonitor: true });
    const ingresses = of(exposed.objects, 'Ingress');
    expect(ingresses.map((i) => i.spec.rules[0].host)).toEqual(['acme.rallyforge.example.org', 'acme.rallyforge.example.org']);
    expect(ingresses[0].spec.tls).toEqual([{ hosts: ['acme.rallyforge.example.org'], secretName: 'acme-tls' }]);
    expect(of(exposed.objects, 'ServiceMonitor')).toHaveLength(5);
    // Plain manifests: no Helm leftovers.
    expect(strings(exposed.objects).join('\n')).not.toMatch(/@@helm:|helm\.rallyforge\.io|helm\.sh\/|cdk8s\.io\/metadata\.addr/);
    const env = envOf(container(of(exposed.objects, 'Deployment')[0]));
    expect([env.AUTH_ISSUER.value, env.CORS_ORIGINS.value]).toEqual(['https://acme.rallyforge.example.org', 'https://acme.rallyforge.example.org']);
  });

  describe('suspended', () => {
    const suspended = render({ suspended: true, quota: { pods: 60 } });

    it('scales every Deployment to 0 and has no HorizontalPodAutoscaler and no migration Job', () => {
      expect(of(suspended.objects, 'Deployment').map((d) => d.spec.replicas)).toEqual([0, 0, 0, 0, 0]);
      expect(of(suspended.objects, 'HorizontalPodAutoscaler')).toEqual([]);
      expect(suspended.migrationJobs).toEqual([]);
      expect(suspended.replicas).toMatchObject({ minReplicas: 0, maxReplicas: 0, worstCase: { pods: 0 } });
    });

    it('keeps everything else, so that resuming changes only the replica owner', () => {
      const names = (objs: KubernetesManifest[]) => objs.filter((o) => !['HorizontalPodAutoscaler', 'Job'].includes(o.kind)).map((o) => `${o.kind}/${o.metadata.name}`);
      expect(names(suspended.objects)).toEqual(names(acme.objects));
    });
  });

  describe('active', () => {
    it('leaves replicas to the HorizontalPodAutoscaler (no spec.replicas to fight over)', () => {
      for (const d of deployments) expect(d.spec.replicas).toBeUndefined();
      expect(of(acme.objects, 'HorizontalPodAutoscaler').map((h) => h.spec.scaleTargetRef.name)).toEqual(acme.deployments);
    });
  });
});

describe('replicas derived from the quota', () => {
  /** Worst case of the rendered objects: every Deployment at maxReplicas plus its 25 % surge, every Job running. */
  function worstCase(objects: KubernetesManifest[]) {
    const hpas = of(objects, 'HorizontalPodAutoscaler');
    const cpu = (q: string) => (q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000);
    const mem = (q: string) => Number(q.replace(/Mi$/, '')) * 2 ** 20;
    let pods = 0;
    let cpuMillis = 0;
    let memoryBytes = 0;
    for (const obj of [...of(objects, 'Deployment'), ...of(objects, 'Job')]) {
      const hpa = hpas.find((h) => h.spec.scaleTargetRef.name === obj.metadata.name);
      const count = obj.kind === 'Job' ? 1 : hpa ? hpa.spec.maxReplicas + Math.ceil(hpa.spec.maxReplicas * 0.25) : obj.spec.replicas;
      const requests = container(obj).resources.requests;
      pods += count;
      cpuMillis += count * cpu(requests.cpu);
      memoryBytes += count * mem(requests.memory);
    }
    return { pods, cpuMillis, memoryBytes };
  }

  it.each([
    [{ pods: 14 }, 1, 1],
    [{ pods: 20 }, 2, 2],
    [{ pods: 34 }, 3, 4],
    [{ pods: 1000 }, 3, 10],
    [{ pods: 1000, cpu: '4' }, 3, 5],
    [{ pods: 1000, memory: '8Gi' }, 3, 4],
    [{}, 3, 10],
  ] as Array<[TenantWorkloadsQuota, number, number]>)('quota %j gives %i to %i replicas per service, and the worst case fits', (quota, min, max) => {
    const rendered = renderTenantWorkloads({ ...BASE, quota });
    for (const hpa of of(rendered.objects, 'HorizontalPodAutoscaler')) {
      expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([min, max]);
    }
    const worst = worstCase(rendered.objects);
    expect(worst).toEqual(rendered.replicas.worstCase);
    if (quota.pods !== undefined) expect(worst.pods).toBeLessThanOrEqual(quota.pods);
    if (quota.cpu !== undefined) expect(worst.cpuMillis).toBeLessThanOrEqual(Number(quota.cpu) * 1000);
    if (quota.memory !== undefined) expect(worst.memoryBytes).toBeLessThanOrEqual(8 * 2 ** 30);
    // One more replica per service would not fit (below the ceiling of 10).
    if (max < 10) {
      const next = planTenantReplicas({ autoscaling: { minReplicas: 1, maxReplicas: max + 1 } }).worstCase;
      const over = (quota.pods !== undefined && next.pods > quota.pods) || (quota.cpu !== undefined && next.cpuMillis > Number(quota.cpu) * 1000) || (quota.memory !== undefined && next.memoryBytes > 8 * 2 ** 30);
      expect(over).toBe(true);
    }
  });

  it('refuses a quota too small for one replica of each service, saying what it needs', () => {
    expect(() => render({ quota: { pods: 13 } })).toThrow(TenantWorkloadsError);
    expect(() => render({ quota: { pods: 13 } })).toThrow(/at least pods 14, cpu 1400m and memory 3840Mi.*spec\.quota is pods 13/);
    try {
      render({ quota: { cpu: '500m' } });
      throw new Error('expected a TenantWorkloadsError');
    } catch (error) {
      expect((error as TenantWorkloadsError).reason).toBe('QuotaTooSmall');
    }
  });

  it('needs no quota at all when suspended', () => {
    expect(render({ suspended: true, quota: { pods: 1 } }).replicas.maxReplicas).toBe(0);
  });

  it('refuses a documents volume larger than the storage quota', () => {
    expect(() => render({ documentsStorage: { type: 'persistentVolumeClaim', size: '20Gi' }, quota: { storage: '10Gi' } })).toThrow(/documentsStorage\.size 20Gi does not fit spec\.quota\.storage 10Gi/);
    const pvc = render({ documentsStorage: { type: 'persistentVolumeClaim', size: '5Gi' }, quota: { storage: '10Gi' } });
    expect(of(pvc.objects, 'PersistentVolumeClaim').map((p) => [p.metadata.name, p.spec.resources.requests.storage])).toEqual([['rallyforge-documents-data', '5Gi']]);
  });
});

describe('invalid options', () => {
  it.each([
    [{ tenantId: 'Acme' }, /tenantId "Acme"/],
    [{ tenantId: 'a'.repeat(41) }, /at most 40 characters/],
    [{ credentialsSecretName: '' }, /credentialsSecretName "" is not a Secret name/],
    [{ allowedNamespaces: ['Bad_NS'] }, /allowedNamespaces entry "Bad_NS" is not a namespace name/],
    [{ image: { tag: 'v1 beta' } }, /image.tag "v1 beta"/],
    [{ quota: { cpu: 'lots' } }, /quota.cpu "lots" is not a positive Kubernetes quantity/],
    [{ tlsSecretName: 'tls' }, /tlsSecretName needs a host/],
  ] as Array<[Partial<TenantWorkloadsOptions>, RegExp]>)('%j is refused', (options, message) => {
    let thrown: unknown;
    try {
      render(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TenantWorkloadsError);
    expect((thrown as TenantWorkloadsError).reason).toBe('InvalidOptions');
    expect((thrown as Error).message).toMatch(message);
  });
});

describe('the platform chart is unchanged by the tenant extensions', () => {
  it('still renders Helm hook migration Jobs under their fixed names', () => {
    const app = new App();
    const objects = new RallyForgePlatformChart(app, 'rallyforge', { appVersion: CHART_VERSION }).toJson() as Loose[];
    const jobs = objects.filter((o) => o.kind === 'Job');
    expect(jobs).toHaveLength(4);
    for (const job of jobs) expect(job.metadata.annotations['helm.sh/hook']).toBeDefined();
  });
});
