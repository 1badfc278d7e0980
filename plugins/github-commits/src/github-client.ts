import type { Octokit as OctokitCore } from '@octokit/core';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { invariant } from '@tokenwise/core';
import type { PluginLogger, PluginSecrets } from '@tokenwise/plugin-sdk';
import { etagCache, etagCacheEntriesDefault } from './etag-cache';

/** Times one request is retried after a rate limit (primary or secondary) before the client gives up. */
export const rateLimitRetriesDefault = 2;
/** Longest wait for a rate limit to lift; a longer one (a spent hourly quota) fails at once, for the caller to reschedule. */
export const rateLimitWaitSecondsDefault = 120;
/** Retries of a server error (5xx) or a dropped connection, with plugin-retry's quadratic back-off. */
export const serverErrorRetriesDefault = 2;
/** Each HTTP request's own time limit. */
export const requestTimeoutMsDefault = 30_000;

export interface GithubClientOptions {
  /** A GitHub App installation token or a fine-grained token. Never logged. */
  readonly token: string;
  /** GitHub Enterprise Server's REST root, e.g. `https://github.example.com/api/v3`; github.com by default. */
  readonly baseUrl?: string;
  readonly log: PluginLogger;
  readonly rateLimitRetries?: number;
  readonly rateLimitWaitSeconds?: number;
  readonly serverErrorRetries?: number;
  readonly requestTimeoutMs?: number;
  readonly etagCacheEntriesMax?: number;
  /** Milliseconds per second of `retry-after` and of back-off; tests shrink it to keep fast. */
  readonly retryAfterBaseMs?: number;
}

/** Thrown when GitHub's rate limit outlasts the client's patience: retry after `retryAfterSeconds`. */
export class GithubRateLimitError extends Error {
  override readonly name = 'GithubRateLimitError';
  constructor(
    message: string,
    readonly limit: 'primary' | 'secondary',
    readonly retryAfterSeconds: number | undefined,
    options?: { cause: unknown },
  ) {
    super(message, options);
  }
}

/** How Octokit's request log writes a 304: `GET /repos/acme/app/pulls/1 - 304 with id ... in 12ms`. */
const notModified = /^[A-Z]+ \S+ - 304 with id /;

const GithubOctokit = Octokit.plugin(throttling, retry, etagCache, rateLimitErrors);

/** The REST client commit linkage uses: @octokit/rest with throttling, retries and conditional requests. */
export type GithubClient = InstanceType<typeof GithubOctokit>;

/**
 * A GitHub REST client that honours both rate limits (waits out `retry-after` or the primary
 * limit's reset a bounded number of times, then throws GithubRateLimitError), retries server
 * errors a bounded number of times, bounds each request in time and answers repeated GETs from an
 * ETag cache (GitHub does not count 304s against the rate limit).
 */
export function createGithubClient(options: GithubClientOptions): GithubClient {
  invariant(options.token.length > 0, 'createGithubClient needs a token');
  const retriesMax = options.rateLimitRetries ?? rateLimitRetriesDefault;
  const waitSecondsMax = options.rateLimitWaitSeconds ?? rateLimitWaitSecondsDefault;
  const log = options.log;
  const onLimit =
    (limit: 'primary' | 'secondary') =>
    (retryAfterSeconds: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
      const retrying = retryCount < retriesMax && retryAfterSeconds <= waitSecondsMax;
      log.warn(`GitHub ${limit} rate limit reached`, {
        method: request.method,
        url: request.url,
        retryAfterSeconds,
        retryCount,
        retrying,
      });
      return retrying;
    };
  return new GithubOctokit({
    auth: options.token,
    ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl.replace(/\/+$/, '') }),
    userAgent: 'tokenwise-github-commits',
    log: {
      debug: () => {},
      info: (message: string) => log.info(message),
      warn: log.warn,
      // Octokit's request log reports a 304 as a failed request; the ETag cache answers it, so it is news, not an error.
      error: (message: string, fields?: Record<string, unknown>) =>
        notModified.test(message) ? log.info(message) : log.error(message, fields),
    },
    request: { fetch: timedFetch(options.requestTimeoutMs ?? requestTimeoutMsDefault) },
    throttle: {
      onRateLimit: onLimit('primary'),
      onSecondaryRateLimit: onLimit('secondary'),
      ...(options.retryAfterBaseMs === undefined ? {} : { retryAfterBaseValue: options.retryAfterBaseMs }),
    },
    retry: {
      retries: options.serverErrorRetries ?? serverErrorRetriesDefault,
      // Rate limits (403, 429) are the throttling plugin's; 304 is the ETag cache's.
      doNotRetry: [304, 400, 401, 403, 404, 410, 422, 429, 451],
      ...(options.retryAfterBaseMs === undefined ? {} : { retryAfterBaseValue: options.retryAfterBaseMs }),
    },
    etagCacheEntriesMax: options.etagCacheEntriesMax ?? etagCacheEntriesDefault,
  });
}

function timedFetch(timeoutMs: number): typeof fetch {
  return (input, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return fetch(input, { ...init, signal });
  };
}

interface RequestErrorLike {
  readonly status?: number;
  readonly message?: string;
  readonly response?: { readonly headers?: Record<string, string | number | undefined> };
}

/** Outermost: a rate-limit error the throttling plugin gave up on becomes a GithubRateLimitError that says when to come back. */
function rateLimitErrors(octokit: OctokitCore) {
  octokit.hook.wrap('request', async function explainRateLimits(request, requestOptions) {
    try {
      return await request(requestOptions);
    } catch (error) {
      const { status, message = '', response } = error as RequestErrorLike;
      if (status !== 403 && status !== 429) throw error;
      const headers = response?.headers ?? {};
      const what = `${requestOptions.method} ${requestOptions.url}`;
      if (/\bsecondary rate\b/i.test(message)) {
        const after = Number(headers['retry-after']) || undefined;
        throw new GithubRateLimitError(
          `GitHub's secondary rate limit stopped ${what}${after === undefined ? '' : `; retry after ${after} s`}. Space requests out or lower the polling rate.`,
          'secondary',
          after,
          { cause: error },
        );
      }
      if (String(headers['x-ratelimit-remaining']) === '0') {
        const resetSeconds = Number(headers['x-ratelimit-reset']);
        const after = Number.isFinite(resetSeconds)
          ? Math.max(Math.ceil(resetSeconds - Date.now() / 1000), 0)
          : undefined;
        const at = after === undefined ? 'its reset' : new Date(resetSeconds * 1000).toISOString();
        throw new GithubRateLimitError(
          `GitHub's primary rate limit for this token is spent (${what}); it resets at ${at}. Retry then, or give the plugin a token with its own quota (a GitHub App installation token).`,
          'primary',
          after,
          { cause: error },
        );
      }
      throw error;
    }
  });
  return {};
}

/** The client a team's configuration names: its token from the named secret, its GitHub Enterprise Server if any. */
export function githubClientForConfig(
  config: { readonly tokenSecret: string; readonly baseUrl?: string | undefined },
  secrets: PluginSecrets,
  log: PluginLogger,
): GithubClient {
  return createGithubClient({
    token: secrets.get(config.tokenSecret),
    ...(config.baseUrl === undefined ? {} : { baseUrl: config.baseUrl }),
    log,
  });
}
