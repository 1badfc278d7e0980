import {
  estimateAdmission,
  InsufficientFundsError,
  type AdmissionEstimate,
  type CarbonModelProfile,
} from '@tokenwise/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { droppedFieldsHeader, droppedFieldsHeaderName, namedDroppedFields, shapeBody } from './body-fields';
import { admit, carbonProfileOf, co2eBoundFor, type Admission } from './metering';
import { GatewayError } from './openai-error';
import type { ClusterInfo, Principal } from './ports';
import type { InferenceDeps, InferenceKind } from './relay-common';
import { readJsonBody, tagsOf, tierOf, validateInferenceBody } from './request-body';
import { holdTimeoutSeconds } from './settings';

/** A request read, bounded and priced, with its hold on the way (`admitting`). */
export interface Admitting {
  model: string;
  stream: boolean;
  body: Record<string, unknown>;
  tier: Admission['tier'];
  tags: Record<string, string>;
  cluster: ClusterInfo;
  estimate: AdmissionEstimate;
  /** Settles with the admission once the holds are durable, or with why they were refused. */
  admitting: Promise<Admission>;
}

/**
 * Admission: reads the body (the endpoint's fields only), checks the model, estimates a proven
 * bound of the cost from exactly what the model server reads, and starts placing the holds.
 * `phase` records how long each step took.
 */
export async function startAdmission(
  deps: InferenceDeps,
  kind: InferenceKind,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  principal: Principal,
  phase: (name: string) => void,
): Promise<Admitting> {
  const { model, stream, body } = readInferenceBody(
    deps,
    kind,
    await readJsonBody(req, deps.settings.bodyBytesMax),
    res,
  );
  const tier = tierOf(req, body);
  const tags = tagsOf(req);
  if (principal.allowedModels !== null && !principal.allowedModels.includes(model)) throw modelNotFound(model);
  const cluster = deps.router.clusterFor(model);
  if (cluster === undefined) throw modelNotFound(model);
  const priceList = await deps.priceLists.current(principal.orgId);
  if (priceList.list.models[model] === undefined)
    throw new GatewayError(
      404,
      `Model "${model}" is served but has no price in price list ${priceList.version}; an admin must price it.`,
      'invalid_request_error',
      'model_not_priced',
      'model',
    );
  const profile: CarbonModelProfile = carbonProfileOf(model, priceList, deps.settings.modelProfiles);
  const estimate = estimateAdmission({
    priceList: priceList.list,
    modelId: model,
    tier,
    endpoint: kind,
    body,
    policy: {
      completionTokensCap: deps.settings.completionTokensCap,
      enforceCompletionTokensCap: deps.settings.enforceCompletionTokensCap,
    },
    co2eMicrogramsForOutputTokens:
      priceList.list.carbonPrice === undefined ? undefined : co2eBoundFor(profile, cluster),
  });
  deps.limiter?.checkRequest(principal, estimate.promptTokensBound + estimate.completionTokensBound);
  phase('estimate');
  const versions = (await deps.settlementVersionsOf?.(principal)) ?? {
    policyVersion: null,
    scoringConfigVersion: null,
  };
  // Carbon caps: held for the dirtiest cluster the request may be routed or failed over to.
  const carbonPlan = await deps.carbonBudgets?.plan(principal, () =>
    carbonBoundOver(deps.router.clustersFor(model), cluster, profile, estimate.completionTokensBound),
  );
  const admitting = admit(
    {
      ledger: deps.ledger,
      accounts: deps.accounts,
      holdTimeoutSeconds: holdTimeoutSeconds(deps.settings),
      carbon: deps.carbonBudgets,
    },
    {
      requestId,
      principal,
      model,
      tier,
      priceList,
      estimate,
      system: principal.userId === null,
      ...versions,
      carbonPlan,
    },
  ).catch((error: unknown) => {
    if (
      error instanceof InsufficientFundsError ||
      (error instanceof GatewayError && error.code === 'carbon_cap_reached')
    )
      deps.earlyForwarding.refused(principal);
    throw error;
  });
  // Whatever happens next, the admission's outcome is awaited before the request ends.
  admitting.catch(() => undefined);
  return { model, stream, body, tier, tags, cluster, estimate, admitting };
}

/** The largest carbon bound of the request over every cluster it may run on. */
function carbonBoundOver(
  clusters: readonly ClusterInfo[],
  admitted: ClusterInfo,
  profile: CarbonModelProfile,
  completionTokensBound: number,
): bigint {
  let bound = 0n;
  for (const candidate of clusters.length > 0 ? clusters : [admitted]) {
    const value = co2eBoundFor(profile, candidate)(completionTokensBound);
    if (value > bound) bound = value;
  }
  return bound;
}

/** The body as forwarded: the endpoint's fields only (the dropped ones named in a header), validated. */
function readInferenceBody(
  deps: InferenceDeps,
  kind: InferenceKind,
  raw: Record<string, unknown>,
  res: ServerResponse,
): { model: string; stream: boolean; body: Record<string, unknown> } {
  const { body, dropped } = shapeBody(kind, raw);
  if (dropped.length > 0) {
    res.setHeader(droppedFieldsHeaderName, droppedFieldsHeader(dropped));
    for (const field of dropped) deps.metrics.countDroppedField(namedDroppedFields.has(field) ? field : 'other');
  }
  const { model, stream } = validateInferenceBody(kind, body);
  return { model, stream, body };
}

function modelNotFound(model: string): GatewayError {
  return new GatewayError(
    404,
    `The model "${model}" does not exist or this key may not use it. GET /v1/models lists the models you can use.`,
    'invalid_request_error',
    'model_not_found',
    'model',
  );
}
