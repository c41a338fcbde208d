export * from './attributes.ts';
export * from './envelope.ts';
export * from './errors.ts';
export * from './extended-client.ts';
export * from './ids.ts';
export * from './limits.ts';
export * from './resources.ts';
export * from './task-record.ts';
