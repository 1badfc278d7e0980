import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CarbonReportInput } from './carbon-report';
import type { Context } from './context';
import { invalidFields } from './errors';
import { createCaller } from './router';

/** Where an emission report downloads as a CSV file with a plain authenticated GET. */
export const carbonReportCsvPath = '/carbon/report.csv';

const queryParams = ['from', 'to', 'groupBy'] as const;
/** Longer query strings are refused before parsing: the three parameters fit in far less. */
const queryBytesMax = 512;

/** Whether a request is for the CSV download rather than a tRPC procedure. */
export function isCarbonReportDownload(req: IncomingMessage): boolean {
  const path = (req.url ?? '').split('?')[0];
  return path === carbonReportCsvPath;
}

function sendError(res: ServerResponse, status: number, code: string, message: string, fields: string[] = []) {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify({ error: { code, message, fields } }));
}

/** What a refused call says: each validation issue's message (they name the field), else the error's own. */
function messageOf(error: TRPCError): string {
  const cause = error.cause as { issues?: unknown } | undefined;
  if (Array.isArray(cause?.issues) && cause.issues.length > 0)
    return (cause.issues as { message?: unknown }[]).map((issue) => String(issue.message)).join('; ');
  return error.message;
}

/**
 * `GET /carbon/report.csv?from=2026-12-01&to=2027-01-01&groupBy=team`: `carbon.reportCsv` as a file,
 * authenticated and validated exactly as the procedure is (it is the procedure, called in process).
 */
export function carbonReportDownload(options: { createContext: (opts: { req: IncomingMessage }) => Promise<Context> }) {
  return async function carbonReportDownloadHandler(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendError(res, 405, 'METHOD_NOT_SUPPORTED', `Use GET ${carbonReportCsvPath}?from=...&to=...&groupBy=...`);
    }
    const query = (req.url ?? '').slice(carbonReportCsvPath.length + 1);
    if (Buffer.byteLength(query) > queryBytesMax)
      return sendError(res, 400, 'BAD_REQUEST', `The query string may be at most ${queryBytesMax} bytes.`);
    const params = new URLSearchParams(query);
    const unknown = [...params.keys()].filter((name) => !(queryParams as readonly string[]).includes(name));
    if (unknown.length > 0)
      return sendError(
        res,
        400,
        'BAD_REQUEST',
        `Unknown query parameter ${unknown.join(', ')}: give ${queryParams.join(', ')} only.`,
        unknown,
      );
    try {
      const caller = createCaller(await options.createContext({ req }));
      const input = Object.fromEntries(queryParams.map((name) => [name, params.get(name) ?? undefined]));
      // Unchecked here on purpose: the procedure validates it, with the messages the tRPC call gives.
      const csv = await caller.carbon.reportCsv(input as unknown as CarbonReportInput);
      const filename = `carbon-report-${input.groupBy}-${input.from}-to-${input.to}.csv`;
      res.writeHead(200, {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="${filename}"`,
        'Content-Length': Buffer.byteLength(csv),
        'Cache-Control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : csv);
    } catch (caught) {
      const error =
        caught instanceof TRPCError ? caught : new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: caught });
      const status = getHTTPStatusCodeFromError(error);
      const internal = status >= 500;
      sendError(
        res,
        status,
        error.code,
        internal ? 'Internal server error.' : messageOf(error),
        error.code === 'BAD_REQUEST' ? invalidFields(error.cause) : [],
      );
    }
  };
}
