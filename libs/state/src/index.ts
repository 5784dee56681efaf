export * from './state.js';
export * from './memory-state.js';
export * from './redis-state.js';
export * from './fate.js';
