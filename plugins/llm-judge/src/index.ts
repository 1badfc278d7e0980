import { llmJudge } from './llm-judge';

export default llmJudge;
export { llmJudge, llmJudgeVersion } from './llm-judge';
export {
  defaultPromptTemplate,
  evalTypes,
  llmJudgeConfigSchema,
  normalisedChoiceScores,
  spotlightModes,
  type EvalType,
  type LlmJudgeConfig,
  type LlmJudgeConfigInput,
  type SpotlightMode,
} from './config';
export { INVALID_CHOICE, parseChoiceJson, parseChoiceText } from './parse-choice';
export { answerPrompts, buildJudgeMessages, verdictResponseFormat } from './judge-prompt';
export { createSpotlight, datamark, datamarkCharacter, type Spotlight } from './spotlight';
