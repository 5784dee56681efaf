/** Whom a flow limit counted: one client address, or the network it belongs to (flow.perNetwork). */
export type Counted = { ip: string } | { network: string };

/** How a refusal names the counted client; used inside the flow entries' texts only. */
export function who(c: Counted): string {
  return 'ip' in c ? `[${c.ip}]` : `your network ${c.network}`;
}
