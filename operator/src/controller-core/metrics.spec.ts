import { resourceOfPath } from './metrics';

describe('resourceOfPath', () => {
  it.each([
    ['/api/v1/namespaces/rf-acme/secrets/credentials', 'secrets'],
    ['/api/v1/namespaces/rf-acme/secrets?labelSelector=a%3Db', 'secrets'],
    ['/api/v1/namespaces/rf-acme', 'namespaces'],
    ['/api/v1/namespaces', 'namespaces'],
    ['/api/v1/namespaces/rf-acme/events', 'events'],
    ['/apis/coordination.k8s.io/v1/namespaces/rallyforge-system/leases/rallyforge-operator', 'leases'],
    ['/apis/rallyforge.io/v1alpha1/rallyforgetenants/acme/status', 'rallyforgetenants/status'],
    ['/apis/rallyforge.io/v1alpha1/rallyforgetenants/acme', 'rallyforgetenants'],
    ['/apis/apps/v1/namespaces/rf-acme/deployments/auth/scale', 'deployments/scale'],
    ['/apis/apps/v1', 'discovery'],
    ['/api/v1', 'discovery'],
    ['/version', 'discovery'],
  ])('%s is %s', (path, resource) => {
    expect(resourceOfPath(path)).toBe(resource);
  });
});
