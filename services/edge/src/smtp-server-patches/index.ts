import { installPipeliningFix } from './pipelining-fix.js';
import { installReplyWriter } from './reply-writer.js';
import { installSizeReply } from './size-reply.js';
import { installSniPassthrough } from './sni-passthrough.js';

/** Every prototype patch of smtp-server this edge needs, installed once per process (each file says why). */
export function installSmtpServerPatches(): void {
  installReplyWriter();
  installSniPassthrough();
  installPipeliningFix();
  installSizeReply();
}
