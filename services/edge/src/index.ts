/**
 * The edge: the SMTP listeners (MX 25, submission 587, submissions 465) and every check before a
 * message is stored, then the durable write and the wait for the pipeline's verdict. Folders follow
 * the SMTP session: listen, connect, login, mail, rcpt, data, session, and smtp-server-patches.
 */
export { startEdge, type Edge, type EdgeDeps } from './edge.js';
export { edgeMetrics, type EdgeMetrics } from './metrics.js';
export { checkRecipient } from './rcpt/recipient-checks.js';
export { collectMessage, findBareLineEnding, normalizeLineEndings } from './data/collect.js';
export { receivedHeader } from './data/received.js';
export { hashPassword } from './login/password-hash.js';
export { TLS_POLICY } from './listen/tls-policy.js';
