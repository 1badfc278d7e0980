import { describe, expect, it } from 'vitest';
import { parseSemVer } from './semver';
import { SDK_VERSION, isCompatibleSdk, sdkIncompatibility } from './version';

describe('SDK compatibility', () => {
  it('accepts the same version and older minors of the same major', () => {
    expect(isCompatibleSdk({ sdkVersion: SDK_VERSION })).toBe(true);
    expect(isCompatibleSdk({ sdkVersion: '1.0.5' }, '1.2.0')).toBe(true);
    expect(isCompatibleSdk({ sdkVersion: '1.1.0' }, '1.2.0')).toBe(true);
  });

  it('refuses another major and a newer minor, saying which', () => {
    expect(sdkIncompatibility('2.0.0', '1.4.0')).toMatch(/major versions differ/);
    expect(sdkIncompatibility('0.9.0', '1.4.0')).toMatch(/major versions differ/);
    expect(sdkIncompatibility('1.5.0', '1.4.0')).toMatch(/newer than this host's 1\.4\.0/);
    expect(sdkIncompatibility('banana')).toMatch(/not a semantic version/);
  });

  it('parses semantic versions, prerelease included', () => {
    expect(parseSemVer('1.2.3-rc.1+build.5')).toEqual({ major: 1, minor: 2, patch: 3, prerelease: 'rc.1' });
    expect(parseSemVer('01.2.3')).toBeUndefined();
    expect(parseSemVer('1.2')).toBeUndefined();
  });
});
