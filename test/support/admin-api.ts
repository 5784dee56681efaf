/**
 * A gateway's admin API (http.admin) as the end-to-end tests call it, and the shapes of the answers
 * they read: the fields the tests look at, no more. The caller names the shape it expects; an
 * answer of another shape (an error) is only ever read for its status.
 */

export interface AdminAnswer<T> {
  status: number;
  body: T;
}

/** GET trace/<id>: a message's summary and its events in order. */
export interface TraceTimeline {
  summary: { outcome: string };
  events: { event: string; recipient?: string }[];
}

/** GET trace?...: the messages found by a search key. */
export interface TraceSearch {
  messages: { id: string; outcome: string }[];
}

/** GET quarantine?...: the quarantined messages that match. */
export interface QuarantineList {
  messages: { id: string; reason: string; subject: string }[];
}

/** GET quarantine/<id>: the index entry and the message as an operator may see it. */
export interface QuarantineView {
  entry: { subject: string; releasedBy?: string };
  message: { text: string; headers: { name: string; value: string }[] };
}

/** GET quarantine/audit: who did what to which message. */
export interface QuarantineAudit {
  audit: { id: string; action: string; by: string }[];
}

/**
 * A caller for the admin API on the port `port()` gives (read at each call: tests learn the port in
 * `before`), with the bearer token; a body is sent as JSON.
 */
export function adminApi(port: () => number, token: string) {
  return async <T = unknown>(method: string, path: string, body?: unknown): Promise<AdminAnswer<T>> => {
    const res = await fetch(`http://127.0.0.1:${port()}/admin/${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
}
