import { GatewayError } from './openai-error';

/** Reads a whole upstream body, refusing more than `bytesMax` bytes (the model server's fault: nobody pays). */
export async function readBounded(body: AsyncIterable<Buffer>, bytesMax: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > bytesMax)
      throw new GatewayError(
        502,
        `The model server's answer exceeded ${bytesMax} bytes; you were not charged.`,
        'server_error',
        'upstream_too_large',
      );
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
