import type { PinnedGoModule } from './pinned-binaries';

/** The two go.sum lines that pin a module: its zip and its go.mod. */
export function goSumLines(pin: PinnedGoModule): string {
  return `${pin.module} ${pin.version} ${pin.zipSum}\n${pin.module} ${pin.version}/go.mod ${pin.goModSum}\n`;
}

/** What `go mod download -json` prints for one module (the fields we read). */
interface GoModDownloadReport {
  Path?: unknown;
  Version?: unknown;
  Sum?: unknown;
  GoModSum?: unknown;
  Error?: unknown;
}

/**
 * Checks what `go mod download -json <module>@<version>` reported against the pinned go.sum lines,
 * so nothing is built from a module whose zip or go.mod differs from the pin. Returns a reason to
 * refuse, or undefined when the report matches.
 */
export function goModuleSumMismatch(reportJson: string, pin: PinnedGoModule): string | undefined {
  let report: GoModDownloadReport;
  try {
    report = JSON.parse(reportJson) as GoModDownloadReport;
  } catch {
    return `go mod download printed no JSON report for ${pin.module}@${pin.version}: ${JSON.stringify(reportJson.slice(0, 200))}`;
  }
  if (typeof report !== 'object' || report === null)
    return `go mod download printed no JSON object for ${pin.module}@${pin.version}`;
  if (report.Error !== undefined)
    return `go mod download ${pin.module}@${pin.version} failed: ${String(report.Error).slice(0, 600)}`;
  if (report.Path !== pin.module || report.Version !== pin.version) {
    return `go mod download reported ${String(report.Path)}@${String(report.Version)}, not the pinned ${pin.module}@${pin.version}`;
  }
  const pinned = `The pinned go.sum lines are:\n${goSumLines(pin)}`;
  if (report.Sum !== pin.zipSum)
    return `${pin.module} ${pin.version} was downloaded with sum ${String(report.Sum)}, not the pinned ${pin.zipSum}. ${pinned}`;
  if (report.GoModSum !== pin.goModSum)
    return `${pin.module} ${pin.version}/go.mod was downloaded with sum ${String(report.GoModSum)}, not the pinned ${pin.goModSum}. ${pinned}`;
  return undefined;
}
