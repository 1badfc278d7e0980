import type { types } from '@slack/bolt';
import type { ApiCaller } from '../context';
import { clip, escapeMrkdwn, grams, score, tokens } from '../format';

type Balances = Awaited<ReturnType<ApiCaller['me']['balances']>>;
type UsageItem = Awaited<ReturnType<ApiCaller['me']['recentUsage']>>[number];
type Totals = Awaited<ReturnType<ApiCaller['scores']['byUser']>>;
type ScoreDetail = Awaited<ReturnType<ApiCaller['scores']['byRequest']>>;
type Settlement = NonNullable<ScoreDetail['settlement']>;

/** How many requests `/tokens` lists, and how many `/tokens scores` explains. */
export const recentRequestsShown = 8;
export const scoredRequestsExplained = 5;
const rationaleCharsMax = 300;

export interface Message {
  text: string;
  blocks: types.KnownBlock[];
}

const section = (text: string): types.KnownBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: clip(text, 3_000) },
});
const context = (text: string): types.KnownBlock => ({
  type: 'context',
  elements: [{ type: 'mrkdwn', text: clip(text, 2_000) }],
});

/** Refund and reward of a settlement in words; "pending" before it settled. */
export function settlementWords(
  usage: Pick<UsageItem, 'settledAt' | 'refund' | 'refundCurrency'>,
  settlement?: Pick<Settlement, 'reward' | 'rewardCurrency'> | null,
): string {
  if (usage.settledAt === null) return 'settlement pending';
  const parts: string[] = [];
  if (usage.refund !== null && usage.refund > 0n)
    parts.push(`refund ${tokens(usage.refund, usage.refundCurrency ?? '')}`);
  if (settlement?.reward !== undefined && settlement.reward > 0n)
    parts.push(`reward ${tokens(settlement.reward, settlement.rewardCurrency ?? '')}`);
  return parts.length === 0 ? 'no refund' : parts.join(', ');
}

function requestLine(usage: UsageItem, settlement: Settlement | null | undefined): string {
  const when = usage.createdAt.slice(0, 16).replace('T', ' ');
  return [
    `\`${escapeMrkdwn(usage.requestId)}\` ${escapeMrkdwn(usage.model)} · ${when} UTC`,
    `cost ${tokens(usage.cost, usage.currency)} · ${grams(usage.co2eGrams)} CO2e · value ${score(usage.score)} · ${settlementWords(usage, settlement)}`,
  ].join('\n');
}

/** `/tokens`: wallet by currency, this month's totals, the latest requests. */
export function tokensMessage(input: {
  balances: Balances;
  month: Totals;
  recent: UsageItem[];
  settlements: Map<string, Settlement | null>;
}): Message {
  const wallet = input.balances.map(
    (balance) =>
      `*${balance.currency}*: ${tokens(balance.available, balance.currency)} available` +
      (balance.held > 0n ? ` (${tokens(balance.held, balance.currency)} held by requests in flight)` : ''),
  );
  const month = input.month;
  const monthLine =
    month.requests === 0
      ? 'No requests this month yet.'
      : `This month: ${month.requests} ${month.requests === 1 ? 'request' : 'requests'}, ${tokens(month.costMinorUnits, 'innovation')} spent, ${tokens(month.refundMinorUnits, 'innovation')} refunded, ${grams(Number(month.co2eMicrograms) / 1e6)} CO2e` +
        (month.valuePer1kTokens === null ? '' : `, value ${month.valuePer1kTokens.toFixed(2)} per 1k tokens`);
  const blocks: types.KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Your tokens' } },
    section(wallet.join('\n')),
    section(monthLine),
    { type: 'divider' },
  ];
  if (input.recent.length === 0) blocks.push(section('You have sent no requests through the gateway yet.'));
  else {
    blocks.push(section('*Latest requests*'));
    for (const usage of input.recent.slice(0, recentRequestsShown))
      blocks.push(section(requestLine(usage, input.settlements.get(usage.requestId))));
  }
  blocks.push(
    context('`/tokens scores`: each plugin’s rationale · `/tokens key`: a new API key · `/carbon`: your carbon budget'),
  );
  const text = `Your tokens: ${input.balances.map((balance) => tokens(balance.available, balance.currency)).join(', ')}`;
  return { text, blocks };
}

function pluginLines(results: unknown): string[] {
  if (!Array.isArray(results) || results.length === 0) return ['no plugin results'];
  return results.map((result) => {
    const record = result as {
      pluginId?: string;
      status?: string;
      score?: number;
      confidence?: number;
      rationale?: string;
      reason?: string;
    };
    const head = `*${escapeMrkdwn(record.pluginId ?? '?')}*: ${record.status === 'scored' ? `${score(record.score)} (confidence ${score(record.confidence)})` : (record.status ?? '?')}`;
    const why = record.rationale ?? record.reason;
    return why === undefined ? head : `${head} — ${escapeMrkdwn(clip(why, rationaleCharsMax))}`;
  });
}

/** `/tokens scores`: the latest settled requests with each plugin's score and rationale. */
export function scoresMessage(details: ScoreDetail[]): Message {
  const blocks: types.KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: 'Your value scores' } }];
  const settled = details.filter((detail) => detail.settlement !== null);
  if (settled.length === 0) blocks.push(section('None of your requests has been scored yet.'));
  for (const detail of settled.slice(0, scoredRequestsExplained)) {
    const settlement = detail.settlement as Settlement;
    blocks.push(
      section(
        `\`${escapeMrkdwn(detail.requestId)}\` ${escapeMrkdwn(detail.model)} · value *${score(settlement.score)}* (confidence ${score(settlement.confidence)})`,
      ),
      context(clip([...pluginLines(settlement.results), escapeMrkdwn(settlement.reason)].join('\n'), 2_000)),
    );
  }
  return { text: `Your value scores: ${settled.length} settled requests`, blocks };
}

/** `/tokens key`: the secret, shown this once. */
export function keyMessage(key: { id: string; expiresAt: string | null; scopes: string[] }, secret: string): Message {
  const expiry = key.expiresAt === null ? 'never expires' : `expires ${key.expiresAt.slice(0, 10)}`;
  return {
    text: `Your new API key ${key.id} (shown once): ${secret}`,
    blocks: [
      section(
        `*Your new API key* \`${key.id}\` (${key.scopes.join(', ')}, ${expiry}). Copy it now: it is shown this once and only to you.`,
      ),
      section(`\`\`\`${secret}\`\`\``),
      context(
        'Send it as `Authorization: Bearer <key>` to the gateway (`OPENAI_API_KEY` for OpenAI clients). Revoke it with `tokenwise keys revoke` or the API.',
      ),
    ],
  };
}

/** What `/tokens` and `/carbon` can do. */
export function helpMessage(unknown?: string): Message {
  const lines = [
    unknown === undefined
      ? '*Tokenwise commands*'
      : `I don't know \`${escapeMrkdwn(clip(unknown, 100))}\`. *Tokenwise commands:*`,
    '`/tokens`: your balances, this month’s spend and your latest requests with cost, CO2e, value score and refund',
    '`/tokens scores`: the value scores of your latest settled requests with each plugin’s rationale',
    '`/tokens key`: create an API key for the gateway, shown once',
    '`/carbon`: your, your team’s and your org’s carbon use against the caps, and a button to ask for a raise',
  ];
  return { text: lines.join('\n'), blocks: [section(lines.join('\n'))] };
}
