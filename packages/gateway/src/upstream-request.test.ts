import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestUpstream } from './upstream-request';

const megabyte = 1 << 20;

describe('reading a model server answer', () => {
  let server: Server;
  let pool: Pool;
  let written = 0;
  let closedEarly = 0;
  const handlers: Record<string, (res: ServerResponse) => void> = {
    '/tokens': (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let index = 0;
      const timer = setInterval(() => {
        res.write(`data: token ${index}\n\n`);
        if (++index === 5) {
          clearInterval(timer);
          res.end('data: [DONE]\n\n');
        }
      }, 5);
    },
    '/flood': (res) => {
      // 64 MB as fast as the reader lets it go.
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (written < 64 * megabyte) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    },
    '/endless': (res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write('data: more\n\n'), 5);
      res.on('close', () => {
        clearInterval(timer);
        if (!res.writableFinished) closedEarly++;
      });
    },
    '/slow-headers': (res) => {
      setTimeout(() => res.writeHead(200).end('late'), 2_000).unref();
    },
  };
  const send = (path: string, signal = new AbortController().signal) =>
    requestUpstream(pool, {
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json' },
      body: '{}',
      signal,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => handlers[req.url ?? '']?.(res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: 4 });
  });
  afterAll(async () => {
    await pool.close();
    server.closeAllConnections();
    server.close();
  });

  it('hands over each chunk as it arrives and ends with the answer', async () => {
    const response = await send('/tokens');
    expect(response.statusCode).toBe(200);
    let text = '';
    for await (const chunk of response.body) text += chunk.toString();
    expect(text).toBe(`${[0, 1, 2, 3, 4].map((index) => `data: token ${index}\n\n`).join('')}data: [DONE]\n\n`);
  });

  it('holds back a model server that answers faster than it is read, then reads the whole answer', async () => {
    written = 0;
    const response = await send('/flood');
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Unread: about a megabyte queued plus the sockets' buffers, not the 64 MB on offer.
    expect(written).toBeLessThan(32 * megabyte);
    let read = 0;
    for await (const chunk of response.body) read += chunk.length;
    expect(read).toBe(64 * megabyte);
  });

  it('aborts an answer the reader stops reading, and the pool goes on serving', async () => {
    const before = closedEarly;
    const response = await send('/endless');
    for await (const chunk of response.body) {
      expect(chunk.toString()).toContain('data: more');
      break;
    }
    await expect.poll(() => closedEarly).toBe(before + 1);
    const next = await send('/tokens');
    let text = '';
    for await (const chunk of next.body) text += chunk.toString();
    expect(text).toContain('[DONE]');
  });

  it('rejects when aborted before the headers, and fails the body when aborted after them', async () => {
    const early = new AbortController();
    const pending = send('/slow-headers', early.signal);
    early.abort(new Error('client gone'));
    await expect(pending).rejects.toThrow('client gone');
    const late = new AbortController();
    const response = await send('/endless', late.signal);
    const reading = (async () => {
      for await (const chunk of response.body) void chunk;
    })();
    late.abort(new Error('deadline'));
    await expect(reading).rejects.toThrow('deadline');
    await expect(send('/tokens', late.signal)).rejects.toThrow('deadline');
  });
});
