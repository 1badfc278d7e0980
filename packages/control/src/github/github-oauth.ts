import { z } from 'zod';

/** Where GitHub is: the web host that runs OAuth (`https://github.com`) and the REST API (`https://api.github.com`). */
export interface GithubEndpoints {
  webUrl: string;
  apiUrl: string;
  /** How long one call to GitHub may take. */
  requestTimeoutMs?: number;
  /** For tests that step outside the network; the global fetch by default. */
  fetch?: typeof fetch;
}

export const githubRequestTimeoutMsDefault = 10_000;
/** Longest answer read from GitHub's OAuth and `/user` endpoints; theirs are a few hundred bytes. */
const responseBytesMax = 64 * 1024;

/** GitHub could not be asked or answered outside its contract: nothing changed, try again later. */
export class GithubUnavailableError extends Error {
  override readonly name = 'GithubUnavailableError';
}

const deviceCodeSchema = z.object({
  device_code: z.string().min(1).max(200),
  user_code: z.string().min(1).max(40),
  verification_uri: z.url().max(500),
  expires_in: z.number().int().min(1).max(86_400),
  interval: z.number().int().min(1).max(3_600),
});

const tokenSchema = z.union([
  z.object({ access_token: z.string().min(1).max(1_000) }),
  z.object({ error: z.string().min(1).max(100), interval: z.coerce.number().int().min(1).max(3_600).optional() }),
]);

const userSchema = z.object({ login: z.string().min(1).max(39), id: z.number().int().positive() });

async function call(endpoints: GithubEndpoints, url: string, init: RequestInit, what: string): Promise<unknown> {
  const doFetch = endpoints.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(url, {
      ...init,
      signal: AbortSignal.timeout(endpoints.requestTimeoutMs ?? githubRequestTimeoutMsDefault),
    });
  } catch (error) {
    throw new GithubUnavailableError(`GitHub did not answer ${what}: ${(error as Error).name}. Try again shortly.`);
  }
  const text = await response.text();
  if (response.status === 404 && what === 'the device code request')
    throw new GithubUnavailableError(
      'GitHub does not know the OAuth client id: the operator checks GITHUB_OAUTH_CLIENT_ID (an OAuth or GitHub App with device flow enabled).',
    );
  if (!response.ok)
    throw new GithubUnavailableError(`GitHub answered ${what} with HTTP ${response.status}. Try again shortly.`);
  if (text.length > responseBytesMax) throw new GithubUnavailableError(`GitHub's answer to ${what} is too large.`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new GithubUnavailableError(`GitHub's answer to ${what} is not JSON.`);
  }
}

function parsed<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new GithubUnavailableError(`GitHub's answer to ${what} has an unexpected shape.`);
  return result.data;
}

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

/** Starts a device flow: `POST {webUrl}/login/device/code`. */
export async function requestDeviceCode(endpoints: GithubEndpoints, clientId: string) {
  const what = 'the device code request';
  const body = await call(endpoints, `${endpoints.webUrl}/login/device/code`, form({ client_id: clientId }), what);
  return parsed(deviceCodeSchema, body, what);
}

/** One poll of `POST {webUrl}/login/oauth/access_token`: a token, or GitHub's error code (with a new interval for slow_down). */
export async function pollDeviceToken(
  endpoints: GithubEndpoints,
  params: { clientId: string; deviceCode: string },
): Promise<{ accessToken: string } | { error: string; interval?: number }> {
  const what = 'the access token poll';
  const body = await call(
    endpoints,
    `${endpoints.webUrl}/login/oauth/access_token`,
    form({
      client_id: params.clientId,
      device_code: params.deviceCode,
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
    }),
    what,
  );
  const answer = parsed(tokenSchema, body, what);
  return 'access_token' in answer ? { accessToken: answer.access_token } : answer;
}

/** Who the token belongs to: `GET {apiUrl}/user`. The token is used for this call only. */
export async function fetchTokenUser(endpoints: GithubEndpoints, accessToken: string) {
  const what = 'GET /user';
  const body = await call(
    endpoints,
    `${endpoints.apiUrl}/user`,
    {
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${accessToken}`,
        'x-github-api-version': '2022-11-28',
        'user-agent': 'tokenwise',
      },
    },
    what,
  );
  return parsed(userSchema, body, what);
}
