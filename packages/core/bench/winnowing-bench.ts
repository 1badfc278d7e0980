// npm run bench:winnowing — the commit-linkage matcher's speed: a 10,000-line diff of added lines
// against 1,000 completions of 40 lines, a tenth of them copied from the diff. Real code only: the
// diff is TypeScript's own compiler source, the other completions this repository's sources.
// Then the same figure on the labelled set's release diffs and completions (`labelledSet`), run
// the way the plugin runs it, with per-completion percentiles and memory (issue #16).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  containment,
  fingerprintCompletion,
  fingerprintDiff,
  fingerprintHashes,
  matchedMergedLines,
  type FingerprintedCode,
} from '../src/index';
import { labelledBench } from './winnowing-labelled-bench';

const diffLines = Number(process.env.BENCH_DIFF_LINES ?? 10_000);
const completionCount = Number(process.env.BENCH_COMPLETIONS ?? 1_000);
const completionLines = 40;
const copiedShare = 0.1;

// A fixed linear congruential sequence: the same completions on every run.
let seed = 12345;
const nextIndex = (bound: number) => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed % bound;
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

const repoRoot = join(import.meta.dirname, '../../..');
const compiler = readFileSync(createRequire(import.meta.url).resolve('typescript/lib/typescript.js'), 'utf8')
  .split('\n')
  .slice(20_000, 20_000 + diffLines);
const ownLines = sourceFiles(join(repoRoot, 'packages')).flatMap((path) => readFileSync(path, 'utf8').split('\n'));
const patch = `@@ -0,0 +1,${compiler.length} @@\n${compiler.map((line) => `+${line}`).join('\n')}`;
const completions = Array.from({ length: completionCount }, (_, index) => {
  const copied = index < completionCount * copiedShare;
  const source = copied ? compiler : ownLines;
  const start = nextIndex(source.length - completionLines);
  return `Here you go:\n\`\`\`ts\n${source.slice(start, start + completionLines).join('\n')}\n\`\`\``;
});

function timed<T>(work: () => T): [T, number] {
  const started = performance.now();
  const result = work();
  return [result, performance.now() - started];
}

const [merged, diffMs] = timed(() => fingerprintDiff(patch, undefined, 'lib/typescript.js'));
const mergedTokens = merged.reduce((sum, file) => sum + file.code.tokens.length, 0);
const mergedFingerprints = merged.reduce((sum, file) => sum + file.code.fingerprints.length, 0);
const [pieces, completionMs] = timed(() => completions.map((text) => fingerprintCompletion(text)));
const completionFingerprints = pieces.flat().reduce((sum, piece) => sum + piece.fingerprints.length, 0);
const mergedHashes = fingerprintHashes(merged.map((file) => file.code));
const [scores, matchMs] = timed(() =>
  pieces.map((piece: FingerprintedCode[]) => {
    const score = containment(piece, mergedHashes);
    const lines = score.matchedFingerprints > 0 ? matchedMergedLines(merged, fingerprintHashes(piece)).length : 0;
    return { ...score, lines };
  }),
);
const copiedCount = completionCount * copiedShare;
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);

const report = {
  diff: { lines: compiler.length, tokens: mergedTokens, fingerprints: mergedFingerprints, ms: Math.round(diffMs) },
  diffFingerprintsPerSecond: Math.round(mergedFingerprints / (diffMs / 1000)),
  diffTokensPerSecond: Math.round(mergedTokens / (diffMs / 1000)),
  completions: { count: completionCount, fingerprints: completionFingerprints, ms: Math.round(completionMs) },
  completionFingerprintsPerSecond: Math.round(completionFingerprints / (completionMs / 1000)),
  matchAllCompletionsMs: Math.round(matchMs),
  meanContainmentCopied: Number(mean(scores.slice(0, copiedCount).map((s) => s.containment)).toFixed(3)),
  meanContainmentOther: Number(mean(scores.slice(copiedCount).map((s) => s.containment)).toFixed(3)),
  otherWithAnyMatch: scores.slice(copiedCount).filter((s) => s.matchedFingerprints > 0).length,
};
console.log(JSON.stringify({ ...report, labelledSet: labelledBench(diffLines, completionCount) }, null, 2));
