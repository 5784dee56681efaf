export { startEdge, type Edge, type EdgeDeps } from './edge.js';
export { checkRecipient } from './rcpt.js';
export { collectMessage, findBareLineEnding, normalizeLineEndings } from './data.js';
export { receivedHeader } from './received.js';
