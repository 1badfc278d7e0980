import type { Db } from '@tokenwise/db';
import { ledgerAccounts } from '@tokenwise/db/schema';
import { and, asc, eq, gt, isNull } from 'drizzle-orm';
import { accountMac } from './account-mac';
import { accountColumns, accountPurposes } from './accounts';
import type { Account } from './types';

/** Accounts read per query while checking or sealing. */
const accountPageRows = 5_000;

const sealedColumns = { ...accountColumns, accountMac: ledgerAccounts.accountMac };

type SealedAccount = Account & { accountMac: string | null };

function describeAccount(account: Account): string {
  return `${account.id} (${account.ownerType}:${account.ownerId} ${account.purpose} in ${account.currency}, org ${account.orgId ?? 'none'})`;
}

/** What the account's flags should be for its purpose, when they are not; undefined when they agree. */
function flagsMismatch(account: Account): string | undefined {
  const expected = (
    accountPurposes as Record<string, { debitsMustNotExceedCredits: boolean; balanceDerived: boolean }>
  )[account.purpose];
  if (expected === undefined) return `its purpose "${account.purpose}" is not one the ledger opens`;
  const wrong = (['debitsMustNotExceedCredits', 'balanceDerived'] as const).filter(
    (flag) => account[flag] !== expected[flag],
  );
  if (wrong.length === 0) return undefined;
  return `its flags were changed (${wrong.map((flag) => `${flag} is ${account[flag]}, a ${account.purpose} account has ${expected[flag]}`).join('; ')})`;
}

async function* accountPages(db: Db, onlyUnsealed: boolean): AsyncGenerator<SealedAccount[]> {
  let afterId = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const page = await db
      .select(sealedColumns)
      .from(ledgerAccounts)
      .where(
        onlyUnsealed
          ? and(gt(ledgerAccounts.id, afterId), isNull(ledgerAccounts.accountMac))
          : gt(ledgerAccounts.id, afterId),
      )
      .orderBy(asc(ledgerAccounts.id))
      .limit(accountPageRows);
    if (page.length > 0) yield page;
    if (page.length < accountPageRows) return;
    afterId = (page[page.length - 1] as SealedAccount).id;
  }
}

/**
 * Checks every account row against its MAC. Names each account whose owner, org, currency, purpose
 * or flags changed since it was opened, and each account that carries no MAC at all (at most `problemsMax`).
 */
export async function accountSealProblems(db: Db, hmacKey: Buffer, problemsMax: number): Promise<string[]> {
  const problems: string[] = [];
  for await (const page of accountPages(db, false)) {
    for (const account of page) {
      if (problems.length >= problemsMax) return problems;
      if (account.accountMac === null) {
        problems.push(
          `unsealed: account ${describeAccount(account)} carries no MAC, so nothing protects its owner and flags: if it was opened before account MACs, seal it once with \`tokenwise ledger seal-accounts\`; otherwise its MAC was removed`,
        );
      } else if (account.accountMac !== accountMac(hmacKey, account)) {
        const what =
          flagsMismatch(account) ??
          'its owner, org, currency or purpose was changed, or its MAC was copied from another account';
        problems.push(`account ${describeAccount(account)} no longer matches its MAC: ${what}`);
      }
    }
  }
  return problems;
}

export interface SealAccountsResult {
  /** Accounts sealed now, as they stood. */
  sealed: string[];
  /** Accounts left unsealed because their flags disagree with their purpose: tampered, not legacy. */
  refused: string[];
}

/**
 * Seals accounts opened before account MACs existed, once, right after the upgrade: it trusts the
 * rows as they stand, so it lists every account it seals, and it refuses any whose flags disagree
 * with its purpose (no version of the ledger ever opened such an account). Accounts opened since
 * are sealed by `ensureAccount` as they are inserted, so later runs find nothing to do, and an
 * unsealed account verify reports after that is a removed MAC, not a legacy row.
 */
export async function sealAccounts(db: Db, hmacKey: Buffer): Promise<SealAccountsResult> {
  const result: SealAccountsResult = { sealed: [], refused: [] };
  for await (const page of accountPages(db, true)) {
    for (const account of page) {
      const mismatch = flagsMismatch(account);
      if (mismatch !== undefined) {
        result.refused.push(`${describeAccount(account)}: ${mismatch}`);
        continue;
      }
      const updated = await db
        .update(ledgerAccounts)
        .set({ accountMac: accountMac(hmacKey, account) })
        .where(and(eq(ledgerAccounts.id, account.id), isNull(ledgerAccounts.accountMac)))
        .returning({ id: ledgerAccounts.id });
      if (updated.length > 0) result.sealed.push(describeAccount(account));
    }
  }
  return result;
}
