import {
  BinaryPayloadConverter,
  CompositePayloadConverter,
  UndefinedPayloadConverter,
  ValueError,
  type Payload,
  type PayloadConverterWithEncoding,
} from '@temporalio/common';
import { decode, encode } from '@temporalio/common/lib/encoding';
import { parseJson, stringifyJson } from '@tokenwise/core';

/**
 * JSON through the core amount codec, so bigint amounts cross Temporal payloads intact (the
 * default converter throws on bigint). Encoding stays `json/plain`: the Temporal UI still shows
 * payloads, with bigints as {"$bigint":"..."}.
 */
class AmountJsonPayloadConverter implements PayloadConverterWithEncoding {
  readonly encodingType = 'json/plain' as const;

  toPayload(value: unknown): Payload | undefined {
    if (value === undefined) return undefined;
    return { metadata: { encoding: encode(this.encodingType) }, data: encode(stringifyJson(value)) };
  }

  fromPayload<T>(payload: Payload): T {
    if (payload.data === undefined || payload.data === null)
      throw new ValueError('Got a json/plain payload with no data');
    return parseJson(decode(payload.data)) as T;
  }
}

export const payloadConverter = new CompositePayloadConverter(
  new UndefinedPayloadConverter(),
  new BinaryPayloadConverter(),
  new AmountJsonPayloadConverter(),
);
