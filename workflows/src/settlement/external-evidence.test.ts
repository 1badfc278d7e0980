import { describe, expect, it } from 'vitest';
import {
  EvidenceBook,
  externalEvidenceEntriesMax,
  externalEvidencePayloadBytesMax,
  externalEvidencePerPluginMax,
  externalEvidenceProblem,
  utf8ByteLength,
  type ExternalEvidence,
} from './external-evidence';

const at = '2026-01-01T00:00:00.000Z';
const evidence = (overrides: Partial<ExternalEvidence> = {}): ExternalEvidence => ({
  pluginId: 'ab',
  evidenceId: 'e1',
  payload: { winner: 'b' },
  source: 'ab-platform',
  observedAt: at,
  ...overrides,
});

describe('external evidence checks', () => {
  it('accepts small JSON and names what is wrong otherwise', () => {
    expect(externalEvidenceProblem(evidence())).toBeUndefined();
    expect(externalEvidenceProblem(evidence({ payload: null }))).toBeUndefined();
    expect(externalEvidenceProblem('nope')).toMatch(/must be an object/);
    expect(externalEvidenceProblem(evidence({ evidenceId: '' }))).toMatch(/evidenceId must be a non-empty string/);
    expect(externalEvidenceProblem(evidence({ pluginId: 'x'.repeat(129) }))).toMatch(/pluginId must be at most 128/);
    expect(externalEvidenceProblem(evidence({ observedAt: 'yesterday' }))).toMatch(/observedAt/);
    expect(externalEvidenceProblem({ ...evidence(), payload: undefined })).toMatch(/payload is required/);
    expect(externalEvidenceProblem({ ...evidence(), payload: 1n })).toMatch(/plain JSON/);
  });

  it('caps the payload at its UTF-8 JSON size', () => {
    const fits = 'a'.repeat(externalEvidencePayloadBytesMax - 2);
    expect(externalEvidenceProblem(evidence({ payload: fits }))).toBeUndefined();
    expect(externalEvidenceProblem(evidence({ payload: `${fits}a` }))).toMatch(/4097 bytes of JSON, more than 4096/);
    // Multi-byte characters count as bytes, not characters.
    expect(externalEvidenceProblem(evidence({ payload: 'é'.repeat(2_100) }))).toMatch(/more than 4096/);
    expect(utf8ByteLength('aé€😀')).toBe(new TextEncoder().encode('aé€😀').length);
  });
});

describe('EvidenceBook', () => {
  it('holds evidence that arrives before the plugins are known, then accepts it', () => {
    const book = new EvidenceBook();
    book.deliver(evidence(), at);
    expect(book.state.received).toEqual([]);
    book.open(['ab', 'judge']);
    expect(book.forPlugin('ab')).toEqual([evidence()]);
    expect(book.state.received[0]).toMatchObject({ receivedAt: at });
    expect(book.countFor('judge')).toBe(0);
  });

  it('counts a redelivery once, and records an unknown plugin, a finished one and a bad shape as rejected', () => {
    const book = new EvidenceBook();
    book.open(['ab', 'judge']);
    book.deliver(evidence(), at);
    book.deliver(evidence({ payload: { winner: 'a' } }), at);
    book.deliver(evidence({ evidenceId: 'e2', pluginId: 'nobody' }), at);
    book.finish('judge', 'scored');
    book.deliver(evidence({ evidenceId: 'e3', pluginId: 'judge' }), at);
    book.deliver({ evidenceId: 'e4' }, at);
    book.deliver(evidence({ evidenceId: 'e4' }), at);
    expect(book.forPlugin('ab')).toEqual([evidence(), evidence({ evidenceId: 'e4' })]);
    expect(book.state.duplicatesIgnored).toBe(1);
    expect(book.state.rejected).toEqual([
      expect.objectContaining({
        pluginId: 'nobody',
        evidenceId: 'e2',
        reason: 'no plugin "nobody" in this settlement (its plugins: ab, judge)',
      }),
      expect.objectContaining({
        pluginId: 'judge',
        evidenceId: 'e3',
        reason: expect.stringMatching(/already finished \(scored\)/),
      }),
      expect.objectContaining({ pluginId: '', evidenceId: 'e4', reason: expect.stringMatching(/pluginId must be/) }),
    ]);
  });

  it('bounds entries per plugin and per settlement, and rejects everything once closed', () => {
    const book = new EvidenceBook();
    book.open(['ab']);
    for (let index = 0; index < externalEvidenceEntriesMax + 5; index++)
      book.deliver(evidence({ evidenceId: `e${index}` }), at);
    expect(book.countFor('ab')).toBe(externalEvidencePerPluginMax);
    expect(book.state.received.length + book.state.rejected.length).toBe(externalEvidenceEntriesMax);
    expect(book.state.rejected[0]?.reason).toMatch(/already has 8 evidence entries/);
    expect(book.state.droppedOverLimit).toBe(5);

    const closed = new EvidenceBook();
    closed.deliver(evidence(), at);
    closed.close('the settlement was skipped: system usage');
    closed.deliver(evidence({ evidenceId: 'e2' }), at);
    expect(closed.state.received).toEqual([]);
    expect(closed.state.rejected.map((entry) => entry.reason)).toEqual([
      'the settlement was skipped: system usage',
      'the settlement was skipped: system usage',
    ]);
  });
});
