export * from './topics.js';
export * from './record.js';
export * from './schemas.js';
export * from './codec.js';
export * from './message-id.js';
export * from './verdict-reply.js';
export * from './results.js';
export * from './address.js';
