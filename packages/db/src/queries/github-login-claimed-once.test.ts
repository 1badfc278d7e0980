import { describeEachBackend } from '@tokenwise/db/testing';
import { beforeAll, expect, it } from 'vitest';
import { findGithubAccountByLogin, linkGithubAccount } from './github-accounts';
import { createOrg } from './orgs';
import { createUser, type User } from './users';

describeEachBackend('a GitHub login is claimed once per org', (database, backend) => {
  let orgId: string;
  let people: User[];
  let stranger: User;

  beforeAll(async () => {
    const db = database().db;
    orgId = (await createOrg(db, { actor: 'test', input: { slug: `gh-${backend}`, name: 'GH' } })).id;
    const otherOrgId = (await createOrg(db, { actor: 'test', input: { slug: `gh-other-${backend}`, name: 'O' } })).id;
    people = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        createUser(db, { actor: 'test', input: { orgId, email: `p${i}@gh.test`, displayName: `P${i}` } }),
      ),
    );
    stranger = await createUser(db, {
      actor: 'test',
      input: { orgId: otherOrgId, email: 's@other.test', displayName: 'S' },
    });
  });

  it('eight users racing for one login (differently cased): exactly one wins, the rest learn who holds it', async () => {
    const db = database().db;
    const results = await Promise.all(
      people.map((person, i) =>
        linkGithubAccount(db, {
          orgId,
          userId: person.id,
          login: i % 2 === 0 ? 'Octocat' : 'octocat',
          githubUserId: 583231,
          provenVia: 'device_flow',
          actor: `user:${person.id}`,
        }),
      ),
    );
    const winners = results.filter((result) => result !== undefined && 'linked' in result);
    expect(winners).toHaveLength(1);
    const holder = await findGithubAccountByLogin(db, { orgId, login: 'OCTOCAT' });
    expect(results.filter((result) => result !== undefined && 'heldBy' in result)).toEqual(
      Array.from({ length: 7 }, () => ({ heldBy: holder?.userId })),
    );
  });

  it('links nothing for a user of another org', async () => {
    const db = database().db;
    const result = await linkGithubAccount(db, {
      orgId,
      userId: stranger.id,
      login: 'stranger-gh',
      githubUserId: null,
      provenVia: 'admin',
      actor: 'user:x',
    });
    expect(result).toBeUndefined();
    expect(await findGithubAccountByLogin(db, { orgId, login: 'stranger-gh' })).toBeUndefined();
  });
});
