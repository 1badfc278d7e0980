/**
 * The Block Kit limits Slack enforces when a message or view is posted, as its reference states
 * them (docs.slack.dev, "Blocks" and "Block elements"): the local Slack refuses what Slack would.
 */
export const messageBlocksMax = 50;
export const viewBlocksMax = 100;
export const sectionTextCharsMax = 3_000;
export const sectionFieldsMax = 10;
export const sectionFieldCharsMax = 2_000;
export const headerTextCharsMax = 150;
export const contextElementsMax = 10;
export const actionsElementsMax = 25;
export const buttonTextCharsMax = 75;
export const buttonValueCharsMax = 2_000;
export const actionIdCharsMax = 255;
export const blockIdCharsMax = 255;
export const messageTextCharsMax = 40_000;
export const viewTitleCharsMax = 24;

type Json = Record<string, unknown>;

function textOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const text = (value as Json).text;
  return typeof text === 'string' ? text : undefined;
}

function tooLong(value: unknown, max: number): boolean {
  return (textOf(value)?.length ?? 0) > max;
}

function elementProblem(element: Json, where: string): string | undefined {
  if (typeof element.action_id === 'string' && element.action_id.length > actionIdCharsMax)
    return `${where}: action_id longer than ${actionIdCharsMax}`;
  if (element.type === 'button') {
    if (tooLong(element.text, buttonTextCharsMax)) return `${where}: button text longer than ${buttonTextCharsMax}`;
    if (typeof element.value === 'string' && element.value.length > buttonValueCharsMax)
      return `${where}: button value longer than ${buttonValueCharsMax}`;
  }
  return undefined;
}

function blockProblem(block: Json, where: string): string | undefined {
  if (typeof block.block_id === 'string' && block.block_id.length > blockIdCharsMax)
    return `${where}: block_id longer than ${blockIdCharsMax}`;
  const elements = Array.isArray(block.elements) ? (block.elements as Json[]) : [];
  switch (block.type) {
    case 'section': {
      if (tooLong(block.text, sectionTextCharsMax)) return `${where}: text longer than ${sectionTextCharsMax}`;
      const fields = Array.isArray(block.fields) ? (block.fields as unknown[]) : [];
      if (fields.length > sectionFieldsMax) return `${where}: more than ${sectionFieldsMax} fields`;
      if (fields.some((field) => tooLong(field, sectionFieldCharsMax)))
        return `${where}: a field longer than ${sectionFieldCharsMax}`;
      if (block.text === undefined && fields.length === 0) return `${where}: section needs text or fields`;
      if (typeof block.accessory === 'object' && block.accessory !== null)
        return elementProblem(block.accessory as Json, `${where}.accessory`);
      return undefined;
    }
    case 'header':
      return tooLong(block.text, headerTextCharsMax) ? `${where}: header longer than ${headerTextCharsMax}` : undefined;
    case 'context':
      return elements.length === 0 || elements.length > contextElementsMax
        ? `${where}: context needs 1..${contextElementsMax} elements`
        : undefined;
    case 'actions': {
      if (elements.length === 0 || elements.length > actionsElementsMax)
        return `${where}: actions needs 1..${actionsElementsMax} elements`;
      for (const [index, element] of elements.entries()) {
        const problem = elementProblem(element, `${where}.elements[${index}]`);
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    case 'divider':
    case 'input':
    case 'image':
    case 'rich_text':
    case 'markdown':
      return undefined;
    default:
      return `${where}: unknown block type ${String(block.type)}`;
  }
}

/** Why Slack would refuse these blocks, or undefined when it would take them. */
export function blocksProblem(blocks: unknown, max: number): string | undefined {
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks)) return 'blocks must be an array';
  if (blocks.length > max) return `no more than ${max} items allowed [json-pointer:/blocks]`;
  for (const [index, block] of blocks.entries()) {
    if (typeof block !== 'object' || block === null) return `blocks[${index}] must be an object`;
    const problem = blockProblem(block as Json, `blocks[${index}]`);
    if (problem !== undefined) return problem;
  }
  return undefined;
}
