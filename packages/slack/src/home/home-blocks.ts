import type { types } from '@slack/bolt';
import { scopeLine } from '../commands/carbon-blocks';
import type { ApiCaller } from '../context';
import { clip, escapeMrkdwn, grams, score, tokens } from '../format';

type Balances = Awaited<ReturnType<ApiCaller['me']['balances']>>;
type UsageItem = Awaited<ReturnType<ApiCaller['me']['recentUsage']>>[number];
type CarbonStatus = Awaited<ReturnType<ApiCaller['carbon']['status']>>;
type LeaderboardRow = Awaited<ReturnType<ApiCaller['scores']['leaderboard']>>[number];

export const settlementMuteToggleAction = 'settlement_mute_toggle';
/** Slack's limit on a Home view. */
export const homeBlocksMax = 100;
export const homeSettledShown = 10;
export const homeLeadersShown = 10;

export interface HomeData {
  displayName: string;
  balances: Balances;
  carbon: CarbonStatus;
  settled: UsageItem[];
  /** Present for leads: their team's users ranked by value per 1k tokens this month. */
  leaderboard: { rows: LeaderboardRow[]; names: Map<string, string> } | null;
  settlementMuted: boolean;
}

const section = (text: string): types.KnownBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: clip(text, 3_000) },
});
const header = (text: string): types.KnownBlock => ({
  type: 'header',
  text: { type: 'plain_text', text: clip(text, 150) },
});

function leaderboardBlocks(leaderboard: NonNullable<HomeData['leaderboard']>): types.KnownBlock[] {
  const blocks: types.KnownBlock[] = [header('Your team’s value per 1k tokens this month')];
  if (leaderboard.rows.length === 0) return [...blocks, section('No scored requests in your team this month yet.')];
  const lines = leaderboard.rows.slice(0, homeLeadersShown).map((row) => {
    const name = escapeMrkdwn(leaderboard.names.get(row.userId ?? '') ?? row.userId ?? '?');
    const value = row.valuePer1kTokens === null ? '—' : row.valuePer1kTokens.toFixed(2);
    return `${row.rank}. *${name}*: ${value} per 1k tokens · ${row.scoredRequests} scored of ${row.requests} requests · mean ${score(row.meanScore)}`;
  });
  return [...blocks, section(lines.join('\n'))];
}

function muteBlock(muted: boolean): types.KnownBlock {
  return {
    type: 'section',
    block_id: 'settlement_mute',
    text: {
      type: 'mrkdwn',
      text: muted
        ? '*Settlement messages are muted.* You still see everything here and with `/tokens`.'
        : '*Settlement messages are on:* a digest of refunds and rewards in your DMs.',
    },
    accessory: {
      type: 'button',
      action_id: settlementMuteToggleAction,
      text: { type: 'plain_text', text: muted ? 'Unmute' : 'Mute' },
      value: muted ? 'unmute' : 'mute',
    },
  };
}

/** The App Home: wallet, carbon gauge, recent settled requests with scores, the team leaderboard for leads, the mute toggle. */
export function homeView(data: HomeData): types.HomeView {
  const wallet = data.balances
    .map((balance) => `*${balance.currency}*: ${tokens(balance.available, balance.currency)}`)
    .join('   ');
  const blocks: types.KnownBlock[] = [
    header(`Tokenwise for ${data.displayName}`),
    section(`*Wallet*  ${wallet}`),
    section(scopeLine('Your carbon', data.carbon.user)),
    { type: 'divider' },
    header('Recently settled'),
  ];
  if (data.settled.length === 0)
    blocks.push(section('No settled requests yet: scores arrive after each request is judged.'));
  for (const usage of data.settled.slice(0, homeSettledShown)) {
    const refund =
      usage.refund !== null && usage.refund > 0n
        ? `refund ${tokens(usage.refund, usage.refundCurrency ?? '')}`
        : 'no refund';
    blocks.push(
      section(
        `\`${escapeMrkdwn(usage.requestId)}\` ${escapeMrkdwn(usage.model)} · value *${score(usage.score)}* · cost ${tokens(usage.cost, usage.currency)} · ${grams(usage.co2eGrams)} CO2e · ${refund}`,
      ),
    );
  }
  if (data.leaderboard !== null) blocks.push({ type: 'divider' }, ...leaderboardBlocks(data.leaderboard));
  blocks.push({ type: 'divider' }, muteBlock(data.settlementMuted));
  return { type: 'home', blocks: blocks.slice(0, homeBlocksMax) };
}

/** What an unknown member sees on the Home tab. */
export function unknownHomeView(message: string): types.HomeView {
  return { type: 'home', blocks: [header('Tokenwise'), section(escapeMrkdwn(message))] };
}
