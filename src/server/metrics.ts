/** Latency buckets in seconds: from a cached health check to a long CPU answer. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

interface Histogram {
  counts: number[]
  sum: number
  count: number
}

/** Values that are read when scraped rather than counted as they happen. */
export interface MetricGauges {
  queueDepth: number
  inFlight: number
}

/**
 * The server's counters, rendered in the Prometheus text exposition format (version 0.0.4). The
 * format is a few lines per series, so writing it here costs less than a client library; label
 * values are bounded (routes come from the route table, never from the raw URL).
 */
export class ServerMetrics {
  private readonly requests = new Map<string, number>()
  private readonly latency = new Map<string, Histogram>()
  private promptTokens = 0
  private completionTokens = 0
  private logWriteFailures = 0

  /** One finished HTTP request. `route` is the route pattern, or "unmatched". */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = labels({ method, route, status: String(status) })
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1)
    const hkey = labels({ route })
    let h = this.latency.get(hkey)
    if (!h) this.latency.set(hkey, (h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 }))
    BUCKETS.forEach((le, i) => {
      if (seconds <= le) h.counts[i]!++
    })
    h.sum += seconds
    h.count++
  }

  /** Tokens of one answer (prompt and generated). */
  addUsage(usage: { promptTokens: number; completionTokens: number }): void {
    this.promptTokens += usage.promptTokens
    this.completionTokens += usage.completionTokens
  }

  /** An answer whose query-log row could not be written (the answer was still sent). */
  addLogWriteFailure(): void {
    this.logWriteFailures++
  }

  render(gauges: MetricGauges): string {
    const out: string[] = []
    const head = (name: string, type: string, help: string): void => void out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    head('ragtune_http_requests_total', 'counter', 'HTTP requests by method, route and status.')
    for (const [key, n] of this.requests) out.push(`ragtune_http_requests_total{${key}} ${n}`)
    head('ragtune_http_request_duration_seconds', 'histogram', 'HTTP request latency by route, streaming included.')
    for (const [key, h] of this.latency) {
      BUCKETS.forEach((le, i) => out.push(`ragtune_http_request_duration_seconds_bucket{${key},le="${le}"} ${h.counts[i]}`))
      out.push(`ragtune_http_request_duration_seconds_bucket{${key},le="+Inf"} ${h.count}`)
      out.push(`ragtune_http_request_duration_seconds_sum{${key}} ${h.sum}`, `ragtune_http_request_duration_seconds_count{${key}} ${h.count}`)
    }
    head('ragtune_queue_depth', 'gauge', 'Answers waiting for a generation slot.')
    out.push(`ragtune_queue_depth ${gauges.queueDepth}`)
    head('ragtune_in_flight', 'gauge', 'Answers being generated now.')
    out.push(`ragtune_in_flight ${gauges.inFlight}`)
    head('ragtune_prompt_tokens_total', 'counter', 'Prompt tokens of answered requests.')
    out.push(`ragtune_prompt_tokens_total ${this.promptTokens}`)
    head('ragtune_generated_tokens_total', 'counter', 'Tokens generated.')
    out.push(`ragtune_generated_tokens_total ${this.completionTokens}`)
    head('ragtune_query_log_write_failures_total', 'counter', 'Answers whose query-log row could not be written.')
    out.push(`ragtune_query_log_write_failures_total ${this.logWriteFailures}`)
    return out.join('\n') + '\n'
  }
}

/** `a="x",b="y"` with the exposition format's escapes. */
function labels(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',')
}
