import { canonicalJson } from '@tokenwise/core';
import { z } from 'zod';
import { cursorLengthMax, documentBytesMax, pageSizeDefault, pageSizeMax } from './limits';

export const pageSize = z.number().int().min(1).max(pageSizeMax).default(pageSizeDefault);
export const isoTime = z.iso.datetime({ offset: true });
export const cursor = z.string().min(1).max(cursorLengthMax);

/** A JSON document (policy, price list) of bounded size; its shape is checked by the query it goes to. */
export const document = z
  .unknown()
  .refine((value) => value !== undefined && Buffer.byteLength(canonicalJson(value)) <= documentBytesMax, {
    message: `must be a JSON document of at most ${documentBytesMax} bytes`,
  });

/** A keyset cursor over (createdAt, requestId), newest first. */
export function encodeCursor(createdAt: Date, requestId: string): string {
  return Buffer.from(JSON.stringify([createdAt.toISOString(), requestId])).toString('base64url');
}

export function decodeCursor(text: string): { createdAt: Date; requestId: string } | undefined {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(value) || typeof value[0] !== 'string' || typeof value[1] !== 'string') return undefined;
    const createdAt = new Date(value[0]);
    return Number.isNaN(createdAt.getTime()) ? undefined : { createdAt, requestId: value[1] };
  } catch {
    return undefined;
  }
}
