/**
 * vLLM's error body: `{"error": {"message", "type", "param", "code"}}` where `code` repeats the HTTP
 * status. Semantic refusals use type "BadRequestError" (400) or "NotFoundError" (404); request-shape
 * validation (FastAPI/pydantic) uses type "Bad Request" (400); engine failures "InternalServerError".
 */
export interface VllmErrorBody {
  error: { message: string; type: string; param: string | null; code: number };
}

/** An error the HTTP layer turns into vLLM's error JSON with `status`. */
export class VllmHttpError extends Error {
  override readonly name = 'VllmHttpError';
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }

  toBody(): VllmErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.status } };
  }
}

/** vLLM's VLLMValidationError: str() appends "(parameter=..., value=...)" and that string is the message. */
export function validationError(message: string, parameter?: string, value?: unknown): VllmHttpError {
  const extras: string[] = [];
  if (parameter !== undefined) extras.push(`parameter=${parameter}`);
  if (value !== undefined && value !== null) extras.push(`value=${String(value)}`);
  const text = extras.length > 0 ? `${message} (${extras.join(', ')})` : message;
  return new VllmHttpError(400, 'BadRequestError', text, parameter ?? null);
}

/** A plain ValueError in vLLM: 400 BadRequestError without a param. */
export function badRequest(message: string): VllmHttpError {
  return new VllmHttpError(400, 'BadRequestError', message);
}

/** Pydantic/FastAPI request validation as vLLM's handler renders it. */
export function requestShapeError(message: string): VllmHttpError {
  return new VllmHttpError(400, 'Bad Request', message);
}

export function modelNotFound(model: string): VllmHttpError {
  return new VllmHttpError(404, 'NotFoundError', `The model \`${model}\` does not exist.`, 'model');
}

/** What vLLM answers when generation fails inside the engine (GenerationError). */
export function internalError(message = 'Internal server error'): VllmHttpError {
  return new VllmHttpError(500, 'InternalServerError', message);
}
