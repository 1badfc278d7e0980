import { ValidationError } from '@tokenwise/core';
import { readFile, stat } from 'node:fs/promises';

/** Scoring, policy and bounds files are small: a few rubrics at most. */
export const settlementFileBytesMax = 512 * 1024;

/** Reads and parses a JSON file named by --file; `what` names it in every error ("price list"). */
export async function readJsonFile(path: string, what: string, bytesMax: number): Promise<unknown> {
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ValidationError(`${path} is not a file.`);
    if (info.size > bytesMax)
      throw new ValidationError(`${path} has ${info.size} bytes; a ${what} file holds at most ${bytesMax}.`);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError(`Cannot read the ${what} file ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ValidationError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}
