// npm run build:labelled-set — rebuilds the matcher's labelled set (issue #16) from real code:
// consecutive releases of permissively licensed npm packages and PyPI sdists stand for merged pull
// requests (GitHub cannot be reached from the build machines), and completions are cut from them.
// Needs the npm registry and PyPI; the tests read only the shipped result, never the network.
//
//   tsx packages/core/bench/build-labelled-set.ts [cacheDir]
//
// Writes packages/core/src/winnowing/fixtures/labelled/{labelled-set.json.gz,LICENSES.md,licenses/}.
// The same registries give the same bytes, so a rebuild gives the same set (the shuffles are seeded).
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { codeTokenCount, extractAddedLines, isCodeKeyword, tokenizeCode, type CodeToken } from '../src/index';
import type { LabelledCase, LabelledMerge, LabelledSet } from '../src/winnowing/fixtures/labelled/labelled-set';

interface Release {
  readonly ecosystem: 'npm' | 'pypi';
  readonly name: string;
  readonly language: 'js' | 'py';
  readonly license: string;
  /** Pairs of consecutive published versions: each pair is one "merged pull request". */
  readonly pairs: readonly (readonly [string, string])[];
}

const releases: readonly Release[] = [
  {
    ecosystem: 'npm',
    name: 'semver',
    language: 'js',
    license: 'ISC',
    pairs: [
      ['7.5.4', '7.6.0'],
      ['7.6.0', '7.6.1'],
      ['7.6.2', '7.7.0'],
    ],
  },
  {
    ecosystem: 'npm',
    name: 'commander',
    language: 'js',
    license: 'MIT',
    pairs: [
      ['11.0.0', '11.1.0'],
      ['12.0.0', '12.1.0'],
    ],
  },
  { ecosystem: 'npm', name: 'yargs-parser', language: 'js', license: 'ISC', pairs: [['21.0.1', '21.1.0']] },
  {
    ecosystem: 'npm',
    name: 'dotenv',
    language: 'js',
    license: 'BSD-2-Clause',
    pairs: [
      ['16.3.1', '16.4.0'],
      ['16.4.5', '16.5.0'],
    ],
  },
  { ecosystem: 'npm', name: 'minimist', language: 'js', license: 'MIT', pairs: [['1.2.7', '1.2.8']] },
  { ecosystem: 'npm', name: 'chalk', language: 'js', license: 'MIT', pairs: [['5.3.0', '5.4.0']] },
  { ecosystem: 'pypi', name: 'attrs', language: 'py', license: 'MIT', pairs: [['23.1.0', '23.2.0']] },
  { ecosystem: 'pypi', name: 'click', language: 'py', license: 'BSD-3-Clause', pairs: [['8.1.6', '8.1.7']] },
  { ecosystem: 'pypi', name: 'requests', language: 'py', license: 'Apache-2.0', pairs: [['2.31.0', '2.32.0']] },
  {
    ecosystem: 'pypi',
    name: 'packaging',
    language: 'py',
    license: 'Apache-2.0 OR BSD-2-Clause',
    pairs: [['23.1', '23.2']],
  },
  { ecosystem: 'pypi', name: 'itsdangerous', language: 'py', license: 'BSD-3-Clause', pairs: [['2.1.2', '2.2.0']] },
];

/** One merge's diff stops taking files past this many characters, so the shipped set stays small. */
const mergeDiffCharsMax = 60_000;
/** A source file larger than this is generated or vendored, not a pull request's code. */
const sourceFileBytesMax = 200_000;
const codeExtensions = /\.(?:js|cjs|mjs|ts|py)$/;
const notSource = /(?:^|\/)(?:tests?|docs?|examples?|bench|node_modules|typings)\/|\.d\.[cm]?ts$|\.min\.js$/;
/** t for the defaults (k = 15, w = 10): a chunk below it is not judged at all. */
const tDefault = 24;

const outDir = join(import.meta.dirname, '../src/winnowing/fixtures/labelled');
const cacheDir = process.argv[2] ?? join(tmpdir(), 'tokenwise-labelled-set');

// ---------------------------------------------------------------- downloads

function run(command: string, args: readonly string[], cwd?: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** Downloads and unpacks one release; returns the directory of its files. */
function unpacked(release: Release, version: string): string {
  const dir = join(cacheDir, 'x', `${release.ecosystem}-${release.name}-${version}`);
  if (existsSync(dir)) return onlyChild(dir);
  const downloads = join(cacheDir, 'downloads', `${release.ecosystem}-${release.name}-${version}`);
  mkdirSync(downloads, { recursive: true });
  if (release.ecosystem === 'npm') {
    run('npm', ['pack', `${release.name}@${version}`, '--silent', '--pack-destination', downloads]);
  } else {
    run('pip', ['download', '--no-deps', '--no-binary', ':all:', '-q', `${release.name}==${version}`, '-d', downloads]);
  }
  const archive = readdirSync(downloads).find((name) => name.endsWith('.tgz') || name.endsWith('.tar.gz'));
  if (archive === undefined) throw new Error(`no archive downloaded for ${release.name} ${version}`);
  mkdirSync(dir, { recursive: true });
  run('tar', ['xzf', join(downloads, archive), '-C', dir]);
  return onlyChild(dir);
}

function onlyChild(dir: string): string {
  const [child, ...others] = readdirSync(dir);
  if (child === undefined || others.length > 0) throw new Error(`${dir} should hold one directory`);
  return join(dir, child);
}

/** Source files by path, `src/` stripped so a move into a src layout pairs old and new files. */
function sourceFiles(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stat = statSync(path);
      const rel = relative(root, path).split('\\').join('/');
      if (stat.isDirectory()) walk(path);
      else if (codeExtensions.test(name) && !notSource.test(rel) && stat.size <= sourceFileBytesMax) {
        files.set(rel.replace(/^src\//, ''), path);
      }
    }
  };
  walk(root);
  return files;
}

function licenceFiles(root: string): string[] {
  return readdirSync(root)
    .filter((name) => /^(?:licen[cs]e|copying|notice)/i.test(name))
    .map((name) => join(root, name));
}

// ---------------------------------------------------------------- diffs

/** A git-style diff of the source files the new version adds or changes (deleted files add nothing). */
function releaseDiff(oldRoot: string, newRoot: string): string {
  const oldFiles = sourceFiles(oldRoot);
  const newFiles = sourceFiles(newRoot);
  let diff = '';
  for (const [path, newPath] of newFiles) {
    const oldPath = oldFiles.get(path);
    const result = spawnSync('diff', ['-u', oldPath ?? '/dev/null', newPath], { encoding: 'utf8' });
    if (result.status === 0) continue;
    if (result.status !== 1) throw new Error(`diff failed on ${path}: ${result.stderr}`);
    const hunks = result.stdout.slice(result.stdout.indexOf('\n@@') + 1);
    const header = `diff --git a/${path} b/${path}\n--- ${oldPath ? `a/${path}` : '/dev/null'}\n+++ b/${path}\n`;
    if (diff.length > 0 && diff.length + header.length + hunks.length > mergeDiffCharsMax) continue;
    diff += header + hunks;
  }
  return diff;
}

interface AddedRun {
  readonly path: string;
  /** The new-file line number of the run's first line. */
  readonly firstLine: number;
  readonly lines: readonly string[];
}

/** Consecutive added lines of each file: what a completion could have become. */
function addedRuns(diff: string): AddedRun[] {
  const runs: { path: string; firstLine: number; lines: string[]; last: number }[] = [];
  for (const { path, line, text } of extractAddedLines(diff)) {
    const current = runs.at(-1);
    if (current && current.path === path && current.last === line - 1) {
      current.lines.push(text);
      current.last = line;
    } else {
      runs.push({ path: path ?? '', firstLine: line, lines: [text], last: line });
    }
  }
  return runs;
}

// ---------------------------------------------------------------- seeded choices

let seed = 0x1abe11ed;
function random(): number {
  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let value = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
  return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const between = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));

const tokensOf = (lines: readonly string[]) => tokenizeCode(lines.join('\n')).length;

/** A window of about `size` lines of `lines`, cut cleanly, with at least `tokensMin` code tokens, or undefined. */
function window(lines: readonly string[], size: number, tokensMin: number): string[] | undefined {
  for (let attempt = 0; attempt < 12; attempt += 1) {
    const start = between(0, Math.max(0, lines.length - size));
    const chunk = trimBlank(lines.slice(start, start + size));
    if (tokensOf(chunk) >= tokensMin && cutsCleanly(lines, start, start + size)) return chunk;
  }
  return undefined;
}

const wholeTokens = new WeakMap<readonly string[], CodeToken[]>();

/**
 * True when lines `start .. end` lex alone as they do inside all of `lines`: the cut is not
 * inside a comment or a multi-line string, as an answer's code block never is.
 */
function cutsCleanly(lines: readonly string[], start: number, end: number): boolean {
  let tokens = wholeTokens.get(lines);
  if (tokens === undefined) {
    tokens = tokenizeCode(lines.join('\n'), 0);
    wholeTokens.set(lines, tokens);
  }
  const inside = tokens.filter((token) => token.line >= start && token.line < end).map((token) => token.symbol);
  const alone = tokenizeCode(lines.slice(start, end).join('\n')).map((token) => token.symbol);
  return inside.join(' ') === alone.join(' ');
}

/**
 * Disjoint chunks of the added runs, cut cleanly from the whole new file (not inside a comment or
 * docstring whose opener is a context line), in a seeded random order: no two positives share code.
 */
function positiveChunks(runs: readonly AddedRun[], newFiles: ReadonlyMap<string, readonly string[]>): string[][] {
  const chunks: string[][] = [];
  for (const { path, firstLine, lines } of runs) {
    const file = newFiles.get(path);
    if (file === undefined) continue;
    for (let start = 0; start < lines.length;) {
      const end = Math.min(lines.length, start + pick(positiveSizes));
      const chunk = trimBlank(lines.slice(start, end));
      if (tokensOf(chunk) >= tDefault && cutsCleanly(file, firstLine - 1 + start, firstLine - 1 + end)) {
        chunks.push(chunk);
      }
      start = end;
    }
  }
  for (let index = chunks.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [chunks[index], chunks[other]] = [chunks[other]!, chunks[index]!];
  }
  return chunks;
}

function trimBlank(lines: readonly string[]): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start]!.trim() === '') start += 1;
  while (end > start && lines[end - 1]!.trim() === '') end -= 1;
  return lines.slice(start, end);
}

// ---------------------------------------------------------------- completions

const fence = (language: string, lines: readonly string[]) => `\`\`\`${language}\n${lines.join('\n')}\n\`\`\``;

const intros = [
  'Here is an implementation that should do what you need:',
  'Sure! You can handle that case like this:',
  'The problem is in how the value is parsed. Try this version:',
  'You can extend the existing function as follows:',
  "Here's a cleaner way to write it:",
];
const outros = [
  'This keeps the existing behaviour for valid input and only changes the edge case you described.',
  'Note that the function returns early when the input is empty, so callers do not need to check.',
  'Let me know if you also want tests for this.',
  'The rest of the module can stay as it is.',
];

function inProse(language: string, lines: readonly string[]): string {
  const usage = language === 'py' ? 'result = main(["--help"])' : 'const result = main(process.argv.slice(2))';
  return [
    pick(intros),
    '',
    fence(language, lines),
    '',
    pick(outros),
    '',
    'For example:',
    '',
    fence(language, [usage]),
  ].join('\n');
}

/** Renames every identifier the normaliser collapses, consistently: what a careful copier does. */
function renameIdentifiers(lines: readonly string[]): string[] {
  const names = new Map<string, string>();
  const stringPrefixes = /^(?:[rbfuRBFU]|rb|br|fr|rf)$/;
  return lines.map((line) =>
    line.replace(/\b[A-Za-z_][A-Za-z0-9_]*\b/g, (word, offset: number) => {
      const next = line.charAt(offset + word.length);
      if (isCodeKeyword(word) || (stringPrefixes.test(word) && (next === '"' || next === "'"))) return word;
      if (/\d/.test(line.charAt(offset - 1))) return word;
      let renamed = names.get(word);
      if (renamed === undefined) {
        renamed = `${word.length > 3 ? word.slice(0, 3) : word}Renamed${names.size}`;
        names.set(word, renamed);
      }
      return renamed;
    }),
  );
}

function reindent(lines: readonly string[], language: string): string[] {
  const unit = language === 'py' ? '  ' : pick(['\t', '    ']);
  return lines.map((line) => {
    const indent = /^ */.exec(line)![0].length;
    const depth = Math.round(indent / (language === 'py' ? 4 : 2));
    return unit.repeat(depth) + line.trimStart();
  });
}

function restyle(lines: readonly string[], language: string): string[] {
  return lines.map((line) => {
    let styled = line.replace(/'([^'"\\\n]*)'/g, '"$1"');
    if (language === 'js') styled = styled.replace(/;\s*$/, '');
    return styled.replace(/,(?=\S)/g, ', ');
  });
}

function withComments(lines: readonly string[], language: string): string[] {
  const comment = language === 'py' ? '# keep this in sync with the caller' : '// keep this in sync with the caller';
  const at = between(1, Math.max(1, lines.length - 1));
  const indent = /^\s*/.exec(lines[at] ?? '')![0];
  return [...lines.slice(0, at), indent + comment, ...lines.slice(at)];
}

function reformatted(lines: readonly string[], language: string): string[] {
  return withComments(restyle(reindent(renameIdentifiers(lines), language), language), language);
}

/** The completion before its author edited it: about one line in seven differs from what was merged. */
function beforeEdits(lines: readonly string[], foreign: readonly string[]): string[] {
  const edited: string[] = [];
  lines.forEach((line, index) => {
    const roll = random();
    if (index === 0 || line.trim() === '' || roll > 0.15) edited.push(line);
    else if (roll < 0.07)
      return; // a line the author added to the merged version
    else edited.push(/^\s*/.exec(line)![0] + pick(foreign).trim()); // a line the author rewrote
  });
  return edited;
}

// ---------------------------------------------------------------- boilerplate

const jsBoilerplate: readonly string[][] = [
  [
    '/*!',
    ' * Copyright (c) the authors. Released under the MIT License.',
    ' * Permission is hereby granted, free of charge, to any person obtaining a copy.',
    ' */',
    "'use strict';",
    "const fs = require('fs');",
    "const path = require('path');",
  ],
  ["'use strict'", "Object.defineProperty(exports, '__esModule', { value: true })", 'exports.default = void 0'],
  ['module.exports = {', '  parse,', '  stringify,', '  normalize,', '  validate,', '  format,', '}'],
  ['function isObject (value) {', "  return value !== null && typeof value === 'object' && !Array.isArray(value)", '}'],
  [
    'for (let i = 0; i < args.length; i++) {',
    '  const arg = args[i]',
    "  if (arg === '--') break",
    '  out.push(arg)',
    '}',
  ],
  [
    'try {',
    '  return fs.readFileSync(file, options)',
    '} catch (err) {',
    "  if (err.code !== 'ENOENT') throw err",
    '  return null',
    '}',
  ],
  ["if (typeof input !== 'string') {", '  throw new TypeError(`Expected a string, got ${typeof input}`)', '}'],
];

const pyBoilerplate: readonly string[][] = [
  [
    '# SPDX-License-Identifier: MIT',
    '# Copyright (c) the authors.',
    '"""Helpers for parsing and formatting."""',
    'from __future__ import annotations',
    '',
    'import os',
    'import sys',
  ],
  [
    'def __init__(self, name, value):',
    '    self.name = name',
    '    self.value = value',
    '',
    'def __repr__(self):',
    '    return f"{self.__class__.__name__}({self.name!r}, {self.value!r})"',
  ],
  ['if __name__ == "__main__":', '    import sys', '', '    sys.exit(main(sys.argv[1:]))'],
  ['from typing import Any, Dict, List, Optional, Tuple, Union', '', '__all__ = ["parse", "dumps", "loads"]'],
  [
    'def __eq__(self, other):',
    '    if not isinstance(other, self.__class__):',
    '        return NotImplemented',
    '    return self.value == other.value',
  ],
  [
    'try:',
    '    import importlib.metadata as importlib_metadata',
    'except ImportError:',
    '    import importlib_metadata',
  ],
];

/** The first lines of a module up to its first definition: imports and headers every file has. */
function moduleHead(lines: readonly string[]): string[] {
  const end = lines.findIndex(
    (line, index) => index > 0 && /^(?:def|class|function|const \w+ = \(|export function)/.test(line),
  );
  return trimBlank(lines.slice(0, Math.min(end < 0 ? 15 : end, 25)));
}

// ---------------------------------------------------------------- cases

interface Source {
  readonly release: Release;
  readonly from: string;
  readonly to: string;
  readonly id: string;
  readonly diff: string;
  readonly runs: readonly AddedRun[];
  /** Lines of the new version's source files that the diff does not add, file by file. */
  readonly unchanged: readonly string[][];
  readonly heads: readonly string[][];
  /** The new version's source files, as lines. */
  readonly newFiles: ReadonlyMap<string, readonly string[]>;
  readonly addedText: ReadonlySet<string>;
  /** The removed lines, trimmed: added lines among them are moved code, not new code. */
  readonly removedText: ReadonlySet<string>;
}

/** Share of a chunk's substantial lines found, as text, among the merge's removed lines. */
function movedShare(lines: readonly string[], source: Source): number {
  const substantial = lines.map((line) => line.trim()).filter((line) => line.length >= 10);
  if (substantial.length === 0) return 1;
  return substantial.filter((line) => source.removedText.has(line)).length / substantial.length;
}

/** True when no substantial line of `lines` is among the merge's added lines, compared as text. */
function sharesNoLine(lines: readonly string[], source: Source): boolean {
  return lines.every((line) => line.trim().length < 20 || !source.addedText.has(line.trim()));
}

function buildSource(release: Release, from: string, to: string): Source {
  const oldRoot = unpacked(release, from);
  const newRoot = unpacked(release, to);
  const diff = releaseDiff(oldRoot, newRoot);
  const added = extractAddedLines(diff);
  const addedKeys = new Set(added.map(({ path, line }) => `${path}:${line}`));
  const unchanged: string[][] = [];
  const heads: string[][] = [];
  const newFiles = new Map<string, string[]>();
  for (const [path, file] of sourceFiles(newRoot)) {
    const lines = readFileSync(file, 'utf8').split('\n');
    newFiles.set(path, lines);
    heads.push(moduleHead(lines));
    const kept = lines.filter((_, index) => !addedKeys.has(`${path}:${index + 1}`));
    if (kept.length === lines.length) unchanged.push(lines);
  }
  return {
    release,
    from,
    to,
    id: `${release.name}@${from}..${to}`,
    diff,
    runs: addedRuns(diff),
    unchanged,
    heads,
    newFiles,
    addedText: new Set(added.map(({ text }) => text.trim())),
    removedText: new Set(
      diff
        .split('\n')
        .filter((line) => line.startsWith('-') && !line.startsWith('--- '))
        .map((line) => line.slice(1).trim()),
    ),
  };
}

const positiveSizes = [4, 6, 10, 16, 25, 40];
const positivesPerMergeMax = 30;

function buildCases(source: Source, others: readonly Source[]): LabelledCase[] {
  const language = source.release.language;
  const cases: LabelledCase[] = [];
  const add = (kind: string, merged: boolean, completion: string, usedShare?: number) =>
    cases.push({
      id: `${source.id}#${cases.length}`,
      merge: source.id,
      kind,
      merged,
      completion,
      ...(usedShare === undefined ? {} : { usedShare: Number(usedShare.toFixed(2)) }),
    });
  const sameLanguage = others.filter(
    (other) => other.release.language === language && other.release !== source.release && other.unchanged.length > 0,
  );
  const foreignLines = sameLanguage
    .flatMap((other) => other.unchanged.flat())
    .filter((line) => line.trim().length > 10);
  const foreignChunk = (size: number) => {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const chunk = window(pick(pick(sameLanguage).unchanged), size, tDefault);
      if (chunk && sharesNoLine(chunk, source)) return chunk;
    }
    return undefined;
  };
  const usableRuns = source.runs.filter((run) => tokensOf(run.lines) >= tDefault);
  const kinds = ['verbatim', 'verbatim-bare', 'reformatted', 'in-prose', 'edited', 'partial'] as const;
  const chunks = positiveChunks(source.runs, source.newFiles);
  // Code the release only moved or re-indented was in the base already: a completion holding it
  // wrote nothing new (the gaming case "ask for existing code, then move it").
  for (const chunk of chunks.filter((lines) => movedShare(lines, source) >= 0.8).slice(0, 4)) {
    add('moved-code', false, fence(language, chunk));
  }
  chunks
    .filter((lines) => movedShare(lines, source) < 0.5)
    .slice(0, positivesPerMergeMax)
    .forEach((chunk, index) => {
      const kind = kinds[index % kinds.length]!;
      if (kind === 'verbatim') add(kind, true, fence(language, chunk));
      else if (kind === 'verbatim-bare') add(kind, true, chunk.join('\n'));
      else if (kind === 'reformatted') add(kind, true, fence(language, reformatted(chunk, language)));
      else if (kind === 'in-prose') add(kind, true, inProse(language, chunk));
      else if (kind === 'edited') add(kind, true, fence(language, beforeEdits(chunk, foreignLines)));
      else {
        // Mostly used (two thirds or more): the completion became merged code.
        for (let attempt = 0; attempt < 6; attempt += 1) {
          const extra = foreignChunk(Math.max(2, Math.round(chunk.length / 4)));
          if (extra === undefined) continue;
          const usedShare = tokensOf(chunk) / (tokensOf(chunk) + tokensOf(extra));
          if (usedShare >= 0.65 && usedShare <= 0.9) {
            add('partial', true, fence(language, [...chunk, '', ...extra]), usedShare);
            return;
          }
        }
      }
    });
  // A few completions that were mostly thrown away: one short stretch kept out of a long answer.
  for (let index = 0; index < 3; index += 1) {
    const chunk = window(pick(usableRuns.length > 0 ? usableRuns : source.runs).lines, 3, tDefault);
    const extra = foreignChunk(30);
    if (chunk === undefined || extra === undefined) continue;
    const usedShare = tokensOf(chunk) / (tokensOf(chunk) + tokensOf(extra));
    if (usedShare <= 0.3)
      add('mostly-discarded', false, fence(language, [...extra.slice(0, 10), ...chunk, ...extra.slice(10)]), usedShare);
  }
  // Negatives: the package's own unchanged code, other packages' code, boilerplate, near misses.
  for (let index = 0; index < 8 && source.unchanged.length > 0; index += 1) {
    const chunk = window(pick(source.unchanged), pick(positiveSizes), tDefault);
    if (chunk && sharesNoLine(chunk, source)) add('unchanged-same-package', false, fence(language, chunk));
  }
  for (let index = 0; index < 6; index += 1) {
    const chunk = foreignChunk(pick(positiveSizes));
    if (chunk) add('other-package', false, index % 2 === 0 ? fence(language, chunk) : inProse(language, chunk));
  }
  const templates = language === 'py' ? pyBoilerplate : jsBoilerplate;
  for (let index = 0; index < 3; index += 1) add('boilerplate', false, fence(language, pick(templates)));
  const head = pick(source.heads.filter((lines) => tokensOf(lines) >= tDefault && sharesNoLine(lines, source)));
  if (head) add('boilerplate-imports', false, fence(language, head));
  const shortLines = source.runs
    .flatMap((run) => run.lines)
    .filter((line) => {
      const count = tokensOf([line]);
      return count >= 8 && count < tDefault;
    });
  for (let index = 0; index < 4 && shortLines.length > 0; index += 1) {
    const host = foreignChunk(between(8, 20));
    if (host === undefined) continue;
    const at = between(1, host.length - 1);
    add('near-miss', false, fence(language, [...host.slice(0, at), pick(shortLines), ...host.slice(at)]));
  }
  return cases.filter((entry) => codeTokenCount(entry.completion) > 0 || !entry.merged);
}

// ---------------------------------------------------------------- licences

function copyrightLines(texts: readonly string[]): string[] {
  const lines = texts.flatMap((text) => text.split('\n')).map((line) => line.trim());
  return [
    ...new Set(
      lines.filter((line) => /^copyright\b/i.test(line) && !/copyright (?:notice|owner|holder|license|\[)/i.test(line)),
    ),
  ];
}

function writeLicences(sources: readonly Source[]): void {
  const licenceDir = join(outDir, 'licenses');
  rmSync(licenceDir, { recursive: true, force: true });
  mkdirSync(licenceDir, { recursive: true });
  const rows: string[] = [];
  for (const release of releases) {
    const versions = [...new Set(release.pairs.flat())];
    const root = unpacked(release, versions.at(-1)!);
    const files = licenceFiles(root);
    const shipped = files.map((file) => {
      const name = `${release.name}-${relative(root, file)}`;
      copyFileSync(file, join(licenceDir, name));
      return `[${name}](licenses/${name})`;
    });
    const notices = copyrightLines(files.map((file) => readFileSync(file, 'utf8')));
    const used = sources
      .filter((source) => source.release === release)
      .map((source) => `${source.from} → ${source.to}`);
    rows.push(
      `| ${release.name} | ${release.ecosystem === 'npm' ? 'npm' : 'PyPI sdist'} | ${used.join(', ')} | ${release.license} | ${notices.join('<br>') || 'see licence text'} | ${shipped.join(', ')} |`,
    );
  }
  const text = [
    '# Licences of the labelled set',
    '',
    '`labelled-set.json.gz` holds diffs between consecutive published versions of the packages below, and',
    'excerpts of their source code (some reformatted, renamed or embedded in prose), as test data for the',
    "matcher's precision and recall. Each package's licence text is shipped beside this file as found in",
    'the newest version used, with its copyright notices; the code remains under those licences.',
    'Built by `packages/core/bench/build-labelled-set.ts`.',
    '',
    '| Package | Registry | Versions (from → to) | Licence | Copyright notice | Licence text |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
  writeFileSync(join(outDir, 'LICENSES.md'), text);
}

// ---------------------------------------------------------------- main

function main(): void {
  mkdirSync(outDir, { recursive: true });
  const sources = releases.flatMap((release) => release.pairs.map(([from, to]) => buildSource(release, from, to)));
  const merges: LabelledMerge[] = sources.map((source) => ({
    id: source.id,
    package: source.release.name,
    from: source.from,
    to: source.to,
    language: source.release.language,
    diff: source.diff,
  }));
  const cases = sources.flatMap((source) => buildCases(source, sources));
  const set: LabelledSet = { merges, cases };
  const gzipped = gzipSync(JSON.stringify(set), { level: 9 });
  writeFileSync(join(outDir, 'labelled-set.json.gz'), gzipped);
  writeLicences(sources);
  const counts = new Map<string, number>();
  for (const entry of cases) counts.set(entry.kind, (counts.get(entry.kind) ?? 0) + 1);
  console.log(
    JSON.stringify(
      {
        merges: merges.length,
        diffChars: merges.reduce((sum, merge) => sum + merge.diff.length, 0),
        cases: cases.length,
        byKind: Object.fromEntries(counts),
        gzipBytes: gzipped.length,
      },
      null,
      2,
    ),
  );
}

main();
