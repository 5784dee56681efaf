export * from './bus.js';
export * from './backoff.js';
export * from './memory-bus.js';
export * from './kafka-bus.js';
export * from './stage.js';
export * from './spool.js';
export * from './extra-checks.js';
export * from './topic-errors.js';
