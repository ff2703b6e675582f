export * from './external-systems';
export * from './external-systems.config';
export * from './postgres.provisioner';
export * from './provision-error';
export * from './rabbitmq.provisioner';
export * from './redis.provisioner';
export * from './tenant-names';
