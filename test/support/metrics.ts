import assert from 'node:assert/strict';

/**
 * The sum of the samples of a metric in Prometheus text (a gateway's /metrics) whose labels include
 * every given one; 0 when none matches, unless `required` (then a missing metric fails the test).
 */
export function metricSum(metrics: string, name: string, labels: Record<string, string> = {}, opts: { required?: boolean } = {}): number {
  let sum = 0;
  let found = false;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    found = true;
  }
  if (opts.required) assert.ok(found, `no ${name} in /metrics`);
  return sum;
}
