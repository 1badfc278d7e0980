import { sleep } from '@temporalio/workflow';

/** Sleeps on a durable timer for `days`, then returns the amount it was given. Test-only. */
export async function waitDays(days: number, amount: bigint): Promise<bigint> {
  await sleep(`${days} days`);
  return amount + 1n;
}
