import { context, propagation, trace, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Context, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, BatchSpanProcessor, AlwaysOnSampler, AlwaysOffSampler, ParentBasedSampler, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';

let provider: BasicTracerProvider | null = null;

/** True when the standard OTEL_* variables ask for spans to be exported. */
export function tracingExportEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true' || env.OTEL_TRACES_EXPORTER === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Installs a tracer provider and the W3C Trace Context propagator, so every
 * message gets a trace id that travels in record headers from the edge to the
 * relay. Spans are exported with OTLP over HTTP when the standard variables
 * say where (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS,
 * OTEL_SERVICE_NAME, OTEL_BSP_*); otherwise nothing is sampled or exported,
 * and trace ids still flow so logs and headers stay correlated.
 */
export function installTracing(serviceName = 'portcullis'): void {
  if (provider) return;
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const exporting = tracingExportEnabled();
  const spanProcessors: SpanProcessor[] = exporting ? [new BatchSpanProcessor(new OTLPTraceExporter())] : [];
  provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME ?? serviceName }),
    // A message sampled where it entered stays sampled in every service it passes through.
    sampler: new ParentBasedSampler({ root: exporting ? new AlwaysOnSampler() : new AlwaysOffSampler() }),
    spanProcessors,
  });
  trace.setGlobalTracerProvider(provider);
}

/** Sends the spans still buffered (at shutdown). */
export async function shutdownTracing(): Promise<void> {
  await provider?.shutdown().catch(() => undefined);
}

const tracer = () => trace.getTracer('portcullis');

export function startSpan(name: string, kind: SpanKind, parent: Context = ROOT_CONTEXT, attributes: Record<string, string | number> = {}): Span {
  return tracer().startSpan(name, { kind, attributes }, parent);
}

/** A child of `parent`, for one piece of I/O inside a stage (a delivery, a look-up). */
export function startChildSpan(parent: Span, name: string, kind: SpanKind, attributes: Record<string, string | number> = {}): Span {
  return tracer().startSpan(name, { kind, attributes }, trace.setSpan(ROOT_CONTEXT, parent));
}

/** A new root span (new trace) that links to the trace in `linked`: for retries hours later. */
export function startLinkedSpan(name: string, kind: SpanKind, linked: Context, attributes: Record<string, string | number> = {}): Span {
  const link = trace.getSpanContext(linked);
  return tracer().startSpan(name, { kind, attributes, root: true, links: link ? [{ context: link }] : [] }, ROOT_CONTEXT);
}

/** Writes the span's context as traceparent/tracestate into a header map. */
export function injectTrace(span: Span, headers: Record<string, string>): Record<string, string> {
  propagation.inject(trace.setSpan(context.active(), span), headers);
  return headers;
}

export function extractTrace(headers: Record<string, string>): Context {
  return propagation.extract(ROOT_CONTEXT, headers);
}

export function traceIdOf(span: Span): string {
  return span.spanContext().traceId;
}

export function endSpan(span: Span, error?: unknown): void {
  if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  span.end();
}

export { SpanKind, type Span, type Context };
