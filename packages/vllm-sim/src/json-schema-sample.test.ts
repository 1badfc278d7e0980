import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleJsonForSchema } from './json-schema-sample';
import { createRng } from './rng';

const schemas: Record<string, object> = {
  nested: {
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 3, maxLength: 12 },
      kind: { enum: ['a', 'b', 'c'] },
      age: { type: 'integer', minimum: 18, maximum: 99 },
      ratio: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
      active: { type: 'boolean' },
      tags: { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 4 },
      address: {
        type: 'object',
        properties: { city: { type: 'string' }, zip: { type: 'string', maxLength: 5 } },
        required: ['city', 'zip'],
        additionalProperties: false,
      },
      nothing: { type: 'null' },
    },
    required: ['name', 'kind', 'age', 'ratio', 'active', 'tags', 'address'],
    additionalProperties: false,
  },
  arrayRoot: {
    type: 'array',
    items: { type: 'object', properties: { id: { type: 'integer', multipleOf: 5 } }, required: ['id'] },
    minItems: 1,
  },
  refs: {
    $defs: {
      step: {
        type: 'object',
        properties: { text: { type: 'string' }, score: { type: 'number', minimum: -5, maximum: 5 } },
        required: ['text', 'score'],
      },
    },
    type: 'object',
    properties: {
      steps: { type: 'array', items: { $ref: '#/$defs/step' } },
      verdict: { const: 'ok' },
      maybe: { type: ['string', 'null'] },
    },
    required: ['steps', 'verdict', 'maybe'],
  },
  combinators: {
    allOf: [
      { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] },
      { properties: { b: { type: 'boolean' } }, required: ['b'] },
    ],
  },
};

describe('sampleJsonForSchema', () => {
  const ajv = new Ajv({ strict: false });
  for (const [name, schema] of Object.entries(schemas)) {
    it(`produces values that conform to the ${name} schema for any seed`, () => {
      const validate = ajv.compile(schema);
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (seed) => {
          const value = sampleJsonForSchema(schema, createRng(seed));
          expect(validate(value), JSON.stringify({ value, errors: validate.errors })).toBe(true);
        }),
        { numRuns: 200 },
      );
    });
  }

  it('is deterministic for a seed', () => {
    expect(sampleJsonForSchema(schemas.nested, createRng(7))).toEqual(
      sampleJsonForSchema(schemas.nested, createRng(7)),
    );
  });

  it('refuses remote $refs with a message that says what is supported', () => {
    expect(() => sampleJsonForSchema({ $ref: 'https://example.com/s.json' }, createRng(1))).toThrow(/Only local \$ref/);
  });
});
