import { z } from 'zod';

/** Faults to inject, settable at start, through `setFaults()` and through `POST /_sim/faults`. */
export const faultsSchema = z.strictObject({
  /** Fraction (0..1) of generation requests answered 500 with vLLM's InternalServerError body. */
  errorRate: z.number().min(0).max(1).optional(),
  /** Pause a request's generation for `durationMs` once it has produced `afterTokens` tokens. */
  stall: z
    .strictObject({
      afterTokens: z.number().int().min(0),
      durationMs: z.number().min(0),
      rate: z.number().min(0).max(1).optional(),
    })
    .nullable()
    .optional(),
  /** Destroy the socket once a request has produced `afterTokens` tokens (mid-stream for streams). */
  dropConnection: z
    .strictObject({ afterTokens: z.number().int().min(0), rate: z.number().min(0).max(1).optional() })
    .nullable()
    .optional(),
  /** Delay before the response headers of a generation request, in milliseconds. */
  firstByteDelayMs: z.number().min(0).optional(),
  /** A server that ignores the completion cap: generates (and reports) this many tokens more per choice. */
  overrunTokens: z.number().int().min(0).optional(),
  /** A server that reports no usage on streams (ignores `stream_options`), as some OpenAI-compatible servers do. */
  omitStreamUsage: z.boolean().optional(),
});

export type SimFaults = z.infer<typeof faultsSchema>;

/** The faults in force, with every field present. */
export interface ResolvedFaults {
  errorRate: number;
  stall: { afterTokens: number; durationMs: number; rate: number } | null;
  dropConnection: { afterTokens: number; rate: number } | null;
  firstByteDelayMs: number;
  overrunTokens: number;
  omitStreamUsage: boolean;
}

export const noFaults: ResolvedFaults = {
  errorRate: 0,
  stall: null,
  dropConnection: null,
  firstByteDelayMs: 0,
  overrunTokens: 0,
  omitStreamUsage: false,
};

/** Applies a partial update: absent fields keep their value, `null` clears stall/dropConnection. */
export function mergeFaults(current: ResolvedFaults, update: SimFaults): ResolvedFaults {
  const parsed = faultsSchema.parse(update);
  return {
    errorRate: parsed.errorRate ?? current.errorRate,
    stall:
      parsed.stall === undefined
        ? current.stall
        : parsed.stall === null
          ? null
          : {
              afterTokens: parsed.stall.afterTokens,
              durationMs: parsed.stall.durationMs,
              rate: parsed.stall.rate ?? 1,
            },
    dropConnection:
      parsed.dropConnection === undefined
        ? current.dropConnection
        : parsed.dropConnection === null
          ? null
          : { afterTokens: parsed.dropConnection.afterTokens, rate: parsed.dropConnection.rate ?? 1 },
    firstByteDelayMs: parsed.firstByteDelayMs ?? current.firstByteDelayMs,
    overrunTokens: parsed.overrunTokens ?? current.overrunTokens,
    omitStreamUsage: parsed.omitStreamUsage ?? current.omitStreamUsage,
  };
}

/** The faults drawn for one request (decided once, at arrival). */
export interface RequestFaults {
  stallAfterTokens: number;
  stallMs: number;
  dropAfterTokens: number;
}

/** Draws the per-request faults with `random` (seeded by the server so runs repeat). */
export function drawRequestFaults(faults: ResolvedFaults, random: () => number): RequestFaults {
  const stall = faults.stall !== null && random() < faults.stall.rate ? faults.stall : null;
  const drop = faults.dropConnection !== null && random() < faults.dropConnection.rate ? faults.dropConnection : null;
  return {
    stallAfterTokens: stall === null ? Infinity : stall.afterTokens,
    stallMs: stall === null ? 0 : stall.durationMs,
    dropAfterTokens: drop === null ? Infinity : drop.afterTokens,
  };
}

/** The body as a faulty server would read it: a cap raised by `overrunTokens`, stream usage ignored. */
export function misreadBody(body: unknown, faults: ResolvedFaults): unknown {
  if (
    body === null ||
    typeof body !== 'object' ||
    Array.isArray(body) ||
    (faults.overrunTokens === 0 && !faults.omitStreamUsage)
  )
    return body;
  const copy = { ...(body as Record<string, unknown>) };
  for (const field of ['max_tokens', 'max_completion_tokens']) {
    if (typeof copy[field] === 'number') copy[field] = (copy[field] as number) + faults.overrunTokens;
  }
  if (faults.omitStreamUsage) delete copy.stream_options;
  return copy;
}
