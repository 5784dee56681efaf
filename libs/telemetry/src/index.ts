export * from './logger.js';
export * from './metrics.js';
export * from './tracing.js';
export * from './http.js';
export * from './admin-http.js';
export * from './request-path.js';
export * from './bind-error.js';
export * from './process-warnings.js';
