import { parseSemVer } from './semver';

/**
 * The plugin contract's version. Major: a breaking change of ScoreInput, ScoreResult or the context.
 * Minor: additions a plugin may rely on (so a plugin built for 1.3 cannot run on a 1.2 host).
 */
export const SDK_VERSION = '1.2.0';

/** Why a plugin built against `pluginSdkVersion` cannot run on this SDK, or undefined when it can. */
export function sdkIncompatibility(pluginSdkVersion: string, hostSdkVersion: string = SDK_VERSION): string | undefined {
  const plugin = parseSemVer(pluginSdkVersion);
  const host = parseSemVer(hostSdkVersion);
  if (plugin === undefined) return `sdkVersion "${pluginSdkVersion}" is not a semantic version`;
  if (host === undefined) return `host SDK version "${hostSdkVersion}" is not a semantic version`;
  if (plugin.major !== host.major) {
    return `built for plugin SDK ${pluginSdkVersion}, but this host runs ${hostSdkVersion} (major versions differ)`;
  }
  if (plugin.minor > host.minor) {
    return `built for plugin SDK ${pluginSdkVersion}, newer than this host's ${hostSdkVersion}; upgrade the host`;
  }
  return undefined;
}

/** True when a plugin built against its `sdkVersion` can run on this SDK: same major, minor not newer. */
export function isCompatibleSdk(
  plugin: { readonly sdkVersion: string },
  hostSdkVersion: string = SDK_VERSION,
): boolean {
  return sdkIncompatibility(plugin.sdkVersion, hostSdkVersion) === undefined;
}
