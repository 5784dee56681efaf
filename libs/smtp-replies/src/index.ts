export { renderReplyTable, withFreshTable, TABLE_BEGIN, TABLE_END } from './table.js';
export { formatReply, defineReply, exampleText, type SmtpReply, type Stage, type Writer, type ReplyEntry, type AnyReplyEntry, type ReplySpec } from './reply.js';
export { because, refusalError, smtpError, type Refusal, type SmtpError } from './refusal.js';
export * from './catalogue/index.js';
export { replyForVerdict, refusalForVerdict } from './verdict.js';
