import { createTRPCClient, httpBatchLink } from '@trpc/client';
import type { AppRouter } from './router';
import { apiTransformer } from './transformer';

/** A typed client for scripts: amounts arrive as bigint, authenticated by an API key with the api scope. */
export function createApiClient(params: { url: string; apiKey?: string }) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: params.url,
        transformer: apiTransformer,
        headers: () => (params.apiKey === undefined ? {} : { authorization: `Bearer ${params.apiKey}` }),
      }),
    ],
  });
}

export type ApiClient = ReturnType<typeof createApiClient>;
