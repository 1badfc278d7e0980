/** Finish reasons vLLM's `vllm:request_success_total` carries in its `finished_reason` label. */
export type FinishedReason = 'stop' | 'length' | 'abort';

const ttftBucketsSeconds = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0,
  640.0, 2560.0,
];
const tpotBucketsSeconds = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
];
const requestLatencyBucketsSeconds = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0,
  7680.0,
];

/** vLLM's build_1_2_5_buckets: 1, 2, 5, 10, 20, 50, ... up to `max`. */
function buckets125(max: number): number[] {
  const result: number[] = [];
  for (let power = 1; ; power *= 10) {
    for (const mantissa of [1, 2, 5]) {
      if (mantissa * power > max) return result;
      result.push(mantissa * power);
    }
  }
}

class Histogram {
  readonly counts: number[];
  count = 0;
  sum = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length).fill(0);
  }

  observe(value: number): void {
    this.count++;
    this.sum += value;
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= (this.bounds[i] as number)) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

/** A plain-object view of the counters, for tests and the programmatic API. */
export interface MetricsSnapshot {
  running: number;
  waiting: number;
  preemptions: number;
  promptTokens: number;
  generationTokens: number;
  requestSuccess: Record<FinishedReason, number>;
  timeToFirstToken: { count: number; sumSeconds: number };
  e2eRequestLatency: { count: number; sumSeconds: number };
}

/** The metrics of one served model, rendered with vLLM's names and labels. */
export class SimMetrics {
  preemptions = 0;
  promptTokens = 0;
  generationTokens = 0;
  readonly requestSuccess: Record<FinishedReason, number> = { stop: 0, length: 0, abort: 0 };
  readonly timeToFirstToken = new Histogram(ttftBucketsSeconds);
  readonly timePerOutputToken = new Histogram(tpotBucketsSeconds);
  readonly e2eRequestLatency = new Histogram(requestLatencyBucketsSeconds);
  readonly requestQueueTime = new Histogram(requestLatencyBucketsSeconds);
  readonly requestPromptTokens: Histogram;
  readonly requestGenerationTokens: Histogram;

  constructor(
    readonly modelName: string,
    maxModelLen: number,
  ) {
    this.requestPromptTokens = new Histogram(buckets125(maxModelLen));
    this.requestGenerationTokens = new Histogram(buckets125(maxModelLen));
  }

  snapshot(running: number, waiting: number): MetricsSnapshot {
    return {
      running,
      waiting,
      preemptions: this.preemptions,
      promptTokens: this.promptTokens,
      generationTokens: this.generationTokens,
      requestSuccess: { ...this.requestSuccess },
      timeToFirstToken: { count: this.timeToFirstToken.count, sumSeconds: this.timeToFirstToken.sum },
      e2eRequestLatency: { count: this.e2eRequestLatency.count, sumSeconds: this.e2eRequestLatency.sum },
    };
  }

  /** Prometheus text exposition (format 0.0.4), label order as prometheus_client writes it. */
  render(running: number, waiting: number): string {
    const labels = `model_name="${escapeLabel(this.modelName)}",engine="0"`;
    const lines: string[] = [];
    const scalar = (name: string, type: string, help: string, value: number): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}{${labels}} ${formatValue(value)}`);
    };
    scalar('vllm:num_requests_running', 'gauge', 'Number of requests in model execution batches.', running);
    scalar('vllm:num_requests_waiting', 'gauge', 'Number of requests waiting to be processed.', waiting);
    scalar(
      'vllm:num_preemptions_total',
      'counter',
      'Cumulative number of preemption from the engine.',
      this.preemptions,
    );
    scalar('vllm:prompt_tokens_total', 'counter', 'Number of prefill tokens processed.', this.promptTokens);
    scalar('vllm:generation_tokens_total', 'counter', 'Number of generation tokens processed.', this.generationTokens);
    lines.push(
      '# HELP vllm:request_success_total Count of successfully processed requests.',
      '# TYPE vllm:request_success_total counter',
    );
    for (const reason of ['stop', 'length', 'abort'] as const) {
      lines.push(
        `vllm:request_success_total{${labels},finished_reason="${reason}"} ${formatValue(this.requestSuccess[reason])}`,
      );
    }
    const histogram = (name: string, help: string, h: Histogram): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
      let cumulative = 0;
      for (let i = 0; i < h.bounds.length; i++) {
        cumulative += h.counts[i] as number;
        lines.push(`${name}_bucket{${labels},le="${formatValue(h.bounds[i] as number)}"} ${formatValue(cumulative)}`);
      }
      lines.push(`${name}_bucket{${labels},le="+Inf"} ${formatValue(h.count)}`);
      lines.push(`${name}_count{${labels}} ${formatValue(h.count)}`, `${name}_sum{${labels}} ${formatValue(h.sum)}`);
    };
    histogram(
      'vllm:time_to_first_token_seconds',
      'Histogram of time to first token in seconds.',
      this.timeToFirstToken,
    );
    histogram(
      'vllm:time_per_output_token_seconds',
      'Histogram of time per output token in seconds.',
      this.timePerOutputToken,
    );
    histogram(
      'vllm:e2e_request_latency_seconds',
      'Histogram of e2e request latency in seconds.',
      this.e2eRequestLatency,
    );
    histogram(
      'vllm:request_queue_time_seconds',
      'Histogram of time spent in WAITING phase for request.',
      this.requestQueueTime,
    );
    histogram('vllm:request_prompt_tokens', 'Number of prefill tokens processed.', this.requestPromptTokens);
    histogram('vllm:request_generation_tokens', 'Number of generation tokens processed.', this.requestGenerationTokens);
    return `${lines.join('\n')}\n`;
  }
}

function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

/** prometheus_client prints floats: 3 -> "3.0". */
function formatValue(value: number): string {
  return Number.isInteger(value) ? `${value}.0` : String(value);
}
