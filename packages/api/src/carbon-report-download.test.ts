import { createApiKey } from '@tokenwise/control';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { carbonReportCsvPath } from './carbon-report-download';
import { startApiServer, type RunningApiServer } from './server';
import { insertUsage, openApiFixture, type ApiFixture } from './test-fixtures';

let f: ApiFixture;
let server: RunningApiServer;
let esgKey: string;
const december = 'from=2026-12-01&to=2027-01-01';

beforeAll(async () => {
  f = await openApiFixture();
  server = await startApiServer({ db: f.db, ledger: f.ledger, keyPepper: f.keyPepper });
  ({ secret: esgKey } = await createApiKey(f.db, {
    pepper: f.keyPepper,
    orgId: f.org.id,
    userId: f.users.esg.id,
    name: 'reports',
    scopes: ['api'],
    actor: 'test',
  }));
  await insertUsage(f.db, { user: f.users.employee, createdAt: new Date('2026-12-03T10:00:00Z'), score: 0.5 });
  await insertUsage(f.db, { user: f.users.opsEmployee, createdAt: new Date('2026-12-04T10:00:00Z') });
});
afterAll(async () => {
  await server?.close();
  await f?.close();
});

const get = (query: string, apiKey: string | null = esgKey, method = 'GET') =>
  fetch(`${server.url}${carbonReportCsvPath}?${query}`, {
    method,
    headers: apiKey === null ? {} : { Authorization: `Bearer ${apiKey}` },
  });

describe('GET /carbon/report.csv', () => {
  it('downloads carbon.reportCsv as an attachment, with the same key as tRPC', async () => {
    const response = await get(`${december}&groupBy=team`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe(
      'attachment; filename="carbon-report-team-2026-12-01-to-2027-01-01.csv"',
    );
    const body = await response.text();
    expect(body).toBe(
      await (await f.as(f.users.esg)).carbon.reportCsv({ from: '2026-12-01', to: '2027-01-01', groupBy: 'team' }),
    );
    expect(body.split('\r\n')).toHaveLength(4);
  });

  it('shows an employee only their own usage', async () => {
    const { secret } = await createApiKey(f.db, {
      pepper: f.keyPepper,
      orgId: f.org.id,
      userId: f.users.employee.id,
      name: 'mine',
      scopes: ['api'],
      actor: 'test',
    });
    const lines = (await (await get(`${december}&groupBy=user`, secret)).text()).trim().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(new RegExp(`^${f.users.employee.id},emma@acme\\.test,1,`));
  });

  it('answers no or a wrong key with 401, a key without the api scope with 403', async () => {
    const anonymous = await get(`${december}&groupBy=team`, null);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({
      error: { code: 'UNAUTHORIZED', message: expect.stringMatching(/Bearer/) },
    });
    expect((await get(`${december}&groupBy=team`, `${esgKey.slice(0, -4)}AAAA`)).status).toBe(401);
    const { secret } = await createApiKey(f.db, {
      pepper: f.keyPepper,
      orgId: f.org.id,
      userId: f.users.esg.id,
      name: 'inference only',
      actor: 'test',
    });
    expect((await get(`${december}&groupBy=team`, secret)).status).toBe(403);
  });

  it('answers a bad query with 400 and what to fix', async () => {
    const reversed = await get('from=2027-01-01&to=2026-12-01&groupBy=day');
    expect(reversed.status).toBe(400);
    expect(await reversed.json()).toEqual({
      error: {
        code: 'BAD_REQUEST',
        message:
          'to (2026-12-01) must be after from (2027-01-01); to is exclusive, so one day is from=2027-01-01&to=2027-01-02',
        fields: ['to'],
      },
    });
    const missing = await get('from=2026-12-01');
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({
      error: {
        fields: ['to', 'groupBy'],
        message: expect.stringMatching(/to must be an ISO date.*groupBy must be one of/),
      },
    });
    const typo = await get(`${december}&group_by=team`);
    expect(typo.status).toBe(400);
    expect(await typo.json()).toMatchObject({
      error: { message: 'Unknown query parameter group_by: give from, to, groupBy only.' },
    });
    expect((await get(`${december}&groupBy=team`, esgKey, 'POST')).status).toBe(405);
  });
});
