import { type ScoreInput } from '../score-input';

/** A plausible ScoreInput for tests; override any field, most often `completion`, `tags` and `config`. */
export function makeScoreInput<TConfig = Record<string, never>>(
  overrides: Partial<ScoreInput<TConfig>> = {},
): ScoreInput<TConfig> {
  return {
    requestId: '00000000-0000-4000-8000-000000000001',
    model: 'test-model',
    promptMessages: [{ role: 'user', content: 'What is the capital of France?' }],
    completion: 'The capital of France is Paris.',
    promptTokens: 14,
    completionTokens: 8,
    cost: { minorUnits: 2_200n, currency: 'innovation' },
    userId: '00000000-0000-4000-8000-0000000000a1',
    teamId: '00000000-0000-4000-8000-0000000000b1',
    orgId: '00000000-0000-4000-8000-0000000000c1',
    tags: {},
    createdAt: new Date('2025-01-01T00:00:00Z'),
    config: {} as TConfig,
    externalEvidence: [],
    ...overrides,
  };
}
