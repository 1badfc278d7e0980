import OpenAI from 'openai';
import { type VllmSim, type VllmSimOptions, startVllmSim } from './server';

/** Fast latencies so wire tests run in milliseconds; ordering tests set their own. */
export const fastLatency = { ttftMs: 1, tpotMs: 1, tpotGrowthPerRunningSeq: 0 };

/** Starts a simulator for a test file; call `close()` in afterAll. */
export function startTestSim(options: Partial<VllmSimOptions> = {}): Promise<VllmSim> {
  return startVllmSim({ model: 'sim-model', latency: fastLatency, ...options });
}

/** The real openai client pointed at the simulator, without retries so faults surface. */
export function clientFor(sim: VllmSim): OpenAI {
  return new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sim-key', maxRetries: 0 });
}

/** POSTs JSON and returns status and parsed body, for fields the openai client's types leave out. */
export async function postJson(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text.length > 0 ? (JSON.parse(text) as unknown) : null };
}

/** Reads an SSE response body into its `data:` payloads. */
export async function readSse(response: Response): Promise<string[]> {
  const text = await response.text();
  return text
    .split('\n\n')
    .filter((event) => event.startsWith('data: '))
    .map((event) => event.slice('data: '.length));
}
