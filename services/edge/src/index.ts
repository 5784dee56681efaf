export { startEdge, type Edge, type EdgeDeps } from './edge.js';
export { checkRecipient } from './rcpt/recipient-checks.js';
export { collectMessage, findBareLineEnding, normalizeLineEndings } from './data/collect.js';
export { receivedHeader } from './data/received.js';
export { hashPassword } from './login/credentials-file.js';
export { TLS_POLICY } from './listen/tls-policy.js';
