/**
 * @rallyforge/cdk8s as a library: the constructs of the platform and operator charts, the RallyForgeTenant API
 * (CRD and its generated types) and the dedicated tier's workloads the operator renders and applies.
 */
export * from './helm/helm-chart';
export * from './helm/helm-token';
export * from './helm/helm-values';
export * from './helm/patch';
export * from './common/restricted-pod';
export * from './common/quantity';
export * from './platform/service-contract';
export * from './platform/rallyforge-service';
export * from './platform/database-migration';
export * from './platform/development-backing-services';
export * from './platform/platform-ingress';
export * from './platform/rallyforge-platform';
export * from './platform/platform-chart';
export * from './operator/tenant-crd';
export * from './operator/tenant-types.generated';
export * from './operator/rallyforge-operator';
export * from './operator/operator-chart';
export * from './charts';
export * from './tenant/tenant-workloads';
