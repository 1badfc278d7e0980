import { cutText } from '@tokenwise/core';
import type { Db } from '@tokenwise/db';
import type { Ledger } from '@tokenwise/ledger';
import { performance } from 'node:perf_hooks';
import type { CarbonBudgets } from './carbon-budgets';
import type { EarlyForwarding } from './early-forwarding';
import { charge, priceUsage, type Admission, type Completion } from './metering';
import type { GatewayMetrics } from './metrics';
import type { PayerAccounts } from './payer-accounts';
import type { Authenticator, ClusterInfo, Principal, RequestLimiter, UpstreamLease, UpstreamRouter } from './ports';
import type { SettlementVersions } from './policy-versions';
import type { PriceListSource } from '@tokenwise/control';
import type { GatewaySettings } from './settings';
import type { TokenUsage } from './stream-usage';
import type { UpstreamBody } from './upstream-request';
import type { UpstreamPools } from './upstream-pools';
import type { CancelSignal } from './abort';

export interface InferenceDeps {
  db: Db;
  ledger: Ledger;
  auth: Authenticator;
  router: UpstreamRouter;
  limiter: RequestLimiter | undefined;
  priceLists: PriceListSource;
  accounts: PayerAccounts;
  pools: UpstreamPools;
  settings: GatewaySettings;
  metrics: GatewayMetrics;
  earlyForwarding: EarlyForwarding;
  /** Carbon caps: holds on budgets at admission, soft-threshold notifications after charges. */
  carbonBudgets?: CarbonBudgets;
  /** The team's settlement-policy version to pin on the admission row (settlement issue). */
  settlementVersionsOf?: (principal: Principal) => Promise<SettlementVersions>;
  log: (line: string) => void;
}

export type InferenceKind = 'chat' | 'completions';

/** The OpenAI `user` field as stored: at most this many UTF-16 units, cut by code point. */
export const endUserLengthMax = 256;

export interface Upstream {
  lease: UpstreamLease;
  statusCode: number;
  body: UpstreamBody;
  sentAt: number;
}

/** A request that reached admission: its hold is charged or released exactly once, whatever happens next. */
export class Flight {
  admission: Admission | undefined;
  /** True once the hold's charge or release is decided; nothing may charge or release it again. */
  resolved = false;
  /** Set once a replica took the request: from then on the model may be working on it. */
  forwarded: { replica: string; cluster: ClusterInfo } | undefined;
  constructor(readonly requestId: string) {}
}

export interface RelayMeta {
  /** The cluster that served it, with the coefficients it was granted with (admission bounded them by the dirtiest it could reach). */
  cluster: ClusterInfo;
  principal: Principal;
  body: Record<string, unknown>;
  tags: Record<string, string>;
  startedAt: number;
  upstreamAbort: CancelSignal;
  clientGone: CancelSignal;
  timeout: CancelSignal;
  /** Marks the client as gone (a client that stopped reading is cut). */
  abandon: () => void;
}

/** What one charge records besides usage: how the request ended. */
export type Outcome = Completion['outcome'];

/** Prices what was used (from the admission's price list) and builds the charge; nothing is written yet. */
export function priceCharge(
  deps: InferenceDeps,
  flight: Flight,
  replica: string,
  meta: Pick<RelayMeta, 'cluster' | 'body' | 'tags' | 'startedAt' | 'principal'>,
  usage: TokenUsage,
  outcome: Outcome,
  ttftMs: number | undefined,
  completionText: string,
): { costs: Record<string, bigint>; commit: () => Promise<void> } {
  const admission = flight.admission;
  if (admission === undefined) throw new Error('priceCharge without admission');
  const completion: Completion = {
    usage,
    cluster: meta.cluster,
    replica,
    latencyMs: performance.now() - meta.startedAt,
    ttftMs,
    outcome,
    endUser: typeof meta.body.user === 'string' ? cutText(meta.body.user, endUserLengthMax) : null,
    tags: meta.tags,
  };
  const priced = priceUsage(admission, completion, deps.settings.modelProfiles);
  if (priced.overrun !== undefined) {
    deps.metrics.countOverrun(priced.overrun);
    deps.log(
      `request ${admission.requestId}: usage over its hold (${priced.overrun}: prompt ${usage.promptTokens}/${admission.estimate.promptTokensBound}, completion ${usage.completionTokens}/${admission.estimate.completionTokensBound} tokens); the whole hold is charged`,
    );
  }
  flight.resolved = true;
  const commit = async () => {
    let carbonPosted: (bigint | undefined)[];
    try {
      carbonPosted = await charge(
        deps.ledger,
        admission,
        completion,
        priced,
        payloadOf(deps, meta.body, completionText),
      );
    } catch (error) {
      // The hold stays: reconciliation (or its expiry) closes it. Never retried blindly here.
      deps.log(
        `request ${admission.requestId}: committing the charge failed: ${(error as Error).stack ?? String(error)}`,
      );
      return;
    }
    deps.limiter?.recordTokens(meta.principal, usage.promptTokens + usage.completionTokens);
    if (admission.carbonHolds.length > 0)
      deps.carbonBudgets?.afterCharge(meta.principal, admission.carbonHolds, carbonPosted);
    deps.metrics.observeUsage(
      admission.model,
      usage.promptTokens,
      usage.completionTokens,
      priced.cost.totals,
      priced.co2eMicrograms,
    );
  };
  return { costs: { ...priced.cost.totals }, commit };
}

/** Prompt and completion for the scoring plugins, capped; stored with the charge, in its transaction. */
function payloadOf(deps: InferenceDeps, body: Record<string, unknown>, completion: string): Record<string, unknown> {
  const cap = deps.settings.payloadBytesMax;
  const promptSource = body.messages ?? body.prompt ?? null;
  const promptText = JSON.stringify(promptSource);
  const promptTooLarge = Buffer.byteLength(promptText) > cap;
  return {
    prompt: promptTooLarge ? { truncated: cutText(promptText, cap) } : promptSource,
    completion: cutText(completion, cap),
    truncated: promptTooLarge || Buffer.byteLength(completion) > cap,
    expiresAt: new Date(Date.now() + deps.settings.payloadRetentionDays * 86_400_000),
  };
}

export function costHeaders(costs: Record<string, bigint>, prefix: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(costs).map(([currency, amount]) => [`x-tokenwise-${prefix}-${currency}`, amount.toString()]),
  );
}

/** Remaining balance per currency: what was available after the hold, plus what the charge leaves of it. */
export function balanceHeaders(admission: Admission, costs?: Record<string, bigint>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const hold of admission.holds) {
    if (hold.availableAfter === undefined) continue;
    const returned = costs === undefined ? 0n : hold.amount - (costs[hold.currency] ?? 0n);
    headers[`x-tokenwise-balance-${hold.currency}`] = (hold.availableAfter + returned).toString();
  }
  return headers;
}
