import { invariant } from '../invariant';
import type { CodeToken } from './tokenize';

/**
 * Hashes of every k-gram of a token stream, as 53-bit non-negative integers (exact in a double,
 * storable in a bigint column). Two independent 32-bit polynomial rolling hashes modulo 2^32
 * (`Math.imul`), each passed through MurmurHash3's finaliser; 21 bits of one and 32 of the other
 * make the result. Pure integer arithmetic on fixed constants: the same tokens give the same
 * hashes in every process, on every platform and Node version (no seed, no Math.random).
 */

const laneBaseA = 0x01000193; // FNV prime: odd, so multiplication by it is a bijection modulo 2^32
const laneBaseB = 0x5bd1e995; // MurmurHash2's multiplier, odd as well
const laneSaltB = 0x9e3779b9; // golden-ratio constant: decorrelates the second lane's token values
const twoPow32 = 4294967296;

/** FNV-1a over UTF-16 code units: the 32-bit value of one normalised symbol. */
export function symbolHash32(symbol: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < symbol.length; index += 1) {
    hash = Math.imul(hash ^ symbol.charCodeAt(index), 0x01000193);
  }
  return hash >>> 0;
}

/** MurmurHash3's 32-bit finaliser: a bijection that spreads every input bit over the output. */
export function mix32(value: number): number {
  let hash = value >>> 0;
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

function power32(base: number, exponent: number): number {
  let result = 1;
  for (let step = 0; step < exponent; step += 1) result = Math.imul(result, base);
  return result;
}

/**
 * The hash of each k-gram: entry `i` covers tokens `i .. i + k - 1`. Empty when there are fewer
 * than `k` tokens. O(tokens) whatever `k` is.
 */
export function kgramHashes(tokens: readonly CodeToken[], k: number): number[] {
  invariant(Number.isInteger(k) && k >= 1, `k must be an integer >= 1, got ${k}`);
  const count = tokens.length - k + 1;
  if (count <= 0) return [];
  const valuesA = new Int32Array(tokens.length);
  const valuesB = new Int32Array(tokens.length);
  const symbolCache = new Map<string, number>();
  tokens.forEach((token, index) => {
    let value = symbolCache.get(token.symbol);
    if (value === undefined) {
      value = symbolHash32(token.symbol);
      symbolCache.set(token.symbol, value);
    }
    valuesA[index] = value;
    valuesB[index] = mix32(value ^ laneSaltB);
  });
  // The weight of the token that leaves the window: base^(k-1) modulo 2^32.
  const outWeightA = power32(laneBaseA, k - 1);
  const outWeightB = power32(laneBaseB, k - 1);
  let laneA = 0;
  let laneB = 0;
  for (let index = 0; index < k; index += 1) {
    laneA = (Math.imul(laneA, laneBaseA) + valuesA[index]!) | 0;
    laneB = (Math.imul(laneB, laneBaseB) + valuesB[index]!) | 0;
  }
  const hashes = new Array<number>(count);
  hashes[0] = combine(laneA, laneB);
  for (let start = 1; start < count; start += 1) {
    const leaving = start - 1;
    const entering = start + k - 1;
    laneA = (Math.imul(laneA - Math.imul(valuesA[leaving]!, outWeightA), laneBaseA) + valuesA[entering]!) | 0;
    laneB = (Math.imul(laneB - Math.imul(valuesB[leaving]!, outWeightB), laneBaseB) + valuesB[entering]!) | 0;
    hashes[start] = combine(laneA, laneB);
  }
  return hashes;
}

function combine(laneA: number, laneB: number): number {
  return (mix32(laneA) >>> 11) * twoPow32 + mix32(laneB);
}
