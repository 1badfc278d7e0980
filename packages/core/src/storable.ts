/**
 * Client text bound for PostgreSQL. `text` refuses NUL and `jsonb` refuses `\u0000` and lone
 * surrogates (invalid UTF-8 once encoded); the codec reserves objects shaped `{"$bigint": "..."}`.
 * One such value in a group-commit batch would fail every operation beside it, so whatever a client
 * wrote is made storable before it is attached to a ledger operation.
 */

/** Nesting kept in stored client JSON; deeper values are replaced by a marker string. */
export const storableJsonDepthMax = 32;
/** What a value deeper than `storableJsonDepthMax` is stored as. */
export const tooDeepMarker = `[nested deeper than ${storableJsonDepthMax} levels]`;

// NUL, or a surrogate unit (paired or not: the slow path below tells them apart).
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const suspicious = /[\u0000\ud800-\udfff]/;

/** `text` without NUL and with every lone surrogate replaced by U+FFFD; unchanged (same string) when already storable. */
export function storableText(text: string): string {
  if (!suspicious.test(text)) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit === 0) continue;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += text.slice(i, i + 2);
        i++;
      } else out += '\ufffd';
    } else if (unit >= 0xdc00 && unit <= 0xdfff) out += '\ufffd';
    else out += text.charAt(i);
  }
  return out;
}

/** At most `unitsMax` UTF-16 units of `text`, never ending in the middle of a surrogate pair. */
export function cutText(text: string, unitsMax: number): string {
  if (text.length <= unitsMax) return text;
  const last = text.charCodeAt(unitsMax - 1);
  const end = last >= 0xd800 && last <= 0xdbff ? unitsMax - 1 : unitsMax;
  return text.slice(0, Math.max(0, end));
}

function isBigintShaped(record: Record<string, unknown>): boolean {
  const keys = Object.keys(record);
  return keys.length === 1 && /^\$+bigint$/.test(keys[0] as string);
}

/**
 * Client JSON made storable: strings and keys through `storableText`, nesting cut at
 * `storableJsonDepthMax`, and an object whose one key is `$bigint` (or `$$bigint`, ...) escaped with
 * one more `$`, so the codec never reads client data as an amount and never refuses it.
 */
export function storableJson(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return storableText(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value;
  if (depth >= storableJsonDepthMax) return tooDeepMarker;
  if (Array.isArray(value)) return value.map((item) => storableJson(item, depth + 1));
  const record = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const escape = isBigintShaped(record);
  for (const [key, item] of Object.entries(record)) {
    const storedKey = escape ? `$${key}` : storableText(key);
    out[storedKey] = storableJson(item, depth + 1);
  }
  return out;
}

/** A row's values made storable: client strings and JSON as above, everything else (bigint, Date, numbers) as is. */
export function storableRow(row: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(row)) {
    if (value === null || (typeof value !== 'string' && typeof value !== 'object') || value instanceof Date) continue;
    const stored = storableJson(value);
    if (stored === value && typeof value === 'string') continue;
    out ??= { ...row };
    out[key] = stored;
  }
  return out ?? row;
}
