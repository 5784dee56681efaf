export { startEdge, type Edge, type EdgeDeps } from './edge.js';
export { checkRecipient } from './rcpt.js';
export { collectMessage, findBareLineEnding, normalizeLineEndings } from './data.js';
export { receivedHeader } from './received.js';
export { hashPassword } from './auth-file.js';
export { TLS_POLICY } from './tls-policy.js';
