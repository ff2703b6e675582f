import { App, Testing } from 'cdk8s';
import { Manifests, envOf } from '../../test/support/manifests';
import { HelmChart } from '../helm/helm-chart';
import { DatabaseMigration, DatabaseMigrationProps } from './database-migration';

function synth(props: Partial<DatabaseMigrationProps> = {}): Manifests {
  const chart = Testing.chart();
  new DatabaseMigration(chart, 'm', { service: 'claims', image: 'ghcr.io/rallyforge/claims:1.0.0', databaseUrl: { secretName: 'pg', key: 'CLAIMS_DATABASE_URL' }, ...props });
  return Manifests.of(chart);
}

describe('DatabaseMigration', () => {
  it('is a Helm hook Job named <prefix>-<service>-migrate by default', () => {
    const job = synth().get('Job');
    expect(job.metadata.name).toBe('rallyforge-claims-migrate');
    expect(job.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded' });
  });

  it('without Helm, is a plain Job named after a hash of its spec', () => {
    const props = { helmHook: false, migrationDatabaseUrl: { secretName: 'pg', key: 'CLAIMS_MIGRATION_DATABASE_URL' } };
    const chart = Testing.chart();
    const migration = new DatabaseMigration(chart, 'm', { service: 'claims', image: 'ghcr.io/rallyforge/claims:1.0.0', databaseUrl: { secretName: 'pg', key: 'CLAIMS_DATABASE_URL' }, ...props });
    const job = Manifests.of(chart).get('Job');
    expect(job.metadata.name).toMatch(/^rallyforge-claims-migrate-[0-9a-f]{10}$/);
    expect(migration.name).toBe(job.metadata.name);
    expect(job.metadata.annotations).toBeUndefined();
    expect(envOf(job.spec.template.spec.containers[0]).MIGRATION_DATABASE_URL.valueFrom).toEqual({ secretKeyRef: { name: 'pg', key: 'CLAIMS_MIGRATION_DATABASE_URL' } });
    // The same spec gives the same name; any change to the spec (the image here) another one.
    expect(synth(props).get('Job').metadata.name).toBe(job.metadata.name);
    expect(synth({ ...props, image: 'ghcr.io/rallyforge/claims:1.0.1' }).get('Job').metadata.name).not.toBe(job.metadata.name);
    expect(synth({ ...props, imagePullPolicy: 'Always' }).get('Job').spec.template.spec.containers[0].imagePullPolicy).toBe('Always');
  });

  it('refuses a spec-hashed name in a Helm chart, whose templates have no finished spec to hash', () => {
    const chart = new HelmChart(new App(), 'c', { chartName: 'demo', description: 'Demo.', appVersion: '1.0.0' });
    expect(() => new DatabaseMigration(chart, 'm', { service: 'claims', image: 'i', databaseUrl: { secretName: 'pg', key: 'K' }, helmHook: false })).toThrow(/Keep the hook Job in Helm charts/);
  });

  it('refuses a service without a database', () => {
    expect(() => synth({ service: 'realtime' })).toThrow(/has no database/);
  });
});
