/** A chat message as the OpenAI API carries it; only the text that the template renders matters here. */
export interface ChatMessageInput {
  role: string;
  content?: string | ReadonlyArray<{ type?: string; text?: string }> | null;
  [extra: string]: unknown;
}

export interface RenderChatOptions {
  /** Append the assistant generation prefix (vLLM's `add_generation_prompt`, default true). */
  addGenerationPrompt?: boolean;
}

/** vLLM joins the text parts of array content with a newline before templating. */
export function messageText(content: ChatMessageInput['content']): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  let text = '';
  let first = true;
  for (const part of content) {
    if (typeof part.text !== 'string') continue;
    text += first ? part.text : `\n${part.text}`;
    first = false;
  }
  return text;
}

/**
 * Renders messages with the ChatML template the simulated models use:
 * `<|im_start|>{role}\n{content}<|im_end|>\n` per message, then `<|im_start|>assistant\n`.
 */
export function renderChatTemplate(messages: ReadonlyArray<ChatMessageInput>, options: RenderChatOptions = {}): string {
  let text = '';
  for (const message of messages) {
    text += `<|im_start|>${message.role}\n${messageText(message.content)}<|im_end|>\n`;
  }
  if (options.addGenerationPrompt ?? true) text += '<|im_start|>assistant\n';
  return text;
}

/** Upper bound of the prompt tokens the simulator reports for a chat: the rendered template's UTF-8 bytes. */
export function chatPromptTokensBound(
  messages: ReadonlyArray<ChatMessageInput>,
  options: RenderChatOptions = {},
): number {
  return Buffer.byteLength(renderChatTemplate(messages, options), 'utf8');
}
