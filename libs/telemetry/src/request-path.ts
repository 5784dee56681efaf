/**
 * What a log line may say about a request's URL: the path, without the query string. A query
 * carries search terms, addresses and ids (`quarantine?rcpt=alice@...&subject=...`), which are
 * personal data and would make the log a copy of what the operator searched for.
 */
export function requestPath(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
