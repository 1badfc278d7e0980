import { isSettlementMuted } from '@tokenwise/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appHomeOpenedEvent } from '../testing/index';
import { insertUsage, openSlackWorld, type SlackWorld } from '../test-world';

describe('App Home', () => {
  let world: SlackWorld;
  let settled: string;

  beforeAll(async () => {
    world = await openSlackWorld();
    settled = await insertUsage(world.db, { user: world.users.employee, score: 0.9 });
    await insertUsage(world.db, { user: world.users.colleague, score: 0.2 });
  });
  afterAll(async () => {
    await world.close();
  });

  async function openHome(member: { id: string }) {
    const before = world.slack.views().length;
    const delivery = await world.sender.event(appHomeOpenedEvent(member.id));
    expect(delivery.status).toBe(200);
    return world.slack.waitFor(
      () =>
        world.slack
          .views()
          .slice(before)
          .find((view) => view.kind === 'home' && view.userId === member.id),
      `Home of ${member.id}`,
    );
  }

  it('publishes wallet, carbon gauge, settled requests with scores and the mute toggle', async () => {
    const home = await openHome(world.members.employee);
    const text = JSON.stringify(home.view);
    expect(text).toContain('Wallet');
    expect(text).toContain('Your carbon');
    expect(text).toContain(settled);
    expect(text).toContain('value *90%*');
    expect(text).toContain('"action_id":"settlement_mute_toggle"');
    expect(text).not.toContain('value per 1k tokens this month');
  });

  it("shows a lead their team's value-per-1k-tokens leaderboard, best first", async () => {
    const text = JSON.stringify((await openHome(world.members.lead)).view);
    expect(text).toContain('value per 1k tokens this month');
    expect(text.indexOf('*Emma*')).toBeGreaterThan(-1);
    expect(text.indexOf('*Emma*')).toBeLessThan(text.indexOf('*Carl*'));
  });

  it('the toggle mutes settlement messages, is kept, and the Home shows it', async () => {
    const home = await openHome(world.members.employee);
    const before = world.slack.views().length;
    await world.sender.action({
      userId: world.members.employee.id,
      actionId: 'settlement_mute_toggle',
      value: 'mute',
      homeViewId: home.id,
    });
    const republished = await world.slack.waitFor(
      () =>
        world.slack
          .views()
          .slice(before)
          .find((view) => view.kind === 'home'),
      'republished Home',
    );
    expect(JSON.stringify(republished.view)).toContain('"value":"unmute"');
    expect(await isSettlementMuted(world.db, { orgId: world.org.id, userId: world.users.employee.id })).toBe(true);
    expect(await isSettlementMuted(world.db, { orgId: world.org.id, userId: world.users.colleague.id })).toBe(false);
  });

  it('an unknown member sees whom to ask instead of data', async () => {
    const text = JSON.stringify((await openHome(world.members.stranger)).view);
    expect(text).toContain('Ada Admin');
    expect(text).not.toContain('Wallet');
  });
});
