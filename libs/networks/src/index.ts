export * from './cidr.js';
export * from './address.js';
export * from './network-list.js';
