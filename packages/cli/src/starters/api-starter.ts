import { startApiServer, type PluginRegistry, type RunningApiServer } from '@tokenwise/api';
import { githubConfigFromEnv, type GithubConfig } from '@tokenwise/control';
import type { Services } from '../services';
import type { Log, Stack } from './stack';

export interface ApiStarterOptions {
  services: Services;
  port: number;
  host: string;
  /**
   * The scoring plugins the plugins router describes and dry-runs: the settlement runtime
   * (loadScoringPlugins) has this shape. Without it the plugins router refuses, as the API documents.
   */
  plugins?: PluginRegistry;
  /** GitHub settings in place of the environment's (npm start's local GitHub stand-in); githubConfigFromEnv otherwise. */
  github?: GithubConfig;
  log: Log;
}

/** The tRPC API over HTTP; its closer goes on the stack. */
export async function startApiService(stack: Stack, options: ApiStarterOptions): Promise<RunningApiServer> {
  const { services } = options;
  const api = await startApiServer({
    db: services.database.db,
    ledger: services.ledger,
    keyPepper: services.keyPepper,
    plugins: options.plugins,
    // GITHUB_OAUTH_CLIENT_ID, GITHUB_WEBHOOK_SECRET, TOKENWISE_GITHUB_URL, TOKENWISE_GITHUB_API_URL.
    github: options.github ?? githubConfigFromEnv(process.env),
    port: options.port,
    host: options.host,
  });
  stack.push('API', () => api.close());
  options.log(`API: ${api.url} (tRPC; typed client: createApiClient from @tokenwise/api).`);
  return api;
}
