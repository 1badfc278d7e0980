/**
 * Output vocabulary: each entry is one generated token. Precomputed once so the hot path only indexes
 * an array. Words carry their leading space, as BPE tokens do.
 */
const words =
  'the of and to in is that for it as with was on be by this are from at or an have not but which ' +
  'model token value compute budget team request output latency cluster ledger carbon score gateway ' +
  'queue priority schedule metric stream result answer code commit review test build deploy service ' +
  'data system user energy cost refund reward policy plan report signal window batch cache memory ' +
  'prompt context length limit rate error retry time first second third every each more less high ' +
  'low fast slow small large new old good better best simple clear useful proof green safe fair';

export const outputVocab: readonly string[] = Object.freeze([
  ...words.split(' ').map((word) => ` ${word}`),
  '.',
  ',',
  ';',
  '\n',
]);
