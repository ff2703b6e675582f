import { Testing } from 'cdk8s';
import { Manifest, Manifests, envOf } from '../../test/support/manifests';
import { RallyForgePlatform, RallyForgePlatformProps } from './rallyforge-platform';
import { SERVICE_NAMES } from './service-contract';

function synth(props: Partial<RallyForgePlatformProps> = {}): Manifests {
  const chart = Testing.chart();
  new RallyForgePlatform(chart, 'platform', { image: { tag: '1.2.3' }, ingress: { host: 'rallyforge.example.com' }, ...props });
  return Manifests.of(chart);
}

function container(m: Manifests, service: string): Manifest {
  return m.get('Deployment', `rallyforge-${service}`).spec.template.spec.containers[0];
}

describe('RallyForgePlatform', () => {
  describe('with its defaults (managed backing services)', () => {
    const m = synth();

    it('deploys the five services from <registry>/rallyforge/<service>:<tag>', () => {
      expect(m.list('Deployment').map((d) => d.metadata.name)).toEqual(SERVICE_NAMES.map((s) => `rallyforge-${s}`));
      for (const service of SERVICE_NAMES) {
        expect(container(m, service).image).toBe(`ghcr.io/rallyforge/${service}:1.2.3`);
      }
    });

    it('gives each database service its own DATABASE_URL from the external Secret, and realtime none', () => {
      for (const service of ['auth', 'claims', 'payments', 'documents']) {
        expect(envOf(container(m, service)).DATABASE_URL.valueFrom).toEqual({
          secretKeyRef: { name: 'rallyforge-postgresql', key: `${service.toUpperCase()}_DATABASE_URL` },
        });
      }
      expect(envOf(container(m, 'realtime')).DATABASE_URL).toBeUndefined();
    });

    it('reads Redis and RabbitMQ URLs from their external Secrets', () => {
      const env = envOf(container(m, 'claims'));
      expect(env.REDIS_URL.valueFrom).toEqual({ secretKeyRef: { name: 'rallyforge-redis', key: 'REDIS_URL' } });
      expect(env.AMQP_URL.valueFrom).toEqual({ secretKeyRef: { name: 'rallyforge-rabbitmq', key: 'AMQP_URL' } });
    });

    it("points the other services at auth's JWKS inside the cluster", () => {
      for (const service of ['claims', 'payments', 'documents', 'realtime']) {
        expect(envOf(container(m, service)).AUTH_JWKS_URL.value).toBe('http://rallyforge-auth:3000/api/v1/auth/.well-known/jwks.json');
      }
      expect(envOf(container(m, 'auth')).AUTH_JWKS_URL).toBeUndefined();
    });

    it('believes X-Forwarded-For only from the private ranges its ingress runs in, on every service', () => {
      // Loopback only (the kit's default) would put every user behind the ingress's address: one rate limit for all.
      for (const service of ['auth', 'claims', 'payments', 'documents', 'realtime']) {
        expect(envOf(container(m, service)).TRUSTED_PROXIES.value).toBe('10.0.0.0/8,172.16.0.0/12,192.168.0.0/16');
      }
    });

    it('sets the shared configuration from the contract', () => {
      const env = envOf(container(m, 'payments'));
      expect(Object.fromEntries(['NODE_ENV', 'PORT', 'SERVICE_NAME', 'LOG_LEVEL', 'AUTH_ISSUER', 'AUTH_AUDIENCE', 'CORS_ORIGINS', 'OTEL_TRACES_EXPORTER', 'PAYMENT_PROVIDER'].map((k) => [k, env[k].value]))).toEqual({
        NODE_ENV: 'production',
        PORT: '3000',
        SERVICE_NAME: 'payments',
        LOG_LEVEL: 'info',
        AUTH_ISSUER: 'https://rallyforge.example.com',
        AUTH_AUDIENCE: 'rallyforge',
        CORS_ORIGINS: 'https://rallyforge.example.com',
        OTEL_TRACES_EXPORTER: 'none',
        PAYMENT_PROVIDER: 'stripe',
      });
    });

    it('stores documents locally under /data/documents on an emptyDir', () => {
      const documents = container(m, 'documents');
      expect(envOf(documents).STORAGE_DRIVER.value).toBe('local');
      expect(envOf(documents).STORAGE_LOCAL_DIR.value).toBe('/data/documents');
      expect(documents.volumeMounts).toContainEqual({ name: 'documents', mountPath: '/data/documents' });
      expect(m.get('Deployment', 'rallyforge-documents').spec.template.spec.volumes).toContainEqual({ name: 'documents', emptyDir: { sizeLimit: '10Gi' } });
      expect(m.list('PersistentVolumeClaim')).toHaveLength(0);
    });

    it('lets every other service reach auth', () => {
      const callers = m.get('NetworkPolicy', 'rallyforge-auth').spec.ingress[2].from.map((p: Manifest) => p.podSelector.matchLabels['app.kubernetes.io/name']);
      expect(callers).toEqual(['claims', 'payments', 'documents', 'realtime']);
      expect(m.get('NetworkPolicy', 'rallyforge-claims').spec.ingress).toHaveLength(2);
    });

    it('routes /api/v1/<service> to each service and /ws to realtime with WebSocket timeouts', () => {
      const api = m.get('Ingress', 'rallyforge-api');
      expect(api.spec.ingressClassName).toBe('nginx');
      expect(api.spec.rules[0].host).toBe('rallyforge.example.com');
      expect(api.spec.rules[0].http.paths.map((p: Manifest) => [p.path, p.pathType, p.backend.service.name, p.backend.service.port.number])).toEqual(
        SERVICE_NAMES.map((s) => [`/api/v1/${s}`, 'Prefix', `rallyforge-${s}`, 3000]),
      );
      const ws = m.get('Ingress', 'rallyforge-websocket');
      expect(ws.spec.rules[0].http.paths).toEqual([{ path: '/ws', pathType: 'Prefix', backend: { service: { name: 'rallyforge-realtime', port: { number: 3000 } } } }]);
      expect(ws.metadata.annotations).toEqual({
        'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
        'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
      });
      expect(api.metadata.annotations).toBeUndefined();
    });

    it('migrates each database before install and upgrade with node dist/migrate.js', () => {
      const jobs = m.list('Job');
      expect(jobs.map((j) => j.metadata.name)).toEqual(['auth', 'claims', 'payments', 'documents'].map((s) => `rallyforge-${s}-migrate`));
      const auth = jobs[0];
      expect(auth.metadata.annotations).toEqual({
        'helm.sh/hook': 'pre-install,pre-upgrade',
        'helm.sh/hook-weight': '0',
        'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
      });
      const pod = auth.spec.template.spec;
      expect(pod.containers[0].command).toEqual(['node', 'dist/migrate.js']);
      expect(pod.containers[0].image).toBe('ghcr.io/rallyforge/auth:1.2.3');
      expect(envOf(pod.containers[0]).DATABASE_URL.valueFrom.secretKeyRef).toEqual({ name: 'rallyforge-postgresql', key: 'AUTH_DATABASE_URL' });
      // Migrations log in as the database owner; the services only ever get the runtime role (ADR 0005).
      expect(envOf(pod.containers[0]).MIGRATION_DATABASE_URL.valueFrom.secretKeyRef).toEqual({ name: 'rallyforge-postgresql', key: 'AUTH_MIGRATION_DATABASE_URL' });
      expect(envOf(container(m, 'auth')).MIGRATION_DATABASE_URL).toBeUndefined();
      expect(pod.restartPolicy).toBe('Never');
      expect(pod.containers[0].securityContext).toMatchObject({ readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(auth.spec).toMatchObject({ backoffLimit: 3, activeDeadlineSeconds: 600 });
      expect(auth.spec.selector).toBeUndefined();
    });

    it('runs no backing services in the cluster', () => {
      expect(m.list('Secret')).toHaveLength(0);
      expect(m.all.filter((o) => o.metadata.name.includes('-dev-'))).toHaveLength(0);
    });
  });

  describe('in development mode', () => {
    const m = synth({ development: { enabled: true, password: 'dev-password' }, documentsStorage: { type: 'persistentVolumeClaim', accessMode: 'ReadWriteOnce', size: '1Gi' } });

    it('runs single-replica PostgreSQL, Redis and RabbitMQ', () => {
      for (const server of ['postgresql', 'redis', 'rabbitmq']) {
        const deployment = m.get('Deployment', `rallyforge-dev-${server}`);
        expect(deployment.spec.replicas).toBe(1);
        expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
        expect(deployment.spec.template.spec.containers[0].securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true });
        m.get('Service', `rallyforge-dev-${server}`);
        m.get('NetworkPolicy', `rallyforge-dev-${server}`);
      }
    });

    it('creates the four databases and a Secret with their URLs, which the services and migrations read', () => {
      const init: string = m.get('ConfigMap').data['create-databases.sh'];
      for (const db of ['rf_auth', 'rf_claims', 'rf_payments', 'rf_documents']) {
        expect(init).toContain(`CREATE DATABASE ${db} OWNER "$POSTGRES_USER";`);
        expect(init).toContain(`CREATE ROLE ${db}_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD '$POSTGRES_PASSWORD';`);
        expect(init).toContain(`ALTER DEFAULT PRIVILEGES FOR ROLE "$POSTGRES_USER" IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${db}_app;`);
      }
      expect(init).not.toContain('dev-password');
      const secret = m.get('Secret', 'rallyforge-dev-connections');
      expect(secret.stringData.CLAIMS_DATABASE_URL).toBe('postgresql://rf_claims_app:dev-password@rallyforge-dev-postgresql:5432/rf_claims');
      expect(secret.stringData.CLAIMS_MIGRATION_DATABASE_URL).toBe('postgresql://rallyforge:dev-password@rallyforge-dev-postgresql:5432/rf_claims');
      expect(secret.stringData.REDIS_URL).toBe('redis://:dev-password@rallyforge-dev-redis:6379/0');
      expect(secret.stringData.AMQP_URL).toBe('amqp://rallyforge:dev-password@rallyforge-dev-rabbitmq:5672/');
      expect(envOf(container(m, 'claims')).DATABASE_URL.valueFrom.secretKeyRef).toEqual({ name: 'rallyforge-dev-connections', key: 'CLAIMS_DATABASE_URL' });
      expect(envOf(container(m, 'claims')).REDIS_URL.valueFrom.secretKeyRef).toEqual({ name: 'rallyforge-dev-connections', key: 'REDIS_URL' });
      expect(envOf(m.get('Job', 'rallyforge-claims-migrate').spec.template.spec.containers[0]).DATABASE_URL.valueFrom.secretKeyRef.name).toBe('rallyforge-dev-connections');
      expect(envOf(m.get('Job', 'rallyforge-claims-migrate').spec.template.spec.containers[0]).MIGRATION_DATABASE_URL.valueFrom.secretKeyRef).toEqual({
        name: 'rallyforge-dev-connections',
        key: 'CLAIMS_MIGRATION_DATABASE_URL',
      });
    });

    it('migrates after install (the database comes with the release) and before upgrades', () => {
      expect(m.get('Job', 'rallyforge-auth-migrate').metadata.annotations['helm.sh/hook']).toBe('post-install,pre-upgrade');
    });

    it('keeps documents on a PersistentVolumeClaim', () => {
      expect(m.get('PersistentVolumeClaim').spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } });
      expect(m.get('Deployment', 'rallyforge-documents').spec.template.spec.volumes).toContainEqual({
        name: 'documents',
        persistentVolumeClaim: { claimName: 'rallyforge-documents-data' },
      });
    });
  });

  it('takes TLS, class, annotations and Secret names from its props', () => {
    const m = synth({
      ingress: { host: 'api.example.org', className: '', tls: { enabled: true, secretName: 'tls' }, annotations: { a: 'b', 'nginx.ingress.kubernetes.io/proxy-read-timeout': '5' } },
      backingServices: { redisUrl: { secretName: 'cache', key: 'URL' } },
      migrations: { enabled: false },
    });
    const api = m.get('Ingress', 'rallyforge-api');
    expect(api.spec.ingressClassName).toBeUndefined();
    expect(api.spec.tls).toEqual([{ hosts: ['api.example.org'], secretName: 'tls' }]);
    expect(api.metadata.annotations).toEqual({ a: 'b', 'nginx.ingress.kubernetes.io/proxy-read-timeout': '5' });
    expect(m.get('Ingress', 'rallyforge-websocket').metadata.annotations['nginx.ingress.kubernetes.io/proxy-read-timeout']).toBe('3600');
    expect(envOf(container(m, 'auth')).REDIS_URL.valueFrom.secretKeyRef).toEqual({ name: 'cache', key: 'URL' });
    expect(m.list('Job')).toHaveLength(0);
  });

  it('refuses an unknown documents storage type', () => {
    expect(() => synth({ documentsStorage: { type: 'hostPath' } })).toThrow(/documentsStorage.type "hostPath" is not supported: use "emptyDir" or "persistentVolumeClaim"/);
  });
});
