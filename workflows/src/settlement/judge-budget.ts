import { findOrgSlug, type Db } from '@tokenwise/db';
import { LlmCallError, type LlmClient } from '@tokenwise/plugin-sdk';

/** The gateway's answer when a wallet cannot pay a request's hold. */
const paymentRequiredStatus = 402;

/** Wraps a plugin's LLM client to notice when the gateway refused a call for want of judge budget. */
export function watchJudgeBudget(llm: LlmClient): { llm: LlmClient; exhausted: () => boolean } {
  let refused = false;
  return {
    llm: {
      async chat(request) {
        try {
          return await llm.chat(request);
        } catch (error) {
          if (error instanceof LlmCallError && error.status === paymentRequiredStatus) refused = true;
          throw error;
        }
      },
    },
    exhausted: () => refused,
  };
}

/** What a settlement records when the org's judge wallet could not pay: which org, and how its admin raises it. */
export async function judgeBudgetExhaustedReason(db: Db, orgId: string): Promise<string> {
  const name = (await findOrgSlug(db, { orgId })) ?? orgId;
  return `judge budget of org ${name} is exhausted; an admin can raise it with grants.setJudgeBudget (tokenwise judge-budget set --org ${name} --amount N) or top it up now with grants.fundJudgeWallet`;
}
