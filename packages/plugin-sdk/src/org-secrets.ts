import { ConfigError } from '@tokenwise/core';
import type { PluginSecrets } from './context';

/** Every plugin secret's environment variable starts with this. */
export const secretVariablePrefix = 'TOKENWISE_SECRET_';
/** Between the org and the secret name in an org's own variable: TOKENWISE_SECRET_<ORG>__<NAME>. */
const orgSeparator = '__';
/** Suffix of a deployment-wide secret's allow-list: TOKENWISE_SECRET_<NAME>_ORGS. */
const allowListSuffix = '_ORGS';
/** Longest secret name, in characters. */
export const secretNameCharsMax = 64;
/** Org slugs one allow-list may name, at most (more is a problem, and the rest is ignored). */
export const allowListEntriesMax = 1_000;

/**
 * A secret name: capitals and digits in words joined by single underscores, not ending in _ORGS. No
 * double underscore, so TOKENWISE_SECRET_<ORG>__<NAME> names one org and one secret only (org "a"
 * cannot reach org "a--b"'s TOKEN by asking for "B__TOKEN"), and no name can be read as an allow-list.
 */
export const secretNamePattern = /^(?!.*_ORGS$)[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;
const secretNameRule = `capitals and digits in words joined by single underscores, at most ${secretNameCharsMax} characters, not ending in _ORGS, e.g. GITHUB_TOKEN`;
const orgSlugPattern = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/** Whether `name` may name a secret (see secretNamePattern). */
export function isSecretName(name: string): boolean {
  return name.length <= secretNameCharsMax && secretNamePattern.test(name);
}

/** The org part of its variables: the slug in capitals, dashes as underscores (acme-eng -> ACME_ENG). */
export function orgSecretKey(orgSlug: string): string {
  if (!orgSlugPattern.test(orgSlug)) throw new ConfigError(`"${orgSlug.slice(0, 48)}" is not an org slug.`);
  return orgSlug.toUpperCase().replaceAll('-', '_');
}

/** The variable holding an org's own secret `name`. */
export function orgSecretVariable(orgSlug: string, name: string): string {
  return `${secretVariablePrefix}${orgSecretKey(orgSlug)}${orgSeparator}${name}`;
}

/** Plugin secrets per org, read once from the environment. */
export interface OrgSecrets {
  /** The secrets `orgSlug` may read: its own, and the deployment-wide ones whose allow-list names it. */
  forOrg(orgSlug: string): PluginSecrets;
  /** Names (never values) of the secrets `orgSlug` may read, sorted. */
  namesFor(orgSlug: string): string[];
  /** What in the variables as written shares nothing or is ignored; names variables, never values. */
  readonly problems: readonly string[];
  /** `problems`, plus org variables and allow-list entries that match none of `orgSlugs` (the orgs that exist). */
  problemsWith(orgSlugs: readonly string[]): string[];
}

interface DeploymentSecret {
  value: string | undefined;
  /** Slugs it is shared with, or 'all' for `*`. */
  orgs: ReadonlySet<string> | 'all';
  /** Whether TOKENWISE_SECRET_<NAME>_ORGS is set at all. */
  listed: boolean;
}

/**
 * Reads the plugin secrets of every org from an environment record, once: an org reads
 * TOKENWISE_SECRET_<ORG>__<NAME>, and a deployment-wide TOKENWISE_SECRET_<NAME> only when
 * TOKENWISE_SECRET_<NAME>_ORGS lists its slug (comma-separated) or is `*`. Empty values count as unset.
 */
export function orgSecretsFromEnv(env: Readonly<Record<string, string | undefined>>): OrgSecrets {
  const orgScoped = new Map<string, string>();
  const deployment = new Map<string, DeploymentSecret>();
  const problems: string[] = [];
  const entry = (name: string) => {
    const found = deployment.get(name) ?? { value: undefined, orgs: new Set<string>(), listed: false };
    deployment.set(name, found);
    return found;
  };
  for (const variable of Object.keys(env).sort()) {
    if (!variable.startsWith(secretVariablePrefix)) continue;
    const value = env[variable] ?? '';
    const rest = variable.slice(secretVariablePrefix.length);
    if (rest.includes(orgSeparator)) {
      if (value === '') problems.push(`${variable} is empty: ignored.`);
      else orgScoped.set(variable, value);
      continue;
    }
    const listName = rest.endsWith(allowListSuffix) ? rest.slice(0, -allowListSuffix.length) : undefined;
    if (listName !== undefined && isSecretName(listName)) {
      const parsed = parseAllowList(variable, value);
      problems.push(...parsed.problems);
      Object.assign(entry(listName), { orgs: parsed.orgs, listed: true });
    } else if (!isSecretName(rest)) {
      problems.push(
        `${variable}: "${rest.slice(0, secretNameCharsMax)}" is not a secret name (${secretNameRule}): ignored.`,
      );
    } else if (value === '') {
      problems.push(`${variable} is empty: ignored.`);
    } else {
      entry(rest).value = value;
    }
  }
  for (const [name, secret] of [...deployment].sort(([a], [b]) => a.localeCompare(b))) {
    const variable = `${secretVariablePrefix}${name}`;
    if (secret.value === undefined)
      problems.push(`${variable}${allowListSuffix} is set but ${variable} is not: it shares nothing.`);
    else if (!secret.listed)
      problems.push(
        `${variable} is shared with no org: list org slugs in ${variable}${allowListSuffix} (comma-separated, or * for every org), or set it per org as ${secretVariablePrefix}<ORG>${orgSeparator}${name}.`,
      );
  }

  const sharedWith = (secret: DeploymentSecret, orgSlug: string) =>
    secret.value !== undefined && (secret.orgs === 'all' || secret.orgs.has(orgSlug));
  const namesFor = (orgSlug: string): string[] => {
    const own = `${secretVariablePrefix}${orgSecretKey(orgSlug)}${orgSeparator}`;
    const names = new Set<string>();
    for (const variable of orgScoped.keys()) {
      const name = variable.slice(own.length);
      if (variable.startsWith(own) && isSecretName(name)) names.add(name);
    }
    for (const [name, secret] of deployment) if (sharedWith(secret, orgSlug)) names.add(name);
    return [...names].sort();
  };

  return {
    problems,
    namesFor,
    forOrg(orgSlug) {
      const key = orgSecretKey(orgSlug);
      const variableOf = (name: string) => `${secretVariablePrefix}${key}${orgSeparator}${name}`;
      return {
        get(name) {
          if (!isSecretName(name))
            throw new ConfigError(
              `Secret name "${name.slice(0, secretNameCharsMax)}" is not valid: ${secretNameRule}.`,
              { secret: name.slice(0, secretNameCharsMax) },
            );
          const own = orgScoped.get(variableOf(name));
          if (own !== undefined) return own;
          const shared = deployment.get(name);
          if (shared?.value !== undefined && sharedWith(shared, orgSlug)) return shared.value;
          // The same words whether or not a deployment-wide secret of that name exists: no hint of other orgs' secrets.
          const readable = namesFor(orgSlug);
          throw new ConfigError(
            `Secret "${name}" is not configured for org "${orgSlug}": set ${variableOf(name)}, or share a deployment-wide ${secretVariablePrefix}${name} with it by listing ${orgSlug} in ${secretVariablePrefix}${name}${allowListSuffix} (comma-separated org slugs, or * for every org). Secrets org "${orgSlug}" can read: ${readable.length === 0 ? 'none' : readable.join(', ')}.`,
            { secret: name, org: orgSlug },
          );
        },
      };
    },
    problemsWith(orgSlugs) {
      const known = new Set(orgSlugs);
      const claimed = new Set<string>();
      for (const slug of known) for (const name of namesFor(slug)) claimed.add(orgSecretVariable(slug, name));
      const found = [...problems];
      for (const variable of orgScoped.keys())
        if (!claimed.has(variable))
          found.push(
            `${variable} is read by no org: the part before ${orgSeparator} must be an existing org's slug in capitals with dashes as _, and the name after it a secret name (${secretNameRule}).`,
          );
      for (const [name, secret] of [...deployment].sort(([a], [b]) => a.localeCompare(b)))
        if (secret.orgs !== 'all')
          for (const slug of [...secret.orgs].sort())
            if (!known.has(slug))
              found.push(`${secretVariablePrefix}${name}${allowListSuffix} lists "${slug}", which is no org's slug.`);
      return found;
    },
  };
}

/** An allow-list: `*`, or org slugs separated by commas (spaces around them allowed); anything else is a problem and shares nothing. */
function parseAllowList(variable: string, value: string): { orgs: ReadonlySet<string> | 'all'; problems: string[] } {
  if (value.trim() === '*') return { orgs: 'all', problems: [] };
  const entries = value.split(',').map((part) => part.trim());
  const problems: string[] = [];
  const orgs = new Set<string>();
  if (entries.every((part) => part === '')) {
    problems.push(`${variable} is empty: the secret is shared with no org.`);
    return { orgs, problems };
  }
  if (entries.length > allowListEntriesMax)
    problems.push(`${variable} lists ${entries.length} entries: only the first ${allowListEntriesMax} are read.`);
  for (const [index, part] of entries.slice(0, allowListEntriesMax).entries()) {
    if (part === '') continue;
    if (part === '*')
      problems.push(`${variable}: entry ${index + 1} is *, which shares with every org only alone: ignored.`);
    else if (part.length > 48 || !orgSlugPattern.test(part))
      // The entry itself is not echoed: it may be a value pasted into the wrong variable.
      problems.push(
        `${variable}: entry ${index + 1} is not an org slug (lowercase letters, digits and dashes, e.g. acme-eng): ignored.`,
      );
    else orgs.add(part);
  }
  return { orgs, problems };
}
