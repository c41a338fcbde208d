/** The package's public API. */
export * from './protocol/index.ts';
export * from './client/index.ts';
