/** Upper bounds of the added-latency histogram, in milliseconds. */
const addedLatencyBucketsMs = [0.5, 1, 2, 5, 10, 20, 50, 100, 250, 1000];

/** The gateway's own Prometheus metrics. */
export class GatewayMetrics {
  private readonly requests = new Map<string, number>();
  private readonly addedLatencyCounts = new Array<number>(addedLatencyBucketsMs.length + 1).fill(0);
  private addedLatencySumMs = 0;
  private addedLatencyCount = 0;
  private readonly tokens = new Map<string, number>();
  private readonly cost = new Map<string, bigint>();
  private co2eMicrograms = 0n;
  private readonly phases = new Map<string, { sumMs: number; count: number; maxMs: number }>();
  private readonly droppedFields = new Map<string, number>();
  private readonly overruns = new Map<string, number>();

  /** Time spent in one step of the request path (authenticate, admit, queue, ...). */
  observePhase(phase: string, ms: number): void {
    const entry = this.phases.get(phase) ?? { sumMs: 0, count: 0, maxMs: 0 };
    entry.sumMs += ms;
    entry.count++;
    entry.maxMs = Math.max(entry.maxMs, ms);
    this.phases.set(phase, entry);
  }

  /** Mean ms per phase, for benchmarks and logs. */
  phaseMeansMs(): Record<string, number> {
    return Object.fromEntries(
      [...this.phases].map(([phase, { sumMs, count }]) => [phase, count === 0 ? 0 : sumMs / count]),
    );
  }

  /** Longest ms per phase since the last reset, for benchmarks. */
  phaseMaxMs(): Record<string, number> {
    return Object.fromEntries([...this.phases].map(([phase, { maxMs }]) => [phase, maxMs]));
  }

  /** Starts the phase figures afresh (a benchmark's next run). */
  resetPhases(): void {
    this.phases.clear();
  }

  countRequest(route: string, status: number): void {
    const key = `route="${route}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  /** A body field the gateway dropped instead of forwarding; `field` is a known name or `other`. */
  countDroppedField(field: string): void {
    this.droppedFields.set(field, (this.droppedFields.get(field) ?? 0) + 1);
  }

  /** A request whose usage exceeded its hold (`prompt`, `completion`, or `cost` for other terms such as carbon): charged the whole hold. */
  countOverrun(kind: 'prompt' | 'completion' | 'cost'): void {
    this.overruns.set(kind, (this.overruns.get(kind) ?? 0) + 1);
  }

  /** Counts per label, for tests and benchmarks. */
  snapshot(): { droppedFields: Record<string, number>; overruns: Record<string, number> } {
    return { droppedFields: Object.fromEntries(this.droppedFields), overruns: Object.fromEntries(this.overruns) };
  }

  observeAddedLatency(ms: number): void {
    let bucket = addedLatencyBucketsMs.findIndex((bound) => ms <= bound);
    if (bucket < 0) bucket = addedLatencyBucketsMs.length;
    this.addedLatencyCounts[bucket] = (this.addedLatencyCounts[bucket] ?? 0) + 1;
    this.addedLatencySumMs += ms;
    this.addedLatencyCount++;
  }

  observeUsage(
    model: string,
    promptTokens: number,
    completionTokens: number,
    cost: Readonly<Record<string, bigint>>,
    co2eMicrograms: bigint,
  ): void {
    for (const [kind, value] of [
      ['prompt', promptTokens],
      ['completion', completionTokens],
    ] as const) {
      const key = `model="${model}",kind="${kind}"`;
      this.tokens.set(key, (this.tokens.get(key) ?? 0) + value);
    }
    for (const [currency, amount] of Object.entries(cost))
      this.cost.set(currency, (this.cost.get(currency) ?? 0n) + amount);
    this.co2eMicrograms += co2eMicrograms;
  }

  /** Prometheus text exposition; `queueDepths` comes from the router at scrape time. */
  render(queueDepths: Record<string, number>): string {
    const lines: string[] = [];
    lines.push(
      '# HELP tokenwise_gateway_requests_total Requests by route and HTTP status.',
      '# TYPE tokenwise_gateway_requests_total counter',
    );
    for (const [labels, value] of this.requests) lines.push(`tokenwise_gateway_requests_total{${labels}} ${value}`);
    lines.push(
      '# HELP tokenwise_gateway_dropped_fields_total Body fields accepted and not forwarded, by field (other: any unlisted name).',
      '# TYPE tokenwise_gateway_dropped_fields_total counter',
    );
    for (const [field, value] of this.droppedFields)
      lines.push(`tokenwise_gateway_dropped_fields_total{field="${field}"} ${value}`);
    lines.push(
      '# HELP tokenwise_gateway_overruns_total Requests whose reported usage exceeded the held bound (charged the whole hold), by part.',
      '# TYPE tokenwise_gateway_overruns_total counter',
    );
    for (const [kind, value] of this.overruns) lines.push(`tokenwise_gateway_overruns_total{kind="${kind}"} ${value}`);
    lines.push(
      '# HELP tokenwise_gateway_added_latency_ms Time the gateway adds to a request, in ms.',
      '# TYPE tokenwise_gateway_added_latency_ms histogram',
    );
    let cumulative = 0;
    addedLatencyBucketsMs.forEach((bound, index) => {
      cumulative += this.addedLatencyCounts[index] ?? 0;
      lines.push(`tokenwise_gateway_added_latency_ms_bucket{le="${bound}"} ${cumulative}`);
    });
    lines.push(`tokenwise_gateway_added_latency_ms_bucket{le="+Inf"} ${this.addedLatencyCount}`);
    lines.push(
      `tokenwise_gateway_added_latency_ms_sum ${this.addedLatencySumMs}`,
      `tokenwise_gateway_added_latency_ms_count ${this.addedLatencyCount}`,
    );
    lines.push(
      '# HELP tokenwise_gateway_phase_ms Time per step of the request path, in ms.',
      '# TYPE tokenwise_gateway_phase_ms summary',
    );
    for (const [phase, { sumMs, count }] of this.phases)
      lines.push(
        `tokenwise_gateway_phase_ms_sum{phase="${phase}"} ${sumMs}`,
        `tokenwise_gateway_phase_ms_count{phase="${phase}"} ${count}`,
      );
    lines.push(
      '# HELP tokenwise_gateway_queue_depth Requests waiting for a model slot.',
      '# TYPE tokenwise_gateway_queue_depth gauge',
    );
    for (const [model, depth] of Object.entries(queueDepths))
      lines.push(`tokenwise_gateway_queue_depth{model="${model}"} ${depth}`);
    lines.push(
      '# HELP tokenwise_gateway_llm_tokens_total LLM tokens metered.',
      '# TYPE tokenwise_gateway_llm_tokens_total counter',
    );
    for (const [labels, value] of this.tokens) lines.push(`tokenwise_gateway_llm_tokens_total{${labels}} ${value}`);
    lines.push(
      '# HELP tokenwise_gateway_cost_minor_units_total Charged cost in minor units.',
      '# TYPE tokenwise_gateway_cost_minor_units_total counter',
    );
    for (const [currency, value] of this.cost)
      lines.push(`tokenwise_gateway_cost_minor_units_total{currency="${currency}"} ${value}`);
    lines.push(
      '# HELP tokenwise_gateway_co2e_grams_total Emissions of charged requests, gCO2e.',
      '# TYPE tokenwise_gateway_co2e_grams_total counter',
    );
    lines.push(`tokenwise_gateway_co2e_grams_total ${Number(this.co2eMicrograms) / 1e6}`);
    return `${lines.join('\n')}\n`;
  }
}
