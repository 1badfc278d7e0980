import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { carbonMessage, raiseModal } from './commands/carbon-blocks';
import { helpMessage, keyMessage, scoresMessage, tokensMessage } from './commands/tokens-blocks';
import { homeView } from './home/home-blocks';
import { blockLimits } from './testing/index';

const long = (length: number) => 'x'.repeat(length);

function usage(index: number) {
  return {
    requestId: `req-${index}-${long(200)}`,
    model: long(300),
    createdAt: new Date(Date.UTC(2026, 11, 1, 12, index)).toISOString(),
    cost: 123_456_789n,
    currency: 'innovation',
    co2eGrams: '12.345678',
    score: 0.5,
    settledAt: new Date().toISOString(),
    refund: 1_000n,
    refundCurrency: 'innovation',
  };
}

const scope = (capGrams: number | null) => ({
  scope: 'user' as const,
  scopeId: 'u',
  period: '2026-12',
  capGrams,
  usedGrams: 250.5,
  heldGrams: 1.25,
  remainingGrams: capGrams === null ? null : capGrams - 251.75,
  softPercent: null,
  resetsAt: '2027-01-01T00:00:00.000Z',
});

const balances = [
  { currency: 'innovation', accountId: 'a', available: 10n ** 15n, posted: 0n, held: 5n },
  { currency: 'priority', accountId: null, available: 0n, posted: 0n, held: 0n },
];

/** Every message the bot renders, fed far more and far longer data than it ever shows, stays within what Slack accepts. */
describe('Block Kit rendering within Slack limits', () => {
  it('/tokens and /tokens scores with many long requests and rationales', () => {
    const many = Array.from({ length: 100 }, (_, index) => usage(index));
    const month = {
      userId: 'u',
      requests: 100_000,
      scoredRequests: 1,
      tokens: 1e9,
      costMinorUnits: 10n ** 15n,
      refundMinorUnits: 1n,
      co2eMicrograms: 10n ** 12n,
      meanScore: 0.5,
      valuePer1kTokens: 0.001,
    };
    const tokens = tokensMessage({ balances, month, recent: many as never, settlements: new Map() });
    expect(blockLimits.blocksProblem(tokens.blocks, blockLimits.messageBlocksMax)).toBeUndefined();

    const results = Array.from({ length: 30 }, (_, index) => ({
      pluginId: `plugin-${index}`,
      status: 'scored',
      score: 0.5,
      confidence: 0.5,
      rationale: long(5_000),
    }));
    const details = many.map((item) => ({
      ...item,
      userId: 'u',
      settlement: { score: 0.5, confidence: 0.5, results, reason: long(5_000), reward: 0n, rewardCurrency: null },
    }));
    const scores = scoresMessage(details as never);
    expect(blockLimits.blocksProblem(scores.blocks, blockLimits.messageBlocksMax)).toBeUndefined();
  });

  it('/carbon, the raise modal, the key and the help text', () => {
    const carbon = carbonMessage({ user: scope(100), team: scope(null), org: scope(0) });
    expect(blockLimits.blocksProblem(carbon.blocks, blockLimits.messageBlocksMax)).toBeUndefined();
    const modal = raiseModal({ canRaiseTeam: true, canRaiseOrg: true, privateMetadata: '{}' });
    expect(blockLimits.blocksProblem(modal.blocks, blockLimits.viewBlocksMax)).toBeUndefined();
    expect(modal.title.text.length).toBeLessThanOrEqual(blockLimits.viewTitleCharsMax);
    const key = keyMessage({ id: 'abcdefghijkl', expiresAt: null, scopes: ['inference'] }, `tw_${long(60)}`);
    expect(blockLimits.blocksProblem(key.blocks, blockLimits.messageBlocksMax)).toBeUndefined();
    expect(blockLimits.blocksProblem(helpMessage(long(10_000)).blocks, blockLimits.messageBlocksMax)).toBeUndefined();
  });

  it('the Home with a full leaderboard and many settled requests keeps to 100 blocks', () => {
    const rows = Array.from({ length: 100 }, (_, index) => ({
      rank: index + 1,
      userId: `user-${index}`,
      requests: 10,
      scoredRequests: 5,
      tokens: 1_000,
      costMinorUnits: 1n,
      refundMinorUnits: 1n,
      co2eMicrograms: 1n,
      meanScore: 0.5,
      valuePer1kTokens: 1.5,
    }));
    const view = homeView({
      displayName: long(500),
      balances,
      carbon: { user: scope(100), team: null, org: scope(null) },
      settled: Array.from({ length: 100 }, (_, index) => usage(index)) as never,
      leaderboard: { rows, names: new Map(rows.map((row) => [row.userId, long(200)])) },
      settlementMuted: false,
    });
    expect(blockLimits.blocksProblem(view.blocks, blockLimits.viewBlocksMax)).toBeUndefined();
  });
});

describe('manifest.yaml', () => {
  const manifest = parse(readFileSync(new URL('../manifest.yaml', import.meta.url), 'utf8')) as {
    features: { slash_commands: { command: string; url: string }[]; app_home: Record<string, boolean> };
    oauth_config: { scopes: { bot: string[] } };
    settings: {
      event_subscriptions: { request_url: string; bot_events: string[] };
      interactivity: { is_enabled: boolean; request_url: string };
    };
  };

  it('declares the commands, scopes, event and interactivity the bot handles, all at /slack/events', () => {
    expect(manifest.features.slash_commands.map((command) => command.command)).toEqual(['/tokens', '/carbon']);
    expect(manifest.oauth_config.scopes.bot).toEqual(
      expect.arrayContaining(['commands', 'chat:write', 'im:write', 'users:read', 'users:read.email']),
    );
    expect(manifest.settings.event_subscriptions.bot_events).toContain('app_home_opened');
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.features.app_home).toMatchObject({ home_tab_enabled: true, messages_tab_enabled: true });
    const urls = [
      ...manifest.features.slash_commands.map((command) => command.url),
      manifest.settings.event_subscriptions.request_url,
      manifest.settings.interactivity.request_url,
    ];
    for (const url of urls) expect(url).toMatch(/^https:\/\/<your-host>\/slack\/events$/);
  });
});
