export * from './controller-core';
