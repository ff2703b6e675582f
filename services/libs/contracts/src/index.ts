export * from './envelope';
export * from './messages';
export * from './audit';
export * from './permissions';
