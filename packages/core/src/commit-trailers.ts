import { parseSessionTag } from './request-tags';

/**
 * What a commit message says about where its code came from, read from its trailers (the last
 * paragraph's `Key: value` lines, as `git interpret-trailers` reads them; keys case-insensitive).
 *
 * - `Tokenwise-Request: req_<24 hex>`: this commit holds the output of that request (strongest).
 * - `Tokenwise-Session: <sessionId>`: an IDE agent's session, as in `x-tokenwise-session`.
 * - `Co-authored-by:` lines of AI assistants (GitHub Copilot, Claude Code, Aider): supporting
 *   evidence only, never enough alone; they name no request.
 *
 * A message is the committer's word: callers still check that the request's user is the commit's
 * author, and that the request came before the commit.
 */
export interface CommitProvenance {
  requestIds: string[];
  sessionIds: string[];
  /** Which assistants co-authored it: 'copilot' | 'claude' | 'aider'. */
  aiCoauthors: AiCoauthor[];
}

export type AiCoauthor = 'copilot' | 'claude' | 'aider';

const requestIdPattern = /^req_[0-9a-f]{24}$/;
const trailerLine = /^([A-Za-z0-9][A-Za-z0-9-]*)\s*:\s*(.*?)\s*$/;
/** Provenance trailers read per message, at most: a message cannot make a settlement look for thousands of ids. */
export const provenanceIdsMax = 32;

/** Co-author identities the assistants write, by the address (or name) they sign with. */
const aiCoauthorPatterns: [AiCoauthor, RegExp][] = [
  ['copilot', /<(?:\d+\+)?copilot@users\.noreply\.github\.com>/i],
  ['claude', /<noreply@anthropic\.com>/i],
  ['aider', /<noreply@aider\.chat>|^aider\b/i],
];

/** The trailer block: the last paragraph, when every line of it is a trailer (or a continuation). */
function trailerLines(message: string): string[] {
  const paragraphs = message
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((paragraph) => paragraph.trim())
    .filter((paragraph) => paragraph.length > 0);
  // The subject alone is never a trailer block.
  if (paragraphs.length < 2) return [];
  const lines = (paragraphs[paragraphs.length - 1] as string).split('\n');
  const trailers: string[] = [];
  for (const line of lines) {
    if (/^\s/.test(line) && trailers.length > 0) {
      trailers[trailers.length - 1] += ` ${line.trim()}`;
      continue;
    }
    if (!trailerLine.test(line)) return [];
    trailers.push(line);
  }
  return trailers;
}

/** Reads a commit message's provenance trailers; malformed ids are ignored, each id kept once. */
export function commitProvenance(message: string): CommitProvenance {
  const requestIds = new Set<string>();
  const sessionIds = new Set<string>();
  const aiCoauthors = new Set<AiCoauthor>();
  for (const line of trailerLines(message)) {
    const [, rawKey, value] = trailerLine.exec(line) as unknown as [string, string, string];
    const key = rawKey.toLowerCase();
    if (key === 'tokenwise-request' && requestIdPattern.test(value) && requestIds.size < provenanceIdsMax)
      requestIds.add(value);
    else if (key === 'tokenwise-session' && parseSessionTag(value).ok && sessionIds.size < provenanceIdsMax)
      sessionIds.add(value);
    else if (key === 'co-authored-by')
      for (const [assistant, pattern] of aiCoauthorPatterns) if (pattern.test(value)) aiCoauthors.add(assistant);
  }
  return { requestIds: [...requestIds], sessionIds: [...sessionIds], aiCoauthors: [...aiCoauthors] };
}
