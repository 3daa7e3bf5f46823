/**
 * Prometheus metrics in the text exposition format (version 0.0.4), written by hand: three
 * families do not justify a client library.
 *
 * - `provenance_enrollments_total{format,decision,code}`: enrollments decided, by evidence
 *   format, decision (issued, rejected, invalid = unreadable evidence, nothing recorded) and code;
 * - `provenance_verification_seconds`: histogram of the verifier's time per enrollment;
 * - `provenance_http_requests_total{route,status}`: requests by route pattern and status.
 *
 * @example
 * metrics.enrollment('provenance', 'issued', 'ACCEPTED');
 * reply.type(METRICS_CONTENT_TYPE).send(metrics.render());
 */

/** The content type of the text exposition format. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Upper bounds of the verification latency histogram, in seconds. */
export const VERIFICATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
] as const;

/** Most label combinations per family: labels come from a closed set, this is a safety net. */
const MAX_SERIES = 10_000;

/** The service's metrics, in memory, per instance. */
export class ServiceMetrics {
  private readonly enrollments = new Map<string, number>();
  private readonly requests = new Map<string, number>();
  private readonly buckets: number[] = VERIFICATION_BUCKETS.map(() => 0);
  private verificationCount = 0;
  private verificationSum = 0;

  /** Count one decided enrollment. */
  enrollment(format: string | null, decision: 'issued' | 'rejected' | 'invalid', code: string): void {
    bump(this.enrollments, labels({ format: format ?? 'unknown', decision, code }));
  }

  /** Record one verification's duration in seconds. */
  verification(seconds: number): void {
    this.verificationCount++;
    this.verificationSum += seconds;
    VERIFICATION_BUCKETS.forEach((le, i) => {
      if (seconds <= le) this.buckets[i]!++;
    });
  }

  /** Count one answered HTTP request. */
  request(route: string, status: number): void {
    bump(this.requests, labels({ route, status: String(status) }));
  }

  /** The text exposition. */
  render(): string {
    const out: string[] = [];
    out.push(
      '# HELP provenance_enrollments_total Enrollments decided, by evidence format, decision and code.',
    );
    out.push('# TYPE provenance_enrollments_total counter');
    for (const [l, v] of this.enrollments) out.push(`provenance_enrollments_total{${l}} ${v}`);
    out.push('# HELP provenance_verification_seconds Time to verify the evidence of one enrollment.');
    out.push('# TYPE provenance_verification_seconds histogram');
    VERIFICATION_BUCKETS.forEach((le, i) => {
      out.push(`provenance_verification_seconds_bucket{le="${le}"} ${this.buckets[i]}`);
    });
    out.push(`provenance_verification_seconds_bucket{le="+Inf"} ${this.verificationCount}`);
    out.push(`provenance_verification_seconds_sum ${this.verificationSum}`);
    out.push(`provenance_verification_seconds_count ${this.verificationCount}`);
    out.push('# HELP provenance_http_requests_total HTTP requests answered, by route and status.');
    out.push('# TYPE provenance_http_requests_total counter');
    for (const [l, v] of this.requests) out.push(`provenance_http_requests_total{${l}} ${v}`);
    return `${out.join('\n')}\n`;
  }
}

function bump(map: Map<string, number>, key: string): void {
  const v = map.get(key);
  if (v === undefined && map.size >= MAX_SERIES) return;
  map.set(key, (v ?? 0) + 1);
}

/** `a="x",b="y"` with the exposition format's escapes (backslash, quote, newline). */
function labels(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}="${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`)
    .join(',');
}
