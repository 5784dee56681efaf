import { data, mail, session, type Refusal } from '@portcullis/smtp-replies';

/** The session limits' refusals (session-limits.ts, header-limits.ts, the timers): each a catalogue reply named by its limit. */

export type LimitName = 'commands' | 'errors' | 'messages' | 'session-time' | 'data-time' | 'size-declared' | 'size' | 'header-size' | 'line-length' | 'command-time' | 'reclaimed';

/** A limit's refusal: the catalogue's reply, the limit's name as its reason. */
export type LimitRefusal = Refusal & { readonly reason: LimitName };

export type LimitVerdict = { ok: true } | { ok: false; refusal: LimitRefusal };

const limitRefusal = (refusal: Refusal, limit: LimitName): LimitRefusal => ({ ...refusal, reason: limit });

/** The refusal of each limit, from the catalogue. */
export const LimitRefusals = {
  commands: () => limitRefusal(session.tooManyCommands.refuse(), 'commands'),
  errors: () => limitRefusal(session.tooManyErrors.refuse(), 'errors'),
  messages: (n: number) => limitRefusal(mail.tooManyMessages.refuse(n), 'messages'),
  sessionTime: () => limitRefusal(session.timeLimit.refuse(), 'session-time'),
  dataTime: () => limitRefusal(data.transferTime.refuse(), 'data-time'),
  sizeDeclared: (declared: number, limit: number) => limitRefusal(mail.sizeDeclared.refuse(declared, limit), 'size-declared'),
  sizeLimit: (limit: number) => limitRefusal(data.tooBig.refuse(limit), 'size'),
  sizeOverDeclared: (received: number, declared: number) => limitRefusal(data.overDeclaredSize.refuse(received, declared), 'size'),
} as const;
