/** Known failures the API turns into problem+json; anything else is a logged 500. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

export interface FieldError {
  path: string;
  message: string;
}

export const badRequest = (detail: string, errors: FieldError[] = []) =>
  new ProblemError(400, 'Bad Request', detail, errors.length ? { errors } : {});
export const notFound = (detail: string) => new ProblemError(404, 'Not Found', detail);
export const conflict = (detail: string, extra: Record<string, unknown> = {}) => new ProblemError(409, 'Conflict', detail, extra);
export const unprocessable = (detail: string, errors: FieldError[]) => new ProblemError(422, 'Unprocessable Content', detail, { errors });
export const unavailable = (detail: string) => new ProblemError(503, 'Service Unavailable', detail);
export const unauthorized = (detail: string) => new ProblemError(401, 'Unauthorized', detail);
export const forbidden = (detail: string) => new ProblemError(403, 'Forbidden', detail);
