import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MLogError } from '../errors/mlog-error.js';
import type { RejectionCounters } from '../rejections/rejection-recorder.js';

/** 503: the metrics of the whole instance cannot be gathered now (a worker is starting, or did not answer). */
export class MetricsUnavailableError extends MLogError {
  readonly status = 503;
  constructor(message: string) {
    super(message, { retryAfterSeconds: 5 });
  }
}

/**
 * Where the text of /metrics comes from, given this process's registry: by default that registry;
 * with several worker processes, the whole instance's metrics gathered by the primary
 * (src/process/cluster-metrics.ts). Rejects with a MetricsUnavailableError when they cannot be gathered.
 */
export type MetricsSource = (local: Registry) => Promise<string>;

const thisProcess: MetricsSource = (local) => local.metrics();

/** MLog's Prometheus metrics, one registry per process. */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'mlog_http_requests_total',
    help: 'HTTP requests answered, by listener, route and status.',
    labelNames: ['listener', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly requestSeconds = new Histogram({
    name: 'mlog_http_request_duration_seconds',
    help: 'Time to answer an HTTP request.',
    labelNames: ['listener', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly eventsRegistered = new Counter({
    name: 'mlog_events_registered_total',
    help: 'Events durably registered, by information system.',
    labelNames: ['system'] as const,
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'mlog_in_flight_calls',
    help: 'Calls of identified callers being handled now (limit: MLOG_MAX_IN_FLIGHT).',
    registers: [this.registry],
  });
  readonly inFlightBySystem = new Gauge({
    name: 'mlog_in_flight_calls_by_system',
    help: 'Calls being handled now, by information system (limit: MLOG_MAX_IN_FLIGHT_PER_IS).',
    labelNames: ['system'] as const,
    registers: [this.registry],
  });
  readonly admissionRefused = new Counter({
    name: 'mlog_admission_refused_total',
    help: 'Calls refused because too many were in flight: limit "system" (429) or "global" (503); "system_bytes" (429) or "global_bytes" (503) for bytes of /register bodies being registered.',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });
  readonly rejectionsReduced = new Counter({
    name: 'mlog_rejections_reduced_total',
    help: 'Refused calls recorded in the rejections index in reduced form, because Elasticsearch refused the full record.',
    registers: [this.registry],
  });
  readonly rejectionsLost = new Counter({
    name: 'mlog_rejections_lost_total',
    help: 'Refused calls not recorded in the rejections index, by cause: "refused" (even in reduced form), "unwritten" (the bulk failed), "queue-full".',
    labelNames: ['cause'] as const,
    registers: [this.registry],
  });
  readonly syslogMessages = new Counter({
    name: 'mlog_syslog_messages_total',
    help: 'Syslog messages, by door ("tls", "relp", "tcp"), information system and outcome: "received" (de-framed), "stored" (durably), "refused" (not a valid event, or oversized).',
    labelNames: ['door', 'system', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly syslogFramingErrors = new Counter({
    name: 'mlog_syslog_framing_errors_total',
    help: 'Syslog connections closed because their bytes could not be de-framed, by door and information system ("" when not identified).',
    labelNames: ['door', 'system'] as const,
    registers: [this.registry],
  });
  readonly syslogConnections = new Counter({
    name: 'mlog_syslog_connections_total',
    help: 'Syslog connections accepted and identified, by door and information system.',
    labelNames: ['door', 'system'] as const,
    registers: [this.registry],
  });
  readonly syslogOpenConnections = new Gauge({
    name: 'mlog_syslog_open_connections',
    help: 'Syslog connections open now, by door.',
    labelNames: ['door'] as const,
    registers: [this.registry],
  });
  readonly syslogPausedSeconds = new Counter({
    name: 'mlog_syslog_paused_seconds_total',
    help: 'Seconds syslog connections were not read (back-pressure while Elasticsearch was slow or down, or while the connection had its most messages in flight), by door and information system.',
    labelNames: ['door', 'system'] as const,
    registers: [this.registry],
  });

  constructor(private readonly source: MetricsSource = thisProcess) {
    collectDefaultMetrics({ register: this.registry, prefix: 'mlog_' });
  }

  /** The counters the rejection recorder reports to: mlog_rejections_reduced_total and mlog_rejections_lost_total. */
  rejectionCounters(): RejectionCounters {
    return {
      reduced: (count) => this.rejectionsReduced.inc(count),
      lost: (count, cause) => this.rejectionsLost.inc({ cause }, count),
    };
  }

  /** The Content-Type of `exposition()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text served at /metrics (Prometheus exposition format). */
  exposition(): Promise<string> {
    return this.source(this.registry);
  }
}
