import type { CodeLine } from './winnow';

/** A line a diff adds, with its line number in the new file and the new file's path when the diff names it. */
export interface AddedLine extends CodeLine {
  readonly path: string | undefined;
}

const hunkHeader = /^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/**
 * The added lines of a unified diff: a GitHub `patch` field (hunks only; pass the file's path)
 * or a whole `git diff` (file headers name each path). Hunk headers give each added line its
 * new-file number; context lines advance it; removed lines and `\ No newline at end of file` do
 * not. Hunk line counts decide where a hunk ends, so an added line whose text starts with `++`
 * is never mistaken for a `+++` header, and header lines are never taken as added. A diff cut
 * off inside a hunk yields the lines it has.
 */
export function extractAddedLines(diff: string, path?: string): AddedLine[] {
  const added: AddedLine[] = [];
  let currentPath = path;
  let oldLeft = 0;
  let newLeft = 0;
  let newLine = 0;
  for (const text of diff.split(/\r?\n/)) {
    if (oldLeft > 0 || newLeft > 0) {
      const marker = text.charAt(0);
      if (marker === '\\') continue;
      if (marker === '+') {
        added.push({ path: currentPath, line: newLine, text: text.slice(1) });
        newLine += 1;
        newLeft -= 1;
      } else if (marker === '-') {
        oldLeft -= 1;
      } else {
        // A context line; some tools strip the space of an empty one.
        newLine += 1;
        newLeft -= 1;
        oldLeft -= 1;
      }
      continue;
    }
    const hunk = hunkHeader.exec(text);
    if (hunk) {
      oldLeft = hunk[1] === undefined ? 1 : Number(hunk[1]);
      newLine = Number(hunk[2]);
      newLeft = hunk[3] === undefined ? 1 : Number(hunk[3]);
    } else if (text.startsWith('+++ ')) {
      currentPath = newFilePath(text.slice(4));
    } else if (text.startsWith('diff --git ')) {
      currentPath = undefined;
    }
  }
  return added;
}

/** `b/src/a.ts` -> `src/a.ts`; `/dev/null` (a deleted file) -> undefined; a tab-separated timestamp is dropped. */
function newFilePath(header: string): string | undefined {
  const name = header.split('\t')[0]!.trim();
  if (name === '/dev/null') return undefined;
  return name.startsWith('b/') ? name.slice(2) : name;
}

/** Groups added lines by file, in order of first appearance; lines without a path go under `''`. */
export function addedLinesByPath(lines: readonly AddedLine[]): Map<string, CodeLine[]> {
  const byPath = new Map<string, CodeLine[]>();
  for (const { path, line, text } of lines) {
    const group = byPath.get(path ?? '') ?? [];
    if (group.length === 0) byPath.set(path ?? '', group);
    group.push({ line, text });
  }
  return byPath;
}
