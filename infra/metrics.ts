import client from 'prom-client';

/**
 * Prometheus metrics of this process. The API serves them at /metrics; the worker's own Temporal
 * SDK metrics are exported by the SDK's runtime on its own port (see worker/main.ts).
 */
export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry, prefix: 'gridflow_' });

export const metrics = {
  httpDuration: new client.Histogram({
    name: 'gridflow_http_request_duration_seconds',
    help: 'API latency by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  }),
  processesStarted: new client.Counter({ name: 'gridflow_processes_started_total', help: 'Processes started, by definition', labelNames: ['definition'], registers: [registry] }),
  eventsRefused: new client.Counter({ name: 'gridflow_events_refused_total', help: 'Events refused, by definition and reason', labelNames: ['definition', 'reason'], registers: [registry] }),
  eventsRetried: new client.Counter({ name: 'gridflow_events_retried_total', help: 'Events sent again because the server aborted them before accepting them (a workflow task that failed)', labelNames: ['definition'], registers: [registry] }),
  rateLimited: new client.Counter({ name: 'gridflow_rate_limited_total', help: 'Requests refused by the rate limit', registers: [registry] }),
};
