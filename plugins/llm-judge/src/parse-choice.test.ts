import { describe, expect, it } from 'vitest';
import { INVALID_CHOICE, parseChoiceJson, parseChoiceText } from './parse-choice';

const yn = ['Y', 'N'];

describe('parseChoiceText (openai/evals get_choice, starts_or_endswith)', () => {
  it('classify reads the first line first', () => {
    expect(parseChoiceText('Y\nbecause it is right\nN', 'classify', yn)).toBe('Y');
  });

  it('cot_classify reads the last line first', () => {
    expect(parseChoiceText('Let us think step by step.\nThe capital is Paris.\nN\nY', 'cot_classify', yn)).toBe('Y');
  });

  it('cot_classify falls back towards the first line when later lines name no choice', () => {
    expect(parseChoiceText('Y\nThe submission is right.\n\n   \n...', 'cot_classify', yn)).toBe('Y');
  });

  it('strips punctuation and surrounding space from a line before matching', () => {
    expect(parseChoiceText('Reasoning...\n  "Y".  ', 'cot_classify', yn)).toBe('Y');
    expect(parseChoiceText('(B)', 'classify', ['A', 'B', 'C'])).toBe('B');
  });

  it('matches a line that starts or ends with a choice, trying choices in configured order', () => {
    expect(parseChoiceText('Yes, definitely', 'classify', yn)).toBe('Y');
    expect(parseChoiceText('So the answer is N', 'cot_classify', yn)).toBe('N');
    // Like evals: "No" starts with N; a line both starting with one choice and ending with another takes the first listed.
    expect(parseChoiceText('No Y', 'classify', yn)).toBe('Y');
  });

  it('returns __invalid__ when no line names a choice', () => {
    expect(parseChoiceText('I cannot decide.\nmaybe', 'cot_classify', yn)).toBe(INVALID_CHOICE);
    expect(parseChoiceText('', 'classify', yn)).toBe(INVALID_CHOICE);
    expect(parseChoiceText('...\n!!!', 'classify', yn)).toBe(INVALID_CHOICE);
  });

  it('handles multi-letter choices such as evals fact.yaml A..E', () => {
    expect(parseChoiceText('Comparing the two...\nThe answer is D', 'cot_classify', ['A', 'B', 'C', 'D', 'E'])).toBe(
      'D',
    );
    expect(parseChoiceText('helpful\n', 'classify', ['unhelpful', 'helpful'])).toBe('helpful');
  });
});

describe('parseChoiceJson', () => {
  it('reads the choice and reasoning', () => {
    expect(parseChoiceJson('{"reasoning":"Paris is right","choice":"Y"}', yn)).toEqual({
      choice: 'Y',
      reasoning: 'Paris is right',
    });
  });

  it.each(['not json', '[]', '{"choice":"Maybe"}', '{"choice":1}', 'null'])('treats %s as __invalid__', (text) => {
    expect(parseChoiceJson(text, yn).choice).toBe(INVALID_CHOICE);
  });
});
