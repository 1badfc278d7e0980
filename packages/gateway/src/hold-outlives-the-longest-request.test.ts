import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gatewaySettingsSchema, holdTimeoutSeconds } from './settings';

describe('a hold never lapses under a live request', () => {
  it('outlives the deadline plus a stalled client write plus the charge, for any allowed settings', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1_000, max: 3_600_000 }),
        fc.integer({ min: 100, max: 600_000 }),
        (requestTimeoutMs, clientWriteStallMs) => {
          const settings = gatewaySettingsSchema.parse({ requestTimeoutMs, clientWriteStallMs });
          // The longest life of a request: its deadline, then one write waiting for a client that
          // stopped reading, then the charge's commit (bounded well under a minute by the ledger's retries).
          const longestRequestMs = requestTimeoutMs + clientWriteStallMs + 60_000;
          expect(holdTimeoutSeconds(settings) * 1000).toBeGreaterThan(longestRequestMs);
        },
      ),
      { numRuns: 500 },
    );
  });
});
