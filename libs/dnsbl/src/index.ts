export * from './query-name.js';
export * from './answer-codes.js';
export * from './bounded.js';
export * from './lookup.js';
export * from './lookup-metrics.js';
export * from './list-results.js';
export * from './client-ip.js';
export * from './domains.js';
