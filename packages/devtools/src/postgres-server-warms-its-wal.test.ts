import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startPostgresServer } from './postgres-server';

describe('startPostgresServer with warmWalMb', () => {
  it('hands over a server whose WAL segments are ready to recycle, and keeps them', async () => {
    const server = await startPostgresServer({ warmWalMb: 64 });
    const client = new pg.Client({ connectionString: server.url });
    try {
      await client.connect();
      const segments = await client.query<{ count: string }>(
        `select count(*) from pg_ls_waldir() where name ~ '^[0-9A-F]{24}$'`,
      );
      // A fresh cluster has one or two segments; 64 MB is four, kept by min_wal_size after the checkpoint.
      expect(Number(segments.rows[0]?.count)).toBeGreaterThanOrEqual(4);
      const setting = await client.query<{ setting: string; unit: string }>(
        `select setting, unit from pg_settings where name = 'min_wal_size'`,
      );
      expect(setting.rows[0]).toEqual({ setting: '64', unit: 'MB' });
    } finally {
      await client.end();
      await server.stop();
    }
  }, 60_000);
});
