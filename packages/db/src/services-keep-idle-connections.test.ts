import { openDatabase, serviceIdleTimeoutMs } from '@tokenwise/db';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';

/** Connections to the real server that carry this application name, as the server sees them. */
async function connectionsNamed(adminUrl: string, name: string): Promise<number> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const result = await admin.query<{ count: number }>(
      'select count(*)::int as count from pg_stat_activity where application_name = $1',
      [name],
    );
    return result.rows[0]?.count ?? 0;
  } finally {
    await admin.end();
  }
}

describe('idle connections on a real server', () => {
  it('a service keeps its connection through a quiet spell; a short idle timeout lets it go', async () => {
    const adminUrl = inject('postgresAdminUrl');
    const urlFor = (application: string) => {
      const url = new URL(adminUrl);
      url.searchParams.set('application_name', application);
      return url.toString();
    };
    const tag = `tw_idle_${process.pid}_${Date.now()}`;
    const service = await openDatabase({ url: urlFor(`${tag}_service`), idleTimeoutMs: serviceIdleTimeoutMs });
    const brief = await openDatabase({ url: urlFor(`${tag}_brief`), idleTimeoutMs: 100 });
    try {
      await service.db.execute(sql`select 1`);
      await brief.db.execute(sql`select 1`);
      // The gateway after a quiet minute: its next request must not wait for a new backend.
      await new Promise((resolve) => setTimeout(resolve, 800));
      expect(await connectionsNamed(adminUrl, `${tag}_service`)).toBe(1);
      expect(await connectionsNamed(adminUrl, `${tag}_brief`)).toBe(0);
    } finally {
      await service.close();
      await brief.close();
    }
    // Closing ends kept connections too.
    expect(await connectionsNamed(adminUrl, `${tag}_service`)).toBe(0);
  });
});
