import { amountCodec } from '@tokenwise/core';

/**
 * The core amount codec as the tRPC transformer. tRPC serializes an absent input or output as
 * `undefined`, which the codec (rightly, for nested values) refuses; at the top level it means
 * "nothing" and passes through unchanged.
 */
export const apiTransformer = {
  serialize: (value: unknown) => (value === undefined ? undefined : amountCodec.serialize(value)),
  deserialize: (value: unknown) => (value === undefined ? undefined : amountCodec.deserialize(value)),
};
