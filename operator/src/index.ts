export * from './controller-core';
// The tenant API and the objects of its namespace layer, for tools that drive the operator (npm run bench:operator).
export { TENANTS, TENANT_LABEL, type RallyForgeTenant, type RallyForgeTenantSpec } from './tenant/tenant-api';
export { namespaceObjects, tenantNamespace } from './tenant/tenant-objects';
export { DEFAULT_TENANT_SETTINGS, type TenantSettings } from './tenant/operator-settings';
