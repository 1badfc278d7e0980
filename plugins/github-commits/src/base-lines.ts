import type { CodeLine } from '@tokenwise/core';

const hunkHeader = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,(\d+))? @@/;

/**
 * The base side of a GitHub `patch`: its context and removed lines, numbered as in the base file.
 * They were in the base branch before the pull request, so code matching them was not written
 * from a completion (a moved block, a licence header, the lines around an edit). Counted like
 * `extractAddedLines` counts the other side: hunk line counts end each hunk.
 */
export function extractBaseLines(patch: string): CodeLine[] {
  const lines: CodeLine[] = [];
  let oldLeft = 0;
  let newLeft = 0;
  let oldLine = 0;
  for (const text of patch.split(/\r?\n/)) {
    if (oldLeft > 0 || newLeft > 0) {
      const marker = text.charAt(0);
      if (marker === '\\') continue;
      if (marker === '+') {
        newLeft -= 1;
        continue;
      }
      lines.push({ line: oldLine, text: text.slice(1) });
      oldLine += 1;
      oldLeft -= 1;
      if (marker !== '-') newLeft -= 1;
      continue;
    }
    const hunk = hunkHeader.exec(text);
    if (hunk === null) continue;
    oldLine = Number(hunk[1]);
    oldLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
    newLeft = hunk[3] === undefined ? 1 : Number(hunk[3]);
  }
  return lines;
}
