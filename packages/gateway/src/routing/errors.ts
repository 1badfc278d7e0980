import type { NoHealthyReplicaError, QueueFullError, QueueTimeoutError, UnknownModelError } from '@tokenwise/core';

// The routing layer's refusals are domain errors, defined with the others in core.
export { NoHealthyReplicaError, QueueFullError, QueueTimeoutError, UnknownModelError } from '@tokenwise/core';

/** Every error code the routing layer throws, for exhaustive mapping to HTTP statuses. */
export type RoutingErrorCode =
  QueueFullError['code'] | QueueTimeoutError['code'] | NoHealthyReplicaError['code'] | UnknownModelError['code'];
