import fc from 'fast-check';
import { expect, it } from 'vitest';
import { isCodeKeyword } from './keywords';
import { fingerprintText } from './winnow';

// Per the normalisation (tokenize.ts): a consistent renaming of identifiers, and any change of
// whitespace, line breaks and comments between tokens, leave the tokens and fingerprints as
// they were.

// `/` is left out: whether it opens a regular expression depends on what follows on its line,
// and random token soup (`( / a b / c`) is not code whose layout a formatter would change.

type Piece = { identifier: number } | { text: string };

const poolSize = 8;
const piece: fc.Arbitrary<Piece> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: poolSize - 1 }).map((identifier) => ({ identifier })) },
  {
    weight: 6,
    arbitrary: fc
      .oneof(
        fc.constantFrom('if', 'return', 'const', 'def', 'fn', 'while', 'for', 'class', 'await', 'self'),
        fc.constantFrom('0', '42', '3.14', '0x1F', '1e-3'),
        fc.string({ maxLength: 8 }).map((content) => `"${content.replace(/["\\\n\r]/g, '')}"`),
        fc.constantFrom(...'( ) { } [ ] = == => + - * < > . , : ;'.split(' ')),
        fc.constantFrom('!', '&&', '?', '...', '->', '::'),
      )
      .map((text) => ({ text })),
  },
);
const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/).filter((word) => !isCodeKeyword(word));
const names = fc.uniqueArray(name, { minLength: poolSize, maxLength: poolSize });
const separator = fc
  .array(fc.constantFrom(' ', '\t', '\n', '\r\n', '    ', '/* note */', '/* two\nlines */', '// why\n', '# py\n'), {
    minLength: 1,
    maxLength: 3,
  })
  .map((parts) => ` ${parts.join(' ')} `);

function render(pieces: readonly Piece[], identifiers: readonly string[], separators: readonly string[]): string {
  return pieces
    .map((entry, index) => ('identifier' in entry ? identifiers[entry.identifier]! : entry.text) + separators[index]!)
    .join('');
}

it('gives the same tokens and fingerprints after renaming identifiers and changing layout and comments', () => {
  fc.assert(
    fc.property(
      fc.array(piece, { maxLength: 120 }),
      names,
      names,
      fc.infiniteStream(separator),
      fc.infiniteStream(separator),
      fc.record({ k: fc.integer({ min: 1, max: 15 }), w: fc.integer({ min: 1, max: 10 }) }),
      (pieces, namesA, namesB, separatorsA, separatorsB, options) => {
        const a = fingerprintText(render(pieces, namesA, [...separatorsA.take(pieces.length)]), options);
        const b = fingerprintText(render(pieces, namesB, [...separatorsB.take(pieces.length)]), options);
        expect(b.tokens.map((token) => token.symbol)).toEqual(a.tokens.map((token) => token.symbol));
        expect(b.fingerprints).toEqual(a.fingerprints);
      },
    ),
    { numRuns: 200 },
  );
});

it('fingerprints a real function the same after a rename and a reformat', () => {
  const original = `export function debounce(fn: (...args: unknown[]) => void, waitMs: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...args: unknown[]) => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => fn(...args), waitMs);
  };
}`;
  const reworked = `// Debounce, as reviewed.
export function debounce(callback: (...params: unknown[]) => void, delay: number)
{
    let handle: ReturnType<typeof setTimeout> | undefined
    return (...params: unknown[]) => {
        if (handle !== undefined) clearTimeout(handle) // reset
        handle = setTimeout(() => callback(...params), delay)
    }
}`;
  expect(fingerprintText(reworked).fingerprints).toEqual(fingerprintText(original).fingerprints);
  expect(fingerprintText(original).fingerprints.length).toBeGreaterThan(3);
});
