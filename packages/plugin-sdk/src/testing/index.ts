export {
  createTestContext,
  testNowDefault,
  type LogEntry,
  type TestContext,
  type TestContextOptions,
} from './test-context';
export { makeScoreInput } from './make-score-input';
export { scriptedLlm, type ScriptedAnswer, type ScriptedLlm, type ScriptedResponder } from './scripted-llm';
