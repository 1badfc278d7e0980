import { type Rng } from './rng';
import { outputVocab } from './vocab';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
type Schema = Record<string, unknown>;

/** Deeper schemas get only what they require, so recursive schemas terminate. */
const depthOptionalMax = 4;
const depthMax = 32;
const arrayItemsDefaultMax = 3;
const uniqueAttemptsMax = 16;

function asSchema(value: unknown): Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Schema) : {};
}

function resolveRef(root: Schema, ref: string): Schema {
  if (!ref.startsWith('#/')) {
    throw new Error(`Only local $ref values ("#/...") are supported by the simulator, got "${ref}".`);
  }
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    node = asSchema(node)[key];
  }
  if (node === undefined) throw new Error(`$ref "${ref}" does not point into the schema.`);
  return asSchema(node);
}

function mergeAllOf(schema: Schema, root: Schema): Schema {
  const parts = (schema.allOf as unknown[]).map((part) => {
    const s = asSchema(part);
    return typeof s.$ref === 'string' ? resolveRef(root, s.$ref) : s;
  });
  const merged: Schema = { ...schema, allOf: undefined };
  const properties: Schema = { ...asSchema(schema.properties) };
  const required = new Set<string>(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  for (const part of parts) {
    Object.assign(properties, asSchema(part.properties));
    if (Array.isArray(part.required)) for (const name of part.required as string[]) required.add(name);
    for (const [key, value] of Object.entries(part)) {
      if (key !== 'properties' && key !== 'required' && merged[key] === undefined) merged[key] = value;
    }
  }
  if (Object.keys(properties).length > 0) merged.properties = properties;
  if (required.size > 0) merged.required = [...required];
  return merged;
}

function pickType(schema: Schema): string | undefined {
  const type = schema.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return (type.find((t) => t !== 'null') as string | undefined) ?? 'null';
  if (schema.properties !== undefined || schema.required !== undefined) return 'object';
  if (schema.items !== undefined || schema.prefixItems !== undefined) return 'array';
  return undefined;
}

function sampleString(schema: Schema, rng: Rng): string {
  switch (schema.format) {
    case 'date-time':
      return '2025-01-01T00:00:00Z';
    case 'date':
      return '2025-01-01';
    case 'time':
      return '00:00:00Z';
    case 'email':
      return 'user@example.com';
    case 'uri':
    case 'url':
      return 'https://example.com/sim';
    case 'uuid':
      return '00000000-0000-4000-8000-000000000000';
    default:
      break;
  }
  const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const maxLength = typeof schema.maxLength === 'number' ? schema.maxLength : Math.max(minLength, 24);
  let text = '';
  const wordCount = rng.int(1, 3);
  for (let i = 0; i < wordCount; i++) {
    const word = (outputVocab[rng.int(0, outputVocab.length - 5)] as string).trim();
    text += i === 0 ? word : ` ${word}`;
  }
  while (text.length < minLength) text += 'a';
  return text.slice(0, maxLength);
}

function sampleNumber(schema: Schema, rng: Rng, integer: boolean): number {
  const exclusiveMin = typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum : undefined;
  const exclusiveMax = typeof schema.exclusiveMaximum === 'number' ? schema.exclusiveMaximum : undefined;
  let low = typeof schema.minimum === 'number' ? schema.minimum : -Infinity;
  let high = typeof schema.maximum === 'number' ? schema.maximum : Infinity;
  if (integer) {
    if (exclusiveMin !== undefined) low = Math.max(low, Math.floor(exclusiveMin) + 1);
    if (exclusiveMax !== undefined) high = Math.min(high, Math.ceil(exclusiveMax) - 1);
    low = Math.ceil(low);
    high = Math.floor(high);
    if (low === -Infinity && high === Infinity) low = 0;
    if (low === -Infinity) low = high - 100;
    if (high === Infinity) high = low + 100;
    const step = typeof schema.multipleOf === 'number' && Number.isInteger(schema.multipleOf) ? schema.multipleOf : 1;
    const first = Math.ceil(low / step);
    const last = Math.floor(high / step);
    return (last >= first ? rng.int(first, last) : first) * step;
  }
  if (exclusiveMin !== undefined) low = Math.max(low, exclusiveMin);
  if (exclusiveMax !== undefined) high = Math.min(high, exclusiveMax);
  if (low === -Infinity && high === Infinity) low = 0;
  if (low === -Infinity) low = high - 100;
  if (high === Infinity) high = low + 100;
  const value = Math.round((low + (high - low) * rng.float()) * 100) / 100;
  const inside = (v: number): boolean =>
    v >= low &&
    v <= high &&
    (exclusiveMin === undefined || v > exclusiveMin) &&
    (exclusiveMax === undefined || v < exclusiveMax);
  return inside(value) ? value : (low + high) / 2;
}

function sampleArray(schema: Schema, root: Schema, rng: Rng, depth: number): JsonValue[] {
  const prefix = Array.isArray(schema.prefixItems) ? (schema.prefixItems as unknown[]) : [];
  const minItems = Math.max(typeof schema.minItems === 'number' ? schema.minItems : 0, prefix.length);
  const maxItems = typeof schema.maxItems === 'number' ? schema.maxItems : minItems + arrayItemsDefaultMax;
  const deep = depth >= depthOptionalMax;
  const count = deep
    ? minItems
    : rng.int(
        Math.max(minItems, Math.min(1, maxItems)),
        Math.max(minItems, Math.min(maxItems, minItems + arrayItemsDefaultMax)),
      );
  const items: JsonValue[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const itemSchema = i < prefix.length ? prefix[i] : schema.items;
    let item = sampleNode(itemSchema, root, rng, depth + 1);
    for (
      let attempt = 0;
      schema.uniqueItems === true && seen.has(JSON.stringify(item)) && attempt < uniqueAttemptsMax;
      attempt++
    ) {
      item = sampleNode(itemSchema, root, rng, depth + 1);
    }
    if (schema.uniqueItems === true && seen.has(JSON.stringify(item))) {
      if (items.length >= minItems) break;
    }
    seen.add(JSON.stringify(item));
    items.push(item);
  }
  return items;
}

function sampleObject(schema: Schema, root: Schema, rng: Rng, depth: number): { [key: string]: JsonValue } {
  const properties = asSchema(schema.properties);
  const required = new Set<string>(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const result: { [key: string]: JsonValue } = {};
  for (const [name, propertySchema] of Object.entries(properties)) {
    if (required.has(name) || (depth < depthOptionalMax && rng.float() < 0.75)) {
      result[name] = sampleNode(propertySchema, root, rng, depth + 1);
    }
  }
  for (const name of required) {
    if (!(name in result)) result[name] = sampleNode(schema.additionalProperties ?? {}, root, rng, depth + 1);
  }
  return result;
}

function sampleNode(node: unknown, root: Schema, rng: Rng, depth: number): JsonValue {
  if (depth > depthMax)
    throw new Error(`The schema nests deeper than ${depthMax} levels; the simulator cannot satisfy it.`);
  if (node === true || node === undefined) return sampleString({}, rng);
  let schema = asSchema(node);
  if (typeof schema.$ref === 'string') schema = { ...resolveRef(root, schema.$ref), ...schema, $ref: undefined };
  if (Array.isArray(schema.allOf)) schema = mergeAllOf(schema, root);
  if ('const' in schema) return schema.const as JsonValue;
  if (Array.isArray(schema.enum) && schema.enum.length > 0)
    return schema.enum[rng.int(0, schema.enum.length - 1)] as JsonValue;
  const alternatives = Array.isArray(schema.anyOf)
    ? schema.anyOf
    : Array.isArray(schema.oneOf)
      ? schema.oneOf
      : undefined;
  if (alternatives !== undefined && alternatives.length > 0) {
    const { anyOf: _anyOf, oneOf: _oneOf, ...rest } = schema;
    return sampleNode({ ...rest, ...asSchema(alternatives[0]) }, root, rng, depth + 1);
  }
  switch (pickType(schema)) {
    case 'object':
      return sampleObject(schema, root, rng, depth);
    case 'array':
      return sampleArray(schema, root, rng, depth);
    case 'integer':
      return sampleNumber(schema, rng, true);
    case 'number':
      return sampleNumber(schema, rng, false);
    case 'boolean':
      return rng.float() < 0.5;
    case 'null':
      return null;
    default:
      return sampleString(schema, rng);
  }
}

/**
 * A JSON value that conforms to `schema` (objects, arrays, strings, enums, const, bounded numbers and
 * integers, booleans, null, required, nested, local $ref, allOf, anyOf/oneOf by their first branch).
 * `pattern` is not honoured. Deterministic for a given rng state.
 */
export function sampleJsonForSchema(schema: unknown, rng: Rng): JsonValue {
  return sampleNode(schema, asSchema(schema), rng, 0);
}
