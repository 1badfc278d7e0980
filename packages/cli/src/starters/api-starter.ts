import { startApiServer, type RunningApiServer } from '@tokenwise/api';
import type { PluginDefinition } from '@tokenwise/plugin-sdk';
import type { Services } from '../services';
import type { Log, Stack } from './stack';

export interface ApiStarterOptions {
  services: Services;
  port: number;
  host: string;
  /**
   * The scoring plugins the API describes (the settlement runtime's registry). Not used yet: the
   * plugins router will take it through startApiServer.
   */
  plugins?: ReadonlyMap<string, PluginDefinition>;
  log: Log;
}

/** The tRPC API over HTTP; its closer goes on the stack. */
export async function startApiService(stack: Stack, options: ApiStarterOptions): Promise<RunningApiServer> {
  const { services } = options;
  const api = await startApiServer({ db: services.database.db, ledger: services.ledger, keyPepper: services.keyPepper, port: options.port, host: options.host });
  stack.push('API', () => api.close());
  options.log(`API: ${api.url} (tRPC; typed client: createApiClient from @tokenwise/api).`);
  return api;
}
