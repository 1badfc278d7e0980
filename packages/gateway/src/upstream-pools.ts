import { Pool } from 'undici';

/** Connections kept per replica; vLLM serves many concurrent requests per connection pool. */
export const connectionsPerReplicaMax = 512;

/** One keep-alive pool per replica URL (undici), reused by every request. */
export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  pool(url: string): Pool {
    let pool = this.pools.get(url);
    if (pool === undefined) {
      pool = new Pool(url, {
        connections: connectionsPerReplicaMax,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        connectTimeout: 5_000,
      });
      this.pools.set(url, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
    this.pools.clear();
  }
}
