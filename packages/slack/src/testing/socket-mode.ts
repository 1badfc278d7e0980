import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { localAppId } from './state';

/** The envelope types Slack sends over Socket Mode. */
export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

export interface SocketAck {
  envelopeId: string;
  /** What the app put in its ack (`{ envelope_id, payload }`): the response payload, if any. */
  payload: Record<string, unknown> | undefined;
  elapsedMs: number;
}

const serverPingIntervalMs = 10_000;
const ackTimeoutMsDefault = 10_000;

/**
 * The Socket Mode side of the local Slack: `apps.connections.open` hands out a one-use `ws://`
 * URL; on connection the server sends `hello`, then envelopes, and waits for `{ envelope_id }` acks.
 */
export function createSocketModeEndpoint(options: { baseUrl: () => string }) {
  const wss = new WebSocketServer({ noServer: true });
  const tickets = new Set<string>();
  const sockets: WebSocket[] = [];
  const pendingAcks = new Map<string, (message: Record<string, unknown>) => void>();
  const connectionWaiters: (() => void)[] = [];
  let connectionsTotal = 0;

  const pinger = setInterval(() => {
    for (const socket of sockets) if (socket.readyState === WebSocket.OPEN) socket.ping('tokenwise-local-slack');
  }, serverPingIntervalMs);
  pinger.unref();

  function openSockets(): WebSocket[] {
    return sockets.filter((socket) => socket.readyState === WebSocket.OPEN);
  }

  function onConnection(socket: WebSocket): void {
    sockets.push(socket);
    connectionsTotal += 1;
    socket.on('message', (data) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(data.toString()) as Record<string, unknown>;
      } catch {
        return;
      }
      const id = message.envelope_id;
      if (typeof id !== 'string') return;
      const resolve = pendingAcks.get(id);
      pendingAcks.delete(id);
      resolve?.(message);
    });
    socket.on('close', () => sockets.splice(sockets.indexOf(socket), 1));
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: openSockets().length,
        debug_info: { host: 'applink-local-1', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: localAppId },
      }),
    );
    for (const waiter of connectionWaiters.splice(0)) waiter();
  }

  return {
    /** A fresh one-use WebSocket URL, as `apps.connections.open` returns. */
    issueUrl(): string {
      const ticket = randomUUID();
      tickets.add(ticket);
      return `${options.baseUrl().replace(/^http/, 'ws')}/link/?ticket=${ticket}&app_id=${localAppId}`;
    },

    /** Takes an HTTP upgrade on `/link/`; refuses one without a ticket from `apps.connections.open`. */
    handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
      const url = new URL(request.url ?? '/', 'http://local');
      const ticket = url.searchParams.get('ticket') ?? '';
      if (url.pathname !== '/link/' || !tickets.delete(ticket)) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
        return;
      }
      wss.handleUpgrade(request, socket, head, (ws) => onConnection(ws));
    },

    /** Open connections now, and how many were ever made (a reconnect makes another). */
    connections: () => ({ open: openSockets().length, total: connectionsTotal }),

    /** Resolves once at least one connection is open. */
    async waitForConnection(timeoutMs = 5_000): Promise<void> {
      if (openSockets().length > 0) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no Socket Mode connection within ${timeoutMs} ms`)),
          timeoutMs,
        );
        connectionWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },

    /** Sends one envelope on the newest open connection and resolves with the app's ack. */
    async send(
      type: EnvelopeType,
      payload: Record<string, unknown>,
      acceptsResponsePayload: boolean,
      timeoutMs = ackTimeoutMsDefault,
    ): Promise<SocketAck> {
      await this.waitForConnection(timeoutMs);
      const socket = openSockets().at(-1) as WebSocket;
      const envelopeId = randomUUID();
      const startedMs = performance.now();
      const acked = new Promise<Record<string, unknown>>((resolve, reject) => {
        const timer = setTimeout(() => {
          pendingAcks.delete(envelopeId);
          reject(new Error(`no ack for ${type} envelope ${envelopeId} within ${timeoutMs} ms`));
        }, timeoutMs);
        pendingAcks.set(envelopeId, (message) => {
          clearTimeout(timer);
          resolve(message);
        });
      });
      const envelope = {
        envelope_id: envelopeId,
        type,
        payload,
        accepts_response_payload: acceptsResponsePayload,
        ...(type === 'events_api' ? { retry_attempt: 0, retry_reason: '' } : {}),
      };
      socket.send(JSON.stringify(envelope));
      const ack = await acked;
      const ackPayload = ack.payload;
      return {
        envelopeId,
        payload:
          typeof ackPayload === 'object' && ackPayload !== null ? (ackPayload as Record<string, unknown>) : undefined,
        elapsedMs: performance.now() - startedMs,
      };
    },

    /** Asks every connection to reconnect, as Slack does before recycling a host. */
    disconnectAll(reason = 'refresh_requested'): void {
      for (const socket of openSockets())
        socket.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-local-1' } }));
    },

    async close(): Promise<void> {
      clearInterval(pinger);
      for (const socket of sockets) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

export type SocketModeEndpoint = ReturnType<typeof createSocketModeEndpoint>;
