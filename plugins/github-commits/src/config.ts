import { winnowingOptionsSchema } from '@tokenwise/core';
import { isSecretName, secretNameCharsMax } from '@tokenwise/plugin-sdk';
import { z } from 'zod';
import { repoFullNamePattern } from './evidence';
import { windowDaysDefault, windowDaysMax } from './match-pull';

export const repositoriesMax = 100;

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** GitHub Enterprise Server's REST root: https (plain http only on loopback, for the local server), no credentials, query or fragment. */
const baseUrlSchema = z
  .string()
  .max(500)
  .refine((value) => {
    if (!URL.canParse(value)) return false;
    const url = new URL(value);
    const secure = url.protocol === 'https:' || (url.protocol === 'http:' && loopbackHosts.has(url.hostname));
    return secure && url.username === '' && url.password === '' && url.search === '' && url.hash === '';
  }, 'must be an https URL such as https://github.example.com/api/v3, without credentials, query or fragment')
  .describe('GitHub Enterprise Server REST root, e.g. https://github.example.com/api/v3. github.com when left out.');

/** Per-team configuration of commit linkage. */
export const githubCommitsConfigSchema = z
  .strictObject({
    /** Every repository of this organisation or user counts. */
    owner: z
      .string()
      .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, 'must be a GitHub organisation or user name')
      .optional(),
    /** Or only these repositories, as owner/name. */
    repositories: z
      .array(z.string().regex(repoFullNamePattern, 'must be owner/name, e.g. acme/payments'))
      .min(1)
      .max(repositoriesMax)
      .optional(),
    baseUrl: baseUrlSchema.optional(),
    /**
     * Name of the secret holding the token: a GitHub App installation token or a fine-grained token
     * with read access to pull requests and contents. The org reads it from
     * TOKENWISE_SECRET_<ORG>__<NAME> (its slug in capitals, dashes as _), or from a deployment-wide
     * TOKENWISE_SECRET_<NAME> only when TOKENWISE_SECRET_<NAME>_ORGS lists its slug or is *; never
     * another org's (see orgSecretsFromEnv in plugin-sdk).
     */
    tokenSecret: z
      .string()
      .refine(
        isSecretName,
        `must be a secret name: capitals and digits in words joined by single underscores, at most ${secretNameCharsMax} characters, not ending in _ORGS, e.g. GITHUB_TOKEN`,
      )
      .default('GITHUB_TOKEN'),
    /** Days after a request in which its code may merge; two weeks covers an ordinary review cycle. */
    windowDays: z.number().int().min(1).max(windowDaysMax).default(windowDaysDefault),
    /**
     * k = 15 normalised tokens (one to two lines): shorter shared runs are idioms every codebase
     * has (a for loop is 12). w = 10: every run of t = w + k - 1 = 24 tokens (about three lines) is
     * found, with ~18% of positions kept as fingerprints. See core's winnowing options.
     */
    k: winnowingOptionsSchema.shape.k,
    w: winnowingOptionsSchema.shape.w,
    /**
     * Weight of a pull request merged by its author with no approval from anyone else. 0 by
     * default: otherwise anyone could merge their own completions to earn refunds.
     */
    selfMergeWeight: z.number().min(0).max(1).default(0),
    /** Below this share of its fingerprints merged, a completion is not linked (noise, a shared helper). */
    minContainment: z.number().min(0).max(1).default(0.1),
  })
  .refine((config) => (config.owner === undefined) !== (config.repositories === undefined), {
    message: 'set either owner (every repository of it) or repositories (a list of owner/name), not both',
    path: ['owner'],
  });

export type GithubCommitsConfig = z.output<typeof githubCommitsConfigSchema>;
export type GithubCommitsConfigInput = z.input<typeof githubCommitsConfigSchema>;
