import {
  clientWriteStallMsDefault,
  holdTimeoutSeconds,
  modelProfileSchema,
  requestTimeoutMsDefault,
} from '@tokenwise/control';
import { z } from 'zod';

export { holdTimeoutSeconds };

export const gatewaySettingsSchema = z.object({
  /** Completion tokens per choice when the client sets no max_tokens (written into the forwarded body). */
  completionTokensCap: z.number().int().min(1).max(1_000_000).default(4_096),
  /** Refuse a max_tokens above the cap instead of honouring it. */
  enforceCompletionTokensCap: z.boolean().default(false),
  /** Longest a request may run, queue wait included; streams are cut after it. */
  requestTimeoutMs: z.number().int().min(1_000).max(3_600_000).default(requestTimeoutMsDefault),
  /**
   * A stream whose client reads nothing for this long (its socket buffer full) is cut: its model
   * slot is released and it pays for what was generated.
   */
  clientWriteStallMs: z.number().int().min(100).max(600_000).default(clientWriteStallMsDefault),
  bodyBytesMax: z
    .number()
    .int()
    .min(1_024)
    .max(64 * 1024 * 1024)
    .default(4 * 1024 * 1024),
  /** Prompt and completion kept for scoring, each at most this many bytes. */
  payloadBytesMax: z
    .number()
    .int()
    .min(0)
    .max(16 * 1024 * 1024)
    .default(64 * 1024),
  payloadRetentionDays: z.number().int().min(1).max(3_650).default(30),
  /** Upstream responses (non-streaming) larger than this are refused. */
  upstreamBodyBytesMax: z
    .number()
    .int()
    .min(1_024)
    .max(256 * 1024 * 1024)
    .default(32 * 1024 * 1024),
  /** Stream tokens reach the client at most this long after they arrive (0 = as they arrive); the first token and the end are never held. */
  streamFlushIntervalMs: z.number().int().min(0).max(1_000).default(10),
  /**
   * Send a request upstream while its hold commits (default), answering only once the hold is
   * durable: the commit overlaps the model's time to first token instead of adding to it.
   */
  forwardWhileHoldCommits: z.boolean().default(true),
  /**
   * Carbon profiles of models by name, for models whose cluster declares none (the cluster's
   * `modelProfiles` win). A model with neither is metered as dense at its price list weight and
   * flagged `carbon_assumed`.
   */
  modelProfiles: z.record(z.string(), modelProfileSchema).default({}),
});

export type GatewaySettings = z.output<typeof gatewaySettingsSchema>;
export type GatewaySettingsInput = z.input<typeof gatewaySettingsSchema>;

/**
 * The ledger batch interval the gateway's services use: a hold commits while its request is already
 * upstream (forwardWhileHoldCommits), so a few milliseconds more per batch cost the client nothing
 * (a model's first token takes longer) and gather several operations per statement instead of two,
 * for less work per request in the gateway and in PostgreSQL (bench:gateway).
 */
export const ledgerBatchIntervalMs = 10;

/**
 * Node (V8) flags the gateway process runs with (Compose's command, bench:gateway):
 * - `--no-parallel-scavenge`: young-generation collections on the main thread alone; on a few busy
 *   cores, waiting for helper threads that are not scheduled made them pause for longer.
 * - `--max-old-space-size=2047`: a heap limit just under 2 GB, chosen for what it does to V8's heap
 *   growing. V8 lets the old generation grow to up to 4 times its live size before collecting it
 *   when the heap limit is 2 GB or more (Node's default on a server is about 4 GB), and scales that
 *   factor down to 1.3-2 for smaller limits (MemoryController::MaxGrowingFactor; on Node 20's V8 11.3
 *   this limit gives 2). The gateway's heap holds 23 MB after a full collection at the end of
 *   bench:gateway (its caches are bounded), 30-50 MB with requests in flight; with the default,
 *   that sat in 81-94 MB of committed old space, and with carbon caps, which
 *   promote 34 KB a request against 14 KB (more ledger operations alive across two scavenges), every
 *   capped phase of bench:gateway peaked at 198-224 MB resident, over the 200 MB bar. With this
 *   limit: 163-167 MB peak on every path (old space 37-48 MB), 5-10 incremental collections a phase
 *   against 2-6. Four full runs each way, alternated: 1,022-1,131 µs of gateway CPU per request
 *   against 991-1,066 µs without it. A 1 GB limit (factor 1.6) gave 148-157 MB but 14-17
 *   collections a phase and 1,177-1,211 µs.
 *
 * V8's own heap growing is otherwise kept. `--heap-growing-percent=50`, once here to keep resident memory
 * near the live set, started a full collection every 1-1.5 s under load (16-20 in a 23 s phase
 * against 2-3), and the marking that ran nearly all the time slowed every request: in four
 * alternating pairs of bench:gateway, capped streams used 1,349-1,511 µs of gateway CPU per request
 * without it against 1,445-1,654 µs with it, event-loop delay p99 6.5-11.2 ms against 11.2-16.4 ms,
 * and added p99 19-37 ms against 41-58 ms, for about 50 MB more resident memory (205-218 MB).
 */
export const gatewayNodeFlags: readonly string[] = ['--no-parallel-scavenge', '--max-old-space-size=2047'];
