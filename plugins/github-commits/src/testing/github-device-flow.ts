import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { DeviceCode, GithubState } from './github-state';

/** Seconds a device code lives and the polling interval GitHub asks for (its defaults). */
const expiresInSeconds = 900;
const intervalSeconds = 5;
const deviceGrantType = 'urn:ietf:params:oauth:grant-type:device_code';

function parseBody(raw: string, contentType: string | undefined): Record<string, string> {
  if (contentType?.includes('application/json') === true) {
    const parsed = JSON.parse(raw === '' ? '{}' : raw) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(parsed).map(([key, value]) => [key, String(value)]));
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

/** GitHub answers form-encoded unless the client asks for JSON, and errors with HTTP 200. */
function answer(headers: IncomingHttpHeaders, fields: Record<string, string | number>) {
  if (headers.accept?.includes('application/json') === true)
    return { status: 200, contentType: 'application/json; charset=utf-8', body: JSON.stringify(fields) };
  const form = new URLSearchParams(
    Object.entries(fields).map(([key, value]): [string, string] => [key, String(value)]),
  );
  return { status: 200, contentType: 'application/x-www-form-urlencoded; charset=utf-8', body: form.toString() };
}

function userCode(): string {
  const letters = 'BCDFGHJKLMNPQRSTVWXZ';
  const pick = () => letters[(randomBytes(1)[0] as number) % letters.length];
  return `${Array.from({ length: 4 }, pick).join('')}-${Array.from({ length: 4 }, pick).join('')}`;
}

/**
 * The OAuth device flow as github.com serves it (`/login/device/code`, then polling
 * `/login/oauth/access_token`): authorization_pending until the user approves, slow_down when
 * polled faster than the interval, expired_token and access_denied; the token it issues is a
 * token of the approving user for the REST API.
 */
export function handleDeviceFlow(
  state: GithubState,
  request: { method: string; path: string; raw: string; headers: IncomingHttpHeaders },
): { status: number; contentType: string; body: string } {
  const { path, raw, headers } = request;
  const body = parseBody(raw, headers['content-type']);
  if (path === '/login/device') return verificationPage(state, request.method, body);
  const clientId = body.client_id ?? '';
  if (path === '/login/device/code') {
    if (!state.oauthClients.has(clientId)) return { status: 404, contentType: 'text/plain', body: 'Not Found' };
    const entry: DeviceCode = {
      deviceCode: randomBytes(20).toString('hex'),
      userCode: userCode(),
      clientId,
      expiresAtMs: Date.now() + expiresInSeconds * 1000,
      intervalSeconds,
      approvedBy: null,
      denied: false,
      lastPollMs: 0,
      tokenIssued: null,
    };
    state.deviceCodes.set(entry.deviceCode, entry);
    return answer(headers, {
      device_code: entry.deviceCode,
      user_code: entry.userCode,
      // Where the user enters the code: this server's own page, as github.com names its own.
      verification_uri: `http://${headers.host ?? '127.0.0.1'}/login/device`,
      expires_in: expiresInSeconds,
      interval: intervalSeconds,
    });
  }
  if (path === '/login/oauth/access_token') {
    if (!state.oauthClients.has(clientId)) return answer(headers, { error: 'incorrect_client_credentials' });
    if (body.grant_type !== deviceGrantType) return answer(headers, { error: 'unsupported_grant_type' });
    const entry = state.deviceCodes.get(body.device_code ?? '');
    if (entry === undefined || entry.clientId !== clientId) return answer(headers, { error: 'incorrect_device_code' });
    if (entry.expiresAtMs <= Date.now()) return answer(headers, { error: 'expired_token' });
    if (entry.denied) return answer(headers, { error: 'access_denied' });
    const now = Date.now();
    const tooSoon = now - entry.lastPollMs < entry.intervalSeconds * 1000;
    entry.lastPollMs = now;
    if (tooSoon && entry.tokenIssued === null) {
      entry.intervalSeconds += 5;
      return answer(headers, { error: 'slow_down', interval: entry.intervalSeconds });
    }
    if (entry.approvedBy === null) return answer(headers, { error: 'authorization_pending' });
    if (entry.tokenIssued === null) {
      entry.tokenIssued = `gho_${randomBytes(18).toString('hex')}`;
      const limit = 5_000;
      state.tokens.set(entry.tokenIssued, {
        login: entry.approvedBy,
        limit,
        remaining: limit,
        resetAtSeconds: Math.floor(now / 1000) + 3600,
      });
    }
    return answer(headers, { access_token: entry.tokenIssued, token_type: 'bearer', scope: body.scope ?? '' });
  }
  return { status: 404, contentType: 'text/plain', body: 'Not Found' };
}

/** The user opens the verification page, enters the code and approves (or denies) as `login`. */
export function decideDeviceCode(state: GithubState, code: string, login: string | null): boolean {
  const entry = [...state.deviceCodes.values()].find((candidate) => candidate.userCode === code);
  if (entry === undefined) return false;
  if (login === null) entry.denied = true;
  else {
    if (!state.users.has(login)) state.users.set(login, { login, id: state.nextId++ });
    entry.approvedBy = login;
  }
  return true;
}

/** A GitHub login as GitHub allows it. */
const loginPattern = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(status: number, title: string, content: string) {
  return {
    status,
    contentType: 'text/html; charset=utf-8',
    body: `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${content}</body></html>`,
  };
}

const form = `<form method="post" action="/login/device">
<p><label>Code <input name="user_code" placeholder="BCDF-GHJK" required></label></p>
<p><label>Signed in as (your GitHub login) <input name="login" required></label></p>
<p><button name="decision" value="approve">Authorize</button> <button name="decision" value="deny">Cancel</button></p>
</form>`;

/**
 * github.com/login/device as this stand-in serves it: the user types the code their app showed
 * and approves or cancels. GitHub knows who is signed in; the stand-in has no sign-in, so the
 * form asks for the login to approve as (a local demo: any login can be claimed here).
 */
function verificationPage(state: GithubState, method: string, body: Record<string, string>) {
  if (method === 'GET') return page(200, 'Device activation', `<p>Enter the code shown by the application.</p>${form}`);
  if (method !== 'POST') return page(405, 'Method not allowed', '<p>GET shows the form; POST sends it.</p>');
  const code = (body.user_code ?? '').trim().toUpperCase();
  const login = (body.login ?? '').trim();
  const decision = body.decision ?? 'approve';
  if (decision !== 'approve' && decision !== 'deny')
    return page(400, 'Unknown decision', '<p>decision is approve or deny.</p>' + form);
  if (decision === 'approve' && !loginPattern.test(login))
    return page(
      400,
      'Not a GitHub login',
      '<p>A login is 1 to 39 letters, digits or single hyphens, not starting or ending with a hyphen, e.g. ray-gh.</p>' +
        form,
    );
  const entry = [...state.deviceCodes.values()].find((candidate) => candidate.userCode === code);
  if (entry === undefined || entry.expiresAtMs <= Date.now())
    return page(
      404,
      'No such code',
      `<p>No device is waiting for code ${escapeHtml(code)}: check it, or start again in the application (codes expire after ${expiresInSeconds / 60} minutes).</p>${form}`,
    );
  if (entry.approvedBy !== null || entry.denied)
    return page(
      409,
      'Code already used',
      '<p>This code was already approved or cancelled: start again in the application.</p>',
    );
  decideDeviceCode(state, code, decision === 'approve' ? login : null);
  return decision === 'approve'
    ? page(
        200,
        'Device authorized',
        `<p>Approved as ${escapeHtml(login)}. Return to the application: it finishes the link when it next asks.</p>`,
      )
    : page(200, 'Authorization cancelled', '<p>Nothing was linked. Return to the application.</p>');
}
