/** Longest SSE line accepted from an upstream: a guard against a runaway stream, not a real limit. */
export const sseLineBytesMax = 4 * 1024 * 1024;

/**
 * Splits an SSE byte stream into `data:` payloads as chunks arrive, whatever the chunk boundaries.
 * Returns the complete events of this chunk; keeps the partial tail for the next one.
 */
export class SseParser {
  private tail = '';
  private started = false;

  push(chunk: string): string[] {
    let text = this.tail + chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      // One leading byte order mark is ignored (the SSE standard; TextDecoder used to drop it).
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const events: string[] = [];
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n\n', start);
      if (end < 0) break;
      const event = text.slice(start, end);
      start = end + 2;
      const data = dataOf(event);
      if (data !== undefined) events.push(data);
    }
    this.tail = text.slice(start);
    if (this.tail.length > sseLineBytesMax) throw new Error(`An upstream SSE event exceeded ${sseLineBytesMax} bytes.`);
    return events;
  }
}

function dataOf(event: string): string | undefined {
  // The common case, one `data: ` line (as vLLM sends every event), without splitting.
  if (event.startsWith('data: ') && !event.includes('\n') && !event.endsWith('\r')) return event.slice(6);
  let data: string | undefined;
  for (const line of event.split('\n')) {
    const clean = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (clean.startsWith('data:')) {
      const value = clean.slice(clean.startsWith('data: ') ? 6 : 5);
      data = data === undefined ? value : `${data}\n${value}`;
    }
  }
  return data;
}
