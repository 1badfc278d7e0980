import { describe, expect, it } from 'vitest';
import { goModuleSumMismatch, goSumLines } from './go-module-sum';
import { goEnvForPinnedBuild } from './install-with-go';
import { temporalCliGoModule, temporalCliGoPin } from './pinned-binaries';

/** What `go mod download -json github.com/temporalio/cli@v1.5.1` printed with GOSUMDB=sum.golang.org. */
const genuineReport = {
  Path: 'github.com/temporalio/cli',
  Version: 'v1.5.1',
  Info: '/root/go/pkg/mod/cache/download/github.com/temporalio/cli/@v/v1.5.1.info',
  GoMod: '/root/go/pkg/mod/cache/download/github.com/temporalio/cli/@v/v1.5.1.mod',
  Zip: '/root/go/pkg/mod/cache/download/github.com/temporalio/cli/@v/v1.5.1.zip',
  Dir: '/root/go/pkg/mod/github.com/temporalio/cli@v1.5.1',
  Sum: 'h1:0RZMk14BWxz44Xg6ciDQvpfAMffoG3J7/K03ql80teY=',
  GoModSum: 'h1:8lfULNGZ1Y2sobXSpY+2qQ4vgR4hYLuTLpqnCIl9Au4=',
};
const report = (changes: Record<string, unknown>) => JSON.stringify({ ...genuineReport, ...changes }, null, '\t');

describe('the Go fallback build of the Temporal CLI', () => {
  it('pins github.com/temporalio/cli v1.5.1 by the go.sum lines the checksum database holds', () => {
    expect(goSumLines(temporalCliGoPin)).toBe(
      'github.com/temporalio/cli v1.5.1 h1:0RZMk14BWxz44Xg6ciDQvpfAMffoG3J7/K03ql80teY=\n' +
        'github.com/temporalio/cli v1.5.1/go.mod h1:8lfULNGZ1Y2sobXSpY+2qQ4vgR4hYLuTLpqnCIl9Au4=\n',
    );
    expect(temporalCliGoModule).toBe('github.com/temporalio/cli/cmd/temporal@v1.5.1');
  });

  it('accepts the module go mod download reports with the pinned sums', () => {
    expect(goModuleSumMismatch(report({}), temporalCliGoPin)).toBeUndefined();
  });

  it('refuses a module zip whose sum differs, naming both sums and the pinned go.sum line', () => {
    const reason = goModuleSumMismatch(
      report({ Sum: 'h1:AAAAk14BWxz44Xg6ciDQvpfAMffoG3J7/K03ql80teY=' }),
      temporalCliGoPin,
    );
    expect(reason).toContain('h1:AAAAk14BWxz44Xg6ciDQvpfAMffoG3J7/K03ql80teY=');
    expect(reason).toContain('github.com/temporalio/cli v1.5.1 h1:0RZMk14BWxz44Xg6ciDQvpfAMffoG3J7/K03ql80teY=');
  });

  it('refuses a go.mod whose sum differs', () => {
    expect(
      goModuleSumMismatch(report({ GoModSum: 'h1:8lfULNGZ1Y2sobXSpY+2qQ4vgR4hYLuTLpqnCIl9Au5=' }), temporalCliGoPin),
    ).toMatch(/go\.mod was downloaded with sum/);
  });

  it('refuses another module or version, a report without sums, an error report and output that is not JSON', () => {
    expect(goModuleSumMismatch(report({ Version: 'v1.5.2' }), temporalCliGoPin)).toMatch(
      /not the pinned github.com\/temporalio\/cli@v1.5.1/,
    );
    expect(goModuleSumMismatch(report({ Path: 'github.com/temporal1o/cli' }), temporalCliGoPin)).toMatch(
      /not the pinned/,
    );
    expect(goModuleSumMismatch(report({ Sum: undefined }), temporalCliGoPin)).toMatch(/downloaded with sum undefined/);
    expect(goModuleSumMismatch(report({ Error: 'verifying module: checksum mismatch' }), temporalCliGoPin)).toMatch(
      /checksum mismatch/,
    );
    expect(goModuleSumMismatch('go: downloading github.com/temporalio/cli v1.5.1', temporalCliGoPin)).toMatch(
      /no JSON report/,
    );
    expect(goModuleSumMismatch('null', temporalCliGoPin)).toMatch(/no JSON object/);
  });

  it('builds with the checksum database on, whatever the caller set to skip it', () => {
    const env = goEnvForPinnedBuild(
      {
        PATH: '/usr/bin',
        GOSUMDB: 'off',
        GONOSUMDB: 'github.com/temporalio',
        GOPRIVATE: '*',
        GOINSECURE: '*',
        GOFLAGS: '-insecure',
        GOWORK: '/x/go.work',
        GOPROXY: 'https://proxy.corp',
      },
      { gobin: '/c/bin', gomodcache: '/c/mod' },
    );
    expect(env).toMatchObject({
      PATH: '/usr/bin',
      GOPROXY: 'https://proxy.corp',
      GOSUMDB: 'sum.golang.org',
      GOENV: 'off',
      GOWORK: 'off',
      GOFLAGS: '-mod=mod -modcacherw',
      GOBIN: '/c/bin',
      GOMODCACHE: '/c/mod',
    });
    for (const name of ['GONOSUMDB', 'GONOSUMCHECK', 'GOPRIVATE', 'GOINSECURE']) expect(env).not.toHaveProperty(name);
    // A checksum database mirror the caller chose stays: the pinned sums are checked on top of it.
    expect(
      goEnvForPinnedBuild({ GOSUMDB: 'sum.golang.org https://sum.corp' }, { gobin: '/b', gomodcache: '/m' }).GOSUMDB,
    ).toBe('sum.golang.org https://sum.corp');
  });
});
