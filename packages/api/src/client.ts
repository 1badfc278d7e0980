import { amountCodec } from '@tokenwise/core';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import type { AppRouter } from './router';

/** A typed client for scripts: amounts arrive as bigint, authenticated by an API key with the api scope. */
export function createApiClient(params: { url: string; apiKey?: string }) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: params.url,
        transformer: amountCodec,
        headers: () => (params.apiKey === undefined ? {} : { authorization: `Bearer ${params.apiKey}` }),
      }),
    ],
  });
}

export type ApiClient = ReturnType<typeof createApiClient>;
