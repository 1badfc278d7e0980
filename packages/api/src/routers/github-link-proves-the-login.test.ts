import type { GithubConfig } from '@tokenwise/control';
import { listAuditForEntity, type User } from '@tokenwise/db';
import { githubLinkAttempts } from '@tokenwise/db/schema';
import { eq } from 'drizzle-orm';
import { startLocalGithub, type LocalGithub } from '@tokenwise/plugin-github-commits/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContextInner } from '../context';
import { createCaller } from '../router';
import { openApiFixture, type ApiFixture } from '../test-fixtures';

let f: ApiFixture;
let github: LocalGithub;
let config: GithubConfig;
const clientId = 'Iv1.tokenwise-test';

beforeAll(async () => {
  [f, github] = await Promise.all([openApiFixture(), startLocalGithub()]);
  github.addOAuthClient(clientId);
  config = { oauthClientId: clientId, webUrl: github.url, apiUrl: github.url, webhookSecret: undefined };
});
afterAll(async () => {
  await Promise.all([f?.close(), github?.close()]);
});

const as = async (user: User, githubConfig: GithubConfig | null = config) =>
  createCaller(
    await createContextInner({
      db: f.db,
      ledger: f.ledger,
      keyPepper: f.keyPepper,
      github: githubConfig ?? undefined,
      user: { userId: user.id, orgId: user.orgId, teamId: user.teamId, roles: user.roles },
    }),
  );

/**
 * Time passes: the user's attempts are due for a poll on our side, and on GitHub's side the last
 * poll was long enough ago (or, with `githubTooSoon`, just now, so GitHub answers slow_down).
 */
async function pollDue(user: User, options: { githubTooSoon: boolean }) {
  await f.db
    .update(githubLinkAttempts)
    .set({ nextPollAt: new Date(Date.now() - 1_000) })
    .where(eq(githubLinkAttempts.userId, user.id));
  for (const entry of github.state.deviceCodes.values()) entry.lastPollMs = options.githubTooSoon ? Date.now() : 0;
}

/** Starts an attempt as `user` and answers the code the user would type on GitHub. */
async function start(user: User) {
  const started = await (await as(user)).me.linkGithub({});
  if (!('userCode' in started)) throw new Error('expected a started attempt');
  return started;
}

describe('me.linkGithub (GitHub device flow)', () => {
  it('links the login GitHub proves once the user approves; the device code and token never leave', async () => {
    const emma = await as(f.users.employee);
    const started = await start(f.users.employee);
    expect(started).toMatchObject({ state: 'pending', verificationUri: `${github.url}/login/device` });
    expect(JSON.stringify(started)).not.toMatch(/device_?code/i);
    expect(await emma.me.linkGithub({ attemptId: started.attemptId })).toMatchObject({ state: 'pending' });
    expect(github.approveDevice(started.userCode, 'emma-gh')).toBe(true);
    // Too early: GitHub's interval has not passed since the last poll; GitHub is not asked.
    const calls = github.calls().length;
    const early = await emma.me.linkGithub({ attemptId: started.attemptId });
    expect(early).toMatchObject({ state: 'pending', retryAt: expect.any(String) });
    expect(github.calls().length).toBe(calls);
    await pollDue(f.users.employee, { githubTooSoon: true });
    // GitHub itself wants 5 s between polls: the local server answers slow_down, and the interval grows.
    const slowed = await emma.me.linkGithub({ attemptId: started.attemptId });
    expect(slowed).toMatchObject({ state: 'pending', intervalSeconds: 10 });
    expect(slowed).toMatchObject({ retryAt: expect.any(String) });
    await pollDue(f.users.employee, { githubTooSoon: false });
    const linked = await emma.me.linkGithub({ attemptId: started.attemptId });
    expect(linked).toEqual({ state: 'linked', login: 'emma-gh', attemptId: started.attemptId });
    expect(await emma.me.github()).toMatchObject({ login: 'emma-gh', provenVia: 'device_flow' });
    const rows = await f.db.select().from(githubLinkAttempts).where(eq(githubLinkAttempts.userId, f.users.employee.id));
    expect(JSON.stringify(rows)).not.toMatch(/gho_/);
    const audit = await listAuditForEntity(f.db, { entityType: 'user', entityId: f.users.employee.id });
    expect(audit[0]).toMatchObject({ action: 'github.link', after: { login: 'emma-gh', provenVia: 'device_flow' } });
    // Polling a finished attempt answers its end again, without GitHub.
    expect(await emma.me.linkGithub({ attemptId: started.attemptId })).toMatchObject({ state: 'linked' });
  });

  it('an unapproved, denied or expired attempt links nothing', async () => {
    const carl = await as(f.users.colleague);
    const denied = await start(f.users.colleague);
    // Unproved: the attempt is pending, nothing is linked whatever the user does.
    expect(await carl.me.linkGithub({ attemptId: denied.attemptId })).toMatchObject({ state: 'pending' });
    expect(await carl.me.github()).toBeNull();
    github.denyDevice(denied.userCode);
    await pollDue(f.users.colleague, { githubTooSoon: false });
    expect(await carl.me.linkGithub({ attemptId: denied.attemptId })).toMatchObject({
      state: 'denied',
      reason: expect.stringMatching(/denied/),
    });
    const expired = await start(f.users.colleague);
    expect(expired.attemptId).not.toBe(denied.attemptId);
    github.expireDevice(expired.userCode);
    await pollDue(f.users.colleague, { githubTooSoon: false });
    expect(await carl.me.linkGithub({ attemptId: expired.attemptId })).toMatchObject({ state: 'expired' });
    expect(await carl.me.github()).toBeNull();
  });

  it('starting twice answers the open attempt instead of asking GitHub for another code', async () => {
    const first = await start(f.users.opsEmployee);
    const again = await start(f.users.opsEmployee);
    expect(again).toEqual(first);
  });

  it('a login another user of the org holds is refused as CONFLICT naming nobody, and stays theirs', async () => {
    const admin = await as(f.users.admin);
    await admin.admin.linkGithub({ userId: f.users.lead.id, login: 'Shared-Login' });
    const esg = await as(f.users.esg);
    const started = await start(f.users.esg);
    github.approveDevice(started.userCode, 'shared-login');
    await pollDue(f.users.esg, { githubTooSoon: false });
    const error = await esg.me.linkGithub({ attemptId: started.attemptId }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/another user of your org/) });
    expect(JSON.stringify(error)).not.toContain(f.users.lead.id);
    expect(JSON.stringify(error)).not.toContain(f.users.lead.email);
    expect(await esg.me.github()).toBeNull();
    expect(await (await as(f.users.lead)).me.github()).toMatchObject({ login: 'Shared-Login', provenVia: 'admin' });
    expect(await esg.me.linkGithub({ attemptId: started.attemptId })).toMatchObject({ state: 'failed' });
  });

  it("another user's or another org's attempt id is not found", async () => {
    const started = await start(f.users.lead);
    await expect((await as(f.users.colleague)).me.linkGithub({ attemptId: started.attemptId })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect((await as(f.otherAdmin)).me.linkGithub({ attemptId: started.attemptId })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('without GITHUB_OAUTH_CLIENT_ID linking says what the operator sets; GitHub down is SERVICE_UNAVAILABLE', async () => {
    const unconfigured = await as(f.users.employee, null);
    await expect(unconfigured.me.linkGithub({})).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: expect.stringMatching(/GITHUB_OAUTH_CLIENT_ID/),
    });
    const down = await as(f.otherAdmin, { ...config, webUrl: 'http://127.0.0.1:9' });
    await expect(down.me.linkGithub({})).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    // GitHub fails while reading the approved token's user: nothing is linked, a later poll finishes it.
    const gina = await as(f.otherAdmin);
    const started = await start(f.otherAdmin);
    github.approveDevice(started.userCode, 'gina-gh');
    github.failNext(/^\/user$/, { kind: 'status', status: 502, message: 'Bad Gateway' });
    await expect(gina.me.linkGithub({ attemptId: started.attemptId })).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: expect.stringMatching(/HTTP 502/),
    });
    expect(await gina.me.github()).toBeNull();
    await pollDue(f.otherAdmin, { githubTooSoon: false });
    expect(await gina.me.linkGithub({ attemptId: started.attemptId })).toMatchObject({
      state: 'linked',
      login: 'gina-gh',
    });
  });
});

describe('admin.linkGithub and admin.unlinkGithub', () => {
  it('refuses a non-admin, and an admin reaching another org', async () => {
    for (const user of [f.users.employee, f.users.lead, f.users.esg])
      await expect((await as(user)).admin.linkGithub({ userId: user.id, login: 'self-claimed' })).rejects.toMatchObject(
        { code: 'FORBIDDEN' },
      );
    await expect(
      (await as(f.otherAdmin)).admin.linkGithub({ userId: f.users.opsEmployee.id, login: 'otto' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect((await as(f.otherAdmin)).admin.unlinkGithub({ userId: f.users.lead.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await (await as(f.users.opsEmployee)).me.github()).toBeNull();
  });

  it('refuses a malformed login, naming the field', async () => {
    const admin = await as(f.users.admin);
    for (const login of ['', '-dash', 'a--b', 'x'.repeat(40), 'has space', "o'neil"])
      await expect(admin.admin.linkGithub({ userId: f.users.opsEmployee.id, login })).rejects.toMatchObject({
        code: 'BAD_REQUEST',
      });
  });

  it('the same login in another org is another person: both links stand', async () => {
    await (await as(f.users.admin)).admin.linkGithub({ userId: f.users.opsEmployee.id, login: 'otto-gh' });
    await (await as(f.otherAdmin)).admin.linkGithub({ userId: f.otherAdmin.id, login: 'OTTO-gh' });
    expect(await (await as(f.otherAdmin)).me.github()).toMatchObject({ login: 'OTTO-gh' });
    expect(await (await as(f.users.opsEmployee)).me.github()).toMatchObject({ login: 'otto-gh' });
  });

  it('unlinks, audited, and the login is free again', async () => {
    const admin = await as(f.users.admin);
    await admin.admin.linkGithub({ userId: f.users.colleague.id, login: 'carl-gh' });
    await expect(admin.admin.linkGithub({ userId: f.users.admin.id, login: 'CARL-GH' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect(await admin.admin.unlinkGithub({ userId: f.users.colleague.id })).toEqual({
      userId: f.users.colleague.id,
      unlinked: 'carl-gh',
    });
    expect(await admin.admin.linkGithub({ userId: f.users.admin.id, login: 'CARL-GH' })).toMatchObject({
      login: 'CARL-GH',
      provenVia: 'admin',
    });
    const audit = await listAuditForEntity(f.db, { entityType: 'user', entityId: f.users.colleague.id });
    expect(audit.map((row) => row.action).slice(0, 2)).toEqual(['github.unlink', 'github.link']);
  });
});
