/** What flow control is configured with (config section flow), and its defaults. */

/** One set of limits; 0 turns a limit off. Rates are per fixed window of one minute. */
export interface FlowLimits {
  /** Connections open at once, across all replicas. */
  connections: number;
  connectionsPerMinute: number;
  /** MAIL FROM commands (one per message attempt). */
  messagesPerMinute: number;
  /** RCPT TO commands. */
  recipientsPerMinute: number;
}

export interface FlowOptions {
  /** Networks (CIDRs or single addresses) never limited. The most specific entry of allow/deny wins; deny on a tie. */
  allow: string[];
  /** Networks refused at connect (554 5.7.1). */
  deny: string[];
  perIp: FlowLimits;
  perNetwork: FlowLimits & {
    /** What "a network" is. */
    ipv4PrefixLength: number;
    ipv6PrefixLength: number;
  };
  /** A connection's slot outlives a crashed edge by at most this long. */
  leaseSeconds: number;
}

export const DEFAULT_FLOW_OPTIONS: FlowOptions = {
  allow: [],
  deny: [],
  perIp: { connections: 20, connectionsPerMinute: 60, messagesPerMinute: 120, recipientsPerMinute: 600 },
  perNetwork: {
    connections: 60,
    connectionsPerMinute: 300,
    messagesPerMinute: 600,
    recipientsPerMinute: 3000,
    ipv4PrefixLength: 24,
    ipv6PrefixLength: 64,
  },
  leaseSeconds: 60,
};
