import { ConfigError } from '@tokenwise/core';
import { describe, expect, it } from 'vitest';
import { isSecretName, orgSecretVariable, orgSecretsFromEnv } from './org-secrets';

/** Every value in these environments: none may ever show in a message. */
const values = ['ghp_acme_value', 'ghp_beta_value', 'ghp_shared_value', 'ghp_nested_value'];

function thrown(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

function expectNoValues(text: string): void {
  for (const value of values) expect(text).not.toContain(value);
}

describe('plugin secrets per org', () => {
  const env = {
    TOKENWISE_SECRET_ACME__GITHUB_TOKEN: 'ghp_acme_value',
    TOKENWISE_SECRET_ACME__DEPLOY_KEY: 'ghp_acme_value',
    TOKENWISE_SECRET_BETA_LABS__OTHER: 'ghp_beta_value',
    PATH: '/usr/bin',
  };

  it("reads the org's own variable; org acme-eng's is TOKENWISE_SECRET_ACME_ENG__<NAME>", () => {
    const secrets = orgSecretsFromEnv(env);
    expect(secrets.forOrg('acme').get('GITHUB_TOKEN')).toBe('ghp_acme_value');
    expect(secrets.forOrg('beta-labs').get('OTHER')).toBe('ghp_beta_value');
    expect(orgSecretVariable('acme-eng', 'GITHUB_TOKEN')).toBe('TOKENWISE_SECRET_ACME_ENG__GITHUB_TOKEN');
  });

  it("org B naming org A's secret gets a ConfigError naming its own variable, with no value and none of A's names", () => {
    const error = thrown(() => orgSecretsFromEnv(env).forOrg('beta-labs').get('GITHUB_TOKEN'));
    expect(error.message).toBe(
      'Secret "GITHUB_TOKEN" is not configured for org "beta-labs": set TOKENWISE_SECRET_BETA_LABS__GITHUB_TOKEN, or share a deployment-wide TOKENWISE_SECRET_GITHUB_TOKEN with it by listing beta-labs in TOKENWISE_SECRET_GITHUB_TOKEN_ORGS (comma-separated org slugs, or * for every org). Secrets org "beta-labs" can read: OTHER.',
    );
    expect(error.message).not.toContain('ACME');
    expect(error.message).not.toContain('DEPLOY_KEY');
    expectNoValues(JSON.stringify({ message: error.message, details: error.details }));
  });

  it('cannot reach org a--b\'s TOKEN from org a by asking for "B__TOKEN": names with a double underscore are refused', () => {
    const secrets = orgSecretsFromEnv({ TOKENWISE_SECRET_A__B__TOKEN: 'ghp_nested_value' });
    expect(secrets.forOrg('a--b').get('TOKEN')).toBe('ghp_nested_value');
    const error = thrown(() => secrets.forOrg('a').get('B__TOKEN'));
    expect(error.message).toMatch(
      /^Secret name "B__TOKEN" is not valid: capitals and digits in words joined by single underscores/,
    );
    expectNoValues(error.message);
    expect(secrets.namesFor('a')).toEqual([]);
    expect(secrets.namesFor('a--b')).toEqual(['TOKEN']);
  });

  it('refuses names that could be read as an allow-list or another variable', () => {
    for (const name of ['GITHUB_TOKEN_ORGS', 'TOKEN_', '_TOKEN', 'token', 'A-B', '', 'A'.repeat(65)])
      expect(isSecretName(name), name).toBe(false);
    for (const name of ['GITHUB_TOKEN', 'A', 'GH2', 'ORGS', 'A'.repeat(64)])
      expect(isSecretName(name), name).toBe(true);
    const secrets = orgSecretsFromEnv({
      TOKENWISE_SECRET_GITHUB_TOKEN: 'ghp_shared_value',
      TOKENWISE_SECRET_GITHUB_TOKEN_ORGS: '*',
    });
    expect(() => secrets.forOrg('acme').get('GITHUB_TOKEN_ORGS')).toThrow(/is not valid/);
  });

  it('shares a deployment-wide secret only with the orgs its _ORGS lists', () => {
    const secrets = orgSecretsFromEnv({
      TOKENWISE_SECRET_GITHUB_TOKEN: 'ghp_shared_value',
      TOKENWISE_SECRET_GITHUB_TOKEN_ORGS: 'acme, beta-labs ,',
    });
    expect(secrets.forOrg('acme').get('GITHUB_TOKEN')).toBe('ghp_shared_value');
    expect(secrets.forOrg('beta-labs').get('GITHUB_TOKEN')).toBe('ghp_shared_value');
    const refused = thrown(() => secrets.forOrg('gamma').get('GITHUB_TOKEN'));
    expect(refused.message).toContain('set TOKENWISE_SECRET_GAMMA__GITHUB_TOKEN, or share');
    expect(refused.message).toContain('Secrets org "gamma" can read: none.');
    expectNoValues(refused.message);
    expect(secrets.namesFor('acme')).toEqual(['GITHUB_TOKEN']);
    expect(secrets.namesFor('gamma')).toEqual([]);
    expect(secrets.problems).toEqual([]);
  });

  it("shares with every org under *; an org's own variable wins over the shared one", () => {
    const secrets = orgSecretsFromEnv({
      TOKENWISE_SECRET_JUDGE_KEY: 'ghp_shared_value',
      TOKENWISE_SECRET_JUDGE_KEY_ORGS: ' * ',
      TOKENWISE_SECRET_ACME__JUDGE_KEY: 'ghp_acme_value',
    });
    expect(secrets.forOrg('any-org').get('JUDGE_KEY')).toBe('ghp_shared_value');
    expect(secrets.forOrg('acme').get('JUDGE_KEY')).toBe('ghp_acme_value');
    expect(secrets.namesFor('any-org')).toEqual(['JUDGE_KEY']);
  });

  it('shares a deployment-wide secret without _ORGS with nobody, and says so', () => {
    const secrets = orgSecretsFromEnv({ TOKENWISE_SECRET_GITHUB_TOKEN: 'ghp_shared_value' });
    expect(() => secrets.forOrg('acme').get('GITHUB_TOKEN')).toThrow(ConfigError);
    expect(secrets.problems).toEqual([
      'TOKENWISE_SECRET_GITHUB_TOKEN is shared with no org: list org slugs in TOKENWISE_SECRET_GITHUB_TOKEN_ORGS (comma-separated, or * for every org), or set it per org as TOKENWISE_SECRET_<ORG>__GITHUB_TOKEN.',
    ]);
  });

  it('reports a malformed _ORGS without echoing its entries, and shares only with the well-formed ones', () => {
    const secrets = orgSecretsFromEnv({
      TOKENWISE_SECRET_GITHUB_TOKEN: 'ghp_shared_value',
      TOKENWISE_SECRET_GITHUB_TOKEN_ORGS: 'acme;beta, ACME, *, ghp_acme_value, gamma',
      TOKENWISE_SECRET_JUDGE_KEY: 'ghp_shared_value',
      TOKENWISE_SECRET_JUDGE_KEY_ORGS: ' , ',
      TOKENWISE_SECRET_LONE_ORGS: 'acme',
      TOKENWISE_SECRET_ACME__EMPTY: '',
      TOKENWISE_SECRET_lower: 'ghp_nested_value',
    });
    expect(secrets.namesFor('gamma')).toEqual(['GITHUB_TOKEN']);
    expect(secrets.namesFor('acme')).toEqual([]);
    expect(secrets.problems).toEqual([
      'TOKENWISE_SECRET_ACME__EMPTY is empty: ignored.',
      'TOKENWISE_SECRET_GITHUB_TOKEN_ORGS: entry 1 is not an org slug (lowercase letters, digits and dashes, e.g. acme-eng): ignored.',
      'TOKENWISE_SECRET_GITHUB_TOKEN_ORGS: entry 2 is not an org slug (lowercase letters, digits and dashes, e.g. acme-eng): ignored.',
      'TOKENWISE_SECRET_GITHUB_TOKEN_ORGS: entry 3 is *, which shares with every org only alone: ignored.',
      'TOKENWISE_SECRET_GITHUB_TOKEN_ORGS: entry 4 is not an org slug (lowercase letters, digits and dashes, e.g. acme-eng): ignored.',
      'TOKENWISE_SECRET_JUDGE_KEY_ORGS is empty: the secret is shared with no org.',
      'TOKENWISE_SECRET_lower: "lower" is not a secret name (capitals and digits in words joined by single underscores, at most 64 characters, not ending in _ORGS, e.g. GITHUB_TOKEN): ignored.',
      'TOKENWISE_SECRET_LONE_ORGS is set but TOKENWISE_SECRET_LONE is not: it shares nothing.',
    ]);
    expectNoValues(secrets.problems.join('\n'));
  });

  it('names org variables no existing org reads and allow-list entries naming no org', () => {
    const secrets = orgSecretsFromEnv({
      ...env,
      TOKENWISE_SECRET_ACEM__GITHUB_TOKEN: 'ghp_nested_value',
      TOKENWISE_SECRET_GITHUB_TOKEN: 'ghp_shared_value',
      TOKENWISE_SECRET_GITHUB_TOKEN_ORGS: 'acme,gone',
    });
    const problems = secrets.problemsWith(['acme', 'beta-labs']);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^TOKENWISE_SECRET_ACEM__GITHUB_TOKEN is read by no org: /);
    expect(problems[1]).toBe('TOKENWISE_SECRET_GITHUB_TOKEN_ORGS lists "gone", which is no org\'s slug.');
    expectNoValues(problems.join('\n'));
  });

  it('reads the environment once: later changes to it change nothing', () => {
    const live: Record<string, string | undefined> = { TOKENWISE_SECRET_ACME__GITHUB_TOKEN: 'ghp_acme_value' };
    const secrets = orgSecretsFromEnv(live);
    live.TOKENWISE_SECRET_ACME__GITHUB_TOKEN = 'changed';
    live.TOKENWISE_SECRET_BETA__GITHUB_TOKEN = 'ghp_beta_value';
    expect(secrets.forOrg('acme').get('GITHUB_TOKEN')).toBe('ghp_acme_value');
    expect(() => secrets.forOrg('beta').get('GITHUB_TOKEN')).toThrow(ConfigError);
  });
});
