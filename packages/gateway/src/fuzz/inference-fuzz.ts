import { holdTransferId } from '@tokenwise/core';
import type { Database } from '@tokenwise/db';
import { gatewayRequests, ledgerTransfers, usageRecords } from '@tokenwise/db/schema';
import { checkInvariants } from '@tokenwise/ledger';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { Agent, fetch } from 'undici';
import { testModel, type GatewayWorld } from '../test-kit';

/**
 * A seeded fuzzer of the request path: random valid and malformed OpenAI bodies for both
 * endpoints, streaming or not, with clients that disconnect at random points, sent beside a
 * neighbour's steady, well-formed traffic. After every case it checks what a user would notice:
 * no 5xx the model server did not cause, exactly one usage row per answered request, a charge
 * never above its hold, and the neighbour unaffected; every `invariantsEvery` cases, the ledger.
 */

export interface FuzzOptions {
  seed: number;
  cases: number;
  /** Cases in flight at once. */
  concurrency: number;
  /** Stop starting cases after this long (the suite's time bound), in ms. */
  durationMsMax: number;
  invariantsEvery: number;
  log?: (line: string) => void;
}

export interface FuzzReport {
  casesRun: number;
  failures: string[];
  statuses: Record<string, number>;
  neighbourRequests: number;
}

/** Small, fast, seeded: the same seed replays the same campaign. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const chance = (random: Random, p: number) => random() < p;
const int = (random: Random, min: number, max: number) => min + Math.floor(random() * (max - min + 1));

const hostileStrings = [
  '\u0000',
  '\ud800',
  '😀'.slice(0, 1),
  'a\u0000b',
  '{"$bigint":"1"}',
  '\u202e',
  'x'.repeat(300),
  '',
  'ok',
];
const junkValues: unknown[] = [null, -1, 0, 1.5, 'str', [], {}, { $bigint: '5' }, [[[[]]]], true, 1e308, '\u0000'];

function text(random: Random): string {
  return chance(random, 0.3)
    ? pick(random, hostileStrings)
    : `words ${int(random, 0, 1_000)} ${pick(random, ['hello', 'tell me', 'code', 'λ', '文字'])}`;
}

function messages(random: Random): unknown {
  if (chance(random, 0.05)) return pick(random, junkValues);
  return Array.from({ length: int(random, 1, 3) }, () => {
    if (chance(random, 0.05)) return pick(random, junkValues);
    const content = chance(random, 0.1)
      ? [{ type: 'text', text: text(random) }]
      : chance(random, 0.03)
        ? [{ type: 'image_url', image_url: { url: 'x' } }]
        : text(random);
    return { role: pick(random, ['user', 'system', 'assistant']), content };
  });
}

function prompt(random: Random): unknown {
  if (chance(random, 0.05)) return pick(random, junkValues);
  switch (int(random, 0, 3)) {
    case 0:
      return text(random);
    case 1:
      return Array.from({ length: int(random, 1, 4) }, () => text(random));
    case 2:
      return Array.from({ length: int(random, 1, 8) }, () => int(random, 0, 50_000));
    default:
      return Array.from({ length: int(random, 1, 3) }, () =>
        Array.from({ length: int(random, 1, 5) }, () => int(random, 0, 50_000)),
      );
  }
}

/** Optional fields, each with a valid value most of the time and junk sometimes. */
const optionalFields: Record<string, (random: Random) => unknown> = {
  max_tokens: (random) => (chance(random, 0.1) ? pick(random, junkValues) : int(random, 1, 24)),
  max_completion_tokens: (random) => (chance(random, 0.1) ? pick(random, junkValues) : int(random, 1, 24)),
  n: (random) => (chance(random, 0.1) ? pick(random, junkValues) : int(random, 1, 3)),
  best_of: (random) => int(random, 1, 3),
  temperature: (random) => random() * 2,
  top_k: (random) => int(random, -1, 50),
  ignore_eos: (random) => chance(random, 0.5),
  min_tokens: (random) => int(random, 0, 4),
  stop: (random) => pick(random, ['\n', ['.', '!'], null]),
  seed: (random) => int(random, 0, 100),
  user: (random) => (chance(random, 0.2) ? pick(random, junkValues) : text(random)),
  suffix: (random) => text(random),
  echo: (random) => chance(random, 0.5),
  stream_options: (random) =>
    pick(random, [{ include_usage: true }, { include_usage: false }, { continuous_usage_stats: true }, null, 'junk']),
  response_format: (random) =>
    pick(random, [
      { type: 'json_object' },
      { type: 'text' },
      {
        type: 'json_schema',
        json_schema: { name: 'x', schema: { type: 'object', properties: { a: { type: 'string' } } } },
      },
    ]),
  chat_template_kwargs: (random) => pick(random, [{ enable_thinking: false }, { deep: { x: 1 } }, 'junk']),
  tools: (random) =>
    pick(random, [[{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }], 'junk']),
  store: () => true,
  metadata: (random) => ({ k: text(random) }),
  service_tier: () => 'auto',
  prompt_cache_key: (random) => text(random),
  request_id: () => 'fuzz-collide',
  priority: (random) => int(random, -5, 5),
  tokenwise_priority: (random) => pick(random, ['low', 'normal', 'high', 'bogus']),
  use_beam_search: (random) => chance(random, 0.5),
  chat_template: () => '{{ messages }}',
  prompt_embeds: () => 'AAAA',
  logits_processors: () => ['x'],
  vllm_xargs: () => ({ a: 1 }),
  kv_transfer_params: () => ({}),
  [`future_field_${0}`]: (random) => pick(random, junkValues),
};
const refusedNames = new Set([
  'chat_template',
  'prompt_embeds',
  'logits_processors',
  'vllm_xargs',
  'kv_transfer_params',
]);

export interface FuzzCase {
  endpoint: 'chat' | 'completions';
  body: Record<string, unknown> | string;
  stream: boolean;
  /** Disconnect after this many ms, or never. */
  disconnectAfterMs: number | undefined;
}

/** One random case; the same `random` sequence gives the same case. */
export function fuzzCase(random: Random): FuzzCase {
  const endpoint = chance(random, 0.5) ? 'chat' : 'completions';
  if (chance(random, 0.03))
    return {
      endpoint,
      body: pick(random, ['not json', '[]', 'null', '{"model":']),
      stream: false,
      disconnectAfterMs: undefined,
    };
  const body: Record<string, unknown> = { model: chance(random, 0.03) ? pick(random, ['nope', 42]) : testModel };
  // The right field for the endpoint most of the time, the other endpoint's (or both) sometimes.
  if (endpoint === 'chat' || chance(random, 0.15)) body.messages = messages(random);
  if (endpoint === 'completions' || chance(random, 0.15)) body.prompt = prompt(random);
  const stream = chance(random, 0.5);
  if (stream || chance(random, 0.05)) body.stream = chance(random, 0.03) ? 'yes' : stream;
  const names = Object.keys(optionalFields);
  for (let i = int(random, 0, 6); i > 0; i--) {
    const name = pick(random, names);
    // Refused fields are rare, so most cases reach the model.
    if (refusedNames.has(name) && !chance(random, 0.2)) continue;
    body[name] = (optionalFields[name] as (random: Random) => unknown)(random);
  }
  const disconnectAfterMs = chance(random, 0.2) ? int(random, 0, 40) : undefined;
  return { endpoint, body, stream, disconnectAfterMs };
}

interface CaseResult {
  status: number | 'disconnected';
  requestId: string | null;
  /** The answer was read to its end (for a stream: [DONE] seen). */
  complete: boolean;
}

async function send(world: GatewayWorld, apiKey: string, fuzz: FuzzCase, dispatcher: Agent): Promise<CaseResult> {
  const leaving = new AbortController();
  const timer =
    fuzz.disconnectAfterMs === undefined ? undefined : setTimeout(() => leaving.abort(), fuzz.disconnectAfterMs);
  try {
    const response = await fetch(
      `${world.gateway.url}/v1/${fuzz.endpoint === 'chat' ? 'chat/completions' : 'completions'}`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: typeof fuzz.body === 'string' ? fuzz.body : JSON.stringify(fuzz.body),
        signal: leaving.signal,
        dispatcher,
      },
    );
    const answer = await response.text();
    const complete =
      response.status === 200 &&
      (!response.headers.get('content-type')?.includes('event-stream') || answer.includes('data: [DONE]'));
    return { status: response.status, requestId: response.headers.get('x-request-id'), complete };
  } catch {
    return { status: 'disconnected', requestId: null, complete: false };
  } finally {
    clearTimeout(timer);
  }
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return condition();
}

/** Checks one answered request: one usage row, its charge within its admission's estimate. */
async function checkAnswered(database: Database, requestId: string): Promise<string | undefined> {
  const found = await waitUntil(
    async () =>
      (
        await database.db
          .select({ id: usageRecords.requestId })
          .from(usageRecords)
          .where(eq(usageRecords.requestId, requestId))
      ).length > 0,
    10_000,
  );
  if (!found) return `request ${requestId} was answered 200 but has no usage row`;
  const rows = await database.db
    .select({
      cost: usageRecords.cost,
      fee: usageRecords.fee,
      estimate: gatewayRequests.estimate,
      feeEstimate: gatewayRequests.feeEstimate,
    })
    .from(usageRecords)
    .innerJoin(gatewayRequests, eq(gatewayRequests.requestId, usageRecords.requestId))
    .where(eq(usageRecords.requestId, requestId));
  if (rows.length !== 1) return `request ${requestId} has ${rows.length} usage rows joined to its admission`;
  const [row] = rows;
  if (row !== undefined && (row.cost > row.estimate || (row.fee ?? 0n) > (row.feeEstimate ?? 0n)))
    return `request ${requestId} was charged ${row.cost} (fee ${row.fee}) over its hold ${row.estimate} (fee ${row.feeEstimate})`;
  return undefined;
}

/** Every admission of these keys ended in exactly one usage row or a released hold, and nothing is still held. */
async function checkSettledAdmissions(
  database: Database,
  keyIds: string[],
  wallets: string[],
  ledger: GatewayWorld['ledger'],
): Promise<string[]> {
  const problems: string[] = [];
  const quiet = await waitUntil(async () => {
    for (const wallet of wallets) if ((await ledger.balance(wallet)).debitsPending !== 0n) return false;
    return true;
  }, 15_000);
  if (!quiet) problems.push('holds are still pending after every request ended');
  const admitted = await database.db
    .select({ requestId: gatewayRequests.requestId })
    .from(gatewayRequests)
    .where(inArray(gatewayRequests.keyId, keyIds));
  const ids = admitted.map((row) => row.requestId);
  if (ids.length === 0) return problems;
  const usage = new Set(
    (
      await database.db
        .select({ id: usageRecords.requestId })
        .from(usageRecords)
        .where(inArray(usageRecords.requestId, ids))
    ).map((row) => row.id),
  );
  const voided = new Set(
    (
      await database.db
        .select({ pendingId: ledgerTransfers.pendingId })
        .from(ledgerTransfers)
        .where(
          and(
            eq(ledgerTransfers.type, 'void'),
            inArray(
              ledgerTransfers.pendingId,
              ids.map((id) => holdTransferId(id, 'innovation')),
            ),
          ),
        )
    ).map((row) => row.pendingId),
  );
  for (const id of ids) {
    const charged = usage.has(id);
    const released = voided.has(holdTransferId(id, 'innovation'));
    if (charged === released)
      problems.push(`admission ${id} ended ${charged ? 'both charged and released' : 'neither charged nor released'}`);
  }
  return problems;
}

/** Runs a campaign against a gateway world on a real database; returns what it found. */
export async function runInferenceFuzz(
  world: GatewayWorld,
  database: Database,
  options: FuzzOptions,
): Promise<FuzzReport> {
  const random = mulberry32(options.seed);
  // Its own connections, closed at the end: a client cut mid-upload must not keep the gateway's
  // server waiting for the rest of a request.
  const dispatcher = new Agent({ connections: options.concurrency * 2 });
  const fuzzer = await world.user({ innovation: 10n ** 12n, priority: 10n ** 9n });
  const neighbour = await world.user({ innovation: 10n ** 12n });
  const report: FuzzReport = { casesRun: 0, failures: [], statuses: {}, neighbourRequests: 0 };
  const startedAt = Date.now();
  let stop = false;
  const neighbourIds: string[] = [];
  const neighbourLoop = (async () => {
    while (!stop) {
      const result = await send(
        world,
        neighbour.apiKey,
        {
          endpoint: 'chat',
          body: { model: testModel, messages: [{ role: 'user', content: 'steady' }], max_tokens: 4 },
          stream: false,
          disconnectAfterMs: undefined,
        },
        dispatcher,
      );
      report.neighbourRequests++;
      if (result.status !== 200 || result.requestId === null)
        report.failures.push(`the neighbour's request failed with ${result.status} during the campaign`);
      else neighbourIds.push(result.requestId);
    }
  })();
  let next = 0;
  const worker = async () => {
    while (next < options.cases && Date.now() - startedAt < options.durationMsMax && report.failures.length < 20) {
      const index = next++;
      const fuzz = fuzzCase(random);
      const result = await send(world, fuzzer.apiKey, fuzz, dispatcher);
      report.casesRun++;
      report.statuses[String(result.status)] = (report.statuses[String(result.status)] ?? 0) + 1;
      const where = `case ${index} (seed ${options.seed}): ${fuzz.endpoint} ${JSON.stringify(fuzz.body).slice(0, 300)}`;
      if (typeof result.status === 'number' && result.status >= 500)
        report.failures.push(`${where}: answered ${result.status} with no upstream fault`);
      if (result.status === 200 && result.complete && result.requestId !== null) {
        const problem = await checkAnswered(database, result.requestId);
        if (problem !== undefined) report.failures.push(`${where}: ${problem}`);
      }
      if ((index + 1) % options.invariantsEvery === 0) {
        const violations = await checkInvariants(database.db);
        if (violations.length > 0)
          report.failures.push(
            `after case ${index}: ledger invariants broken: ${JSON.stringify(violations).slice(0, 500)}`,
          );
        options.log?.(
          `${index + 1} cases, ${report.failures.length} failures, statuses ${JSON.stringify(report.statuses)}`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  stop = true;
  await neighbourLoop;
  await dispatcher.destroy();
  for (const id of neighbourIds) {
    const problem = await checkAnswered(database, id);
    if (problem !== undefined) report.failures.push(`neighbour: ${problem}`);
  }
  report.failures.push(
    ...(await checkSettledAdmissions(
      database,
      [fuzzer.keyId, neighbour.keyId],
      Object.values({ ...fuzzer.wallets, ...neighbour.wallets }),
      world.ledger,
    )),
  );
  const violations = await checkInvariants(database.db);
  if (violations.length > 0)
    report.failures.push(`at the end: ledger invariants broken: ${JSON.stringify(violations).slice(0, 500)}`);
  const [{ count } = { count: 0 }] = await database.db
    .select({ count: sql<number>`count(*)::int` })
    .from(usageRecords)
    .where(eq(usageRecords.keyId, neighbour.keyId));
  if (count !== neighbourIds.length)
    report.failures.push(`the neighbour has ${count} usage rows for ${neighbourIds.length} answered requests`);
  return report;
}
