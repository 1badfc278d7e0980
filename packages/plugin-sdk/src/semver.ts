/** A parsed semantic version (https://semver.org), enough to compare SDK compatibility. */
export interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly prerelease: string | undefined;
}

// The official semver.org regular expression, without build metadata capture.
const semverPattern =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$/;

/** True for a full semantic version such as 1.2.3 or 1.0.0-rc.1. */
export function isSemVer(text: string): boolean {
  return text.length <= 64 && semverPattern.test(text);
}

/** Parses a semantic version; undefined when the text is not one. */
export function parseSemVer(text: string): SemVer | undefined {
  if (text.length > 64) return undefined;
  const match = semverPattern.exec(text);
  if (match === null) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]), prerelease: match[4] };
}
