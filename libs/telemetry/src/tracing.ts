import { context, propagation, trace, ROOT_CONTEXT, SpanKind, SpanStatusCode, type Context, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';

let installed = false;

/**
 * Installs a tracer provider and the W3C Trace Context propagator, so every
 * message gets a real trace id that travels in record headers from the edge to
 * the relay. Exporting the spans (OTLP) is configured by the observability work;
 * without an exporter the spans cost a few allocations and go nowhere.
 */
export function installTracing(): void {
  if (installed) return;
  installed = true;
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new BasicTracerProvider());
}

const tracer = () => trace.getTracer('portcullis');

export function startSpan(name: string, kind: SpanKind, parent: Context = ROOT_CONTEXT, attributes: Record<string, string | number> = {}): Span {
  return tracer().startSpan(name, { kind, attributes }, parent);
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
