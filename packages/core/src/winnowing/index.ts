// Commit linkage's content matching (issue #16): pure functions, no I/O. See tokenize.ts for
// what the normalisation ignores and options.ts for the defaults of k and w.
export {
  codeTextCharsMax,
  identifierSymbol,
  numberSymbol,
  regexSymbol,
  stringSymbol,
  tokenizeCode,
  type CodeToken,
  type CodeTokenKind,
} from './tokenize';
export { isCodeKeyword } from './keywords';
export { kgramHashes } from './hash';
export {
  guaranteeThreshold,
  resolveWinnowingOptions,
  winnowingDefaults,
  winnowingKMax,
  winnowingOptionsSchema,
  winnowingWMax,
  type WinnowingOptions,
} from './options';
export {
  fingerprintLines,
  fingerprintText,
  fingerprintTokens,
  tokenizeLines,
  winnow,
  type CodeLine,
  type Fingerprint,
  type FingerprintedCode,
} from './winnow';
export {
  bareCodeLineShareMin,
  codeTokenCount,
  extractCodeBlocks,
  looksLikeCode,
  textLines,
  type CodeBlock,
} from './extract-code-blocks';
export { addedLinesByPath, extractAddedLines, type AddedLine } from './extract-added-lines';
export {
  allWithoutIgnored,
  containment,
  fingerprintHashes,
  frequencyDocumentsMax,
  frequentFingerprints,
  matchedLines,
  matchedTokenCount,
  matchingFingerprints,
  withoutIgnored,
  type Containment,
} from './score';
export { completionTokensInRuns, mergedLinesOfRuns, runSeedsPerHashMax, sharedRuns, type SharedRun } from './runs';
export {
  fingerprintCompletion,
  fingerprintDiff,
  matchedMergedLines,
  mergedLinesSharedWith,
  type FingerprintedFile,
} from './sources';
export { creditLinesToEarliest, creditRequestsMax, mergedLineKey, type RequestLineMatches } from './credit';
