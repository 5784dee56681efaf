export * from './errors.js';
export * from './pool.js';
export * from './transfer.js';
export * from './metrics.js';
export * from './stage-pool.js';
