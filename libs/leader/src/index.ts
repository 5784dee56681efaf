export * from './leadership.js';
export * from './lease-store.js';
export * from './elect.js';
export * from './from-config.js';
