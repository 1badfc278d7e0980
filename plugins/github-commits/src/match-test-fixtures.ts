// Test fixtures for matching: code that shares no structure (identifiers and literals are
// normalised away, so only structure tells code apart), and pull requests built around it.
import type { MergedPull, MergedPullCommit, MergedPullFile } from './merged-pull';
import type { PendingRequest } from './match-pull';

export const retryCode = `export async function retryWithBackoff(task, attempts) {
  let delay = 100;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return await task();
    } catch (error) {
      if (attempt === attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
}`;

export const csvCode = `export function parseCsvLine(line) {
  const cells = [];
  let current = '';
  let quoted = false;
  for (const char of line) {
    if (char === '"') quoted = !quoted;
    else if (char === ',' && !quoted) {
      cells.push(current.trim());
      current = '';
    } else current += char;
  }
  cells.push(current.trim());
  return cells;
}`;

export const cacheCode = `class LruCache {
  constructor(limit) { this.limit = limit; this.entries = new Map(); }
  get(key) {
    if (!this.entries.has(key)) return undefined;
    const value = this.entries.get(key);
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }
}`;

/** A completion as a model writes it: prose around a fenced block. */
export function completionOf(...blocks: string[]): string {
  return blocks.map((code) => `Here is the code:\n\n\`\`\`ts\n${code}\n\`\`\`\n`).join('\nAnd also:\n');
}

/** A GitHub `patch` adding `code` as a new file. */
export function addedPatch(code: string): string {
  const lines = code.split('\n');
  return [`@@ -0,0 +1,${lines.length} @@`, ...lines.map((line) => `+${line}`)].join('\n');
}

/** A GitHub `patch` that keeps `context` (already in the base) and adds `added` below it. */
export function patchAfterContext(context: string, added: string): string {
  const old = context.split('\n');
  const fresh = added.split('\n');
  return [
    `@@ -1,${old.length} +1,${old.length + fresh.length} @@`,
    ...old.map((line) => ` ${line}`),
    ...fresh.map((line) => `+${line}`),
  ].join('\n');
}

export function file(path: string, patch: string): MergedPullFile {
  return { path, patch };
}

export function commitBy(authorLogin: string | null, message: string): MergedPullCommit {
  return { sha: 'c'.repeat(40), message, authorLogin };
}

/** A pull request by ada, approved by grace, merged by grace into main on 2026-12-02. */
export function mergedPull(overrides: Partial<MergedPull> = {}): MergedPull {
  return {
    repo: 'acme/payments',
    number: 7,
    url: 'https://github.com/acme/payments/pull/7',
    merged: true,
    mergedAt: '2026-12-02T12:00:00Z',
    baseRef: 'main',
    defaultBranch: 'main',
    intoDefaultBranch: true,
    authorLogin: 'ada',
    mergedByLogin: 'grace',
    approvedByOther: true,
    commits: [commitBy('ada', 'Add retries')],
    files: [],
    skippedFiles: {},
    truncated: false,
    ...overrides,
  };
}

/** A request id in the form the Tokenwise-Request trailer takes. */
export function requestId(n: number): string {
  return `req_${n.toString(16).padStart(24, '0')}`;
}

export function pending(n: number, completion: string, overrides: Partial<PendingRequest> = {}): PendingRequest {
  return {
    requestId: requestId(n),
    createdAt: new Date('2026-12-01T09:00:00Z'),
    userGithubLogin: 'ada',
    completion,
    ...overrides,
  };
}
