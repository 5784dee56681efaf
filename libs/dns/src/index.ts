export * from './resolver.js';
export * from './servers.js';
export * from './cache.js';
export * from './metrics.js';
export * from './deadline.js';
export * from './wire-resolver.js';
export * from './create.js';
