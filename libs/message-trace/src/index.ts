export * from './keys.js';
export * from './writer.js';
export * from './reader.js';
