import type { Octokit, OctokitOptions } from '@octokit/core';
import { setBounded } from '@tokenwise/core';

/** Cached GET responses per client, at most: a poll over a few hundred pull requests fits, a crawl does not grow memory. */
export const etagCacheEntriesDefault = 1_000;
/** Bytes of JSON a response may take to be cached: a page of 100 files with patches fits; a bigger one is fetched again. */
export const etagCacheBodyBytesMax = 2 * 1024 * 1024;

interface CachedResponse {
  readonly etag: string;
  readonly status: number;
  readonly url: string;
  readonly headers: Record<string, string | number | undefined>;
  readonly data: unknown;
}

interface RequestErrorLike {
  readonly status?: number;
  readonly response?: { readonly headers?: Record<string, string | number | undefined> };
}

/**
 * Conditional requests: a GET whose answer carried an ETag is sent again with `If-None-Match`,
 * and GitHub's 304 (which costs nothing against the primary rate limit) is answered from the
 * cache. Polling the same pull requests again and again then spends almost no quota. The cache
 * is per client (so per token: no answer crosses tokens) and bounded.
 */
export function etagCache(octokit: Octokit, options: OctokitOptions) {
  const configured: unknown = options.etagCacheEntriesMax;
  const entriesMax = typeof configured === 'number' ? configured : etagCacheEntriesDefault;
  const cache = new Map<string, CachedResponse>();
  octokit.hook.wrap('request', async function conditionalRequest(request, requestOptions) {
    const { method, url } = octokit.request.endpoint.parse(requestOptions);
    if (method !== 'GET') return request(requestOptions);
    const cached = cache.get(url);
    // before-after-hook hands every wrap the same options object: change it, do not replace it.
    const headers = requestOptions.headers;
    if (cached !== undefined && headers['if-none-match'] === undefined) headers['if-none-match'] = cached.etag;
    try {
      const response = await request(requestOptions);
      const etag = response.headers.etag;
      if (typeof etag === 'string' && jsonBytes(response.data) <= etagCacheBodyBytesMax) {
        const entry = {
          etag,
          status: response.status,
          url: response.url,
          headers: { ...response.headers },
          data: response.data,
        };
        setBounded(cache, url, entry, entriesMax);
      }
      return response;
    } catch (error) {
      const status = (error as RequestErrorLike).status;
      if (status !== 304 || cached === undefined) throw error;
      // The rate-limit headers of the 304 are the current ones; the rest (Link, ETag) are the cached answer's.
      const fresh = (error as RequestErrorLike).response?.headers ?? {};
      const rateHeaders = Object.fromEntries(Object.entries(fresh).filter(([name]) => name.startsWith('x-ratelimit-')));
      setBounded(cache, url, cached, entriesMax);
      return {
        status: cached.status,
        url: cached.url,
        headers: { ...cached.headers, ...rateHeaders },
        data: cached.data,
      };
    }
  });
  return { etagCacheSize: () => cache.size };
}

function jsonBytes(data: unknown): number {
  return Buffer.byteLength(JSON.stringify(data) ?? '');
}
