import type { AdminCommandSpecs } from './admin-command';

/** `ledger ...`: the journal's tamper evidence. */
export const ledgerCommands: AdminCommandSpecs = {
  'ledger verify': {
    summary:
      'check the journal, accounts and checkpoint against their MACs: names edited, deleted, inserted or truncated rows and a checkpoint that went backwards (exits 1 if any)',
    options: [],
    async run({ ledger }) {
      const report = await ledger.verify();
      const summary = `Checked ${report.transfers} transfers in ${report.batches} batches against the HMAC chain and the exported checkpoint.`;
      if (report.ok) return { text: `${summary}\nThe ledger is intact.`, data: report };
      return {
        text: `${summary}\nTAMPERING OR CORRUPTION FOUND:\n  ${report.problems.join('\n  ')}`,
        data: report,
        exitCode: 1,
      };
    },
  },

  'ledger seal-accounts': {
    summary:
      'once after upgrading: seal accounts opened before account MACs (lists each) and export the chain head as a sealed checkpoint',
    options: [],
    async run({ ledger }) {
      const result = await ledger.sealAccounts();
      const lines = [
        result.sealed.length === 0
          ? 'Every account was sealed already.'
          : `Sealed ${result.sealed.length} account(s) opened before account MACs, as they stand now:\n  ${result.sealed.join('\n  ')}`,
      ];
      if (result.checkpoint?.written === true) lines.push('Exported the chain head as a sealed checkpoint.');
      else if (result.checkpoint !== undefined)
        lines.push(`The checkpoint was left as it is: ${result.checkpoint.reason}.`);
      if (result.refused.length === 0) return { text: lines.join('\n'), data: result };
      lines.push(
        `REFUSED ${result.refused.length} account(s) whose flags disagree with their purpose (no ledger ever opened such an account: tampered, not legacy):\n  ${result.refused.join('\n  ')}`,
      );
      return { text: lines.join('\n'), data: result, exitCode: 1 };
    },
  },
};
