import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

/**
 * The one way errors are reported: as OperationOutcomes. `getStatus` is the only place an
 * outcome becomes an HTTP status. See: https://hl7.org/fhir/R4/operationoutcome.html
 */

type IssueCode = OperationOutcomeIssue['code'];

function outcome(id: string, severity: OperationOutcomeIssue['severity'], code: IssueCode, text: string, expression?: string[]): OperationOutcome {
  const issue: OperationOutcomeIssue = { severity, code, details: { text } };
  if (expression !== undefined && expression.length > 0) {
    issue.expression = expression;
  }
  return { resourceType: 'OperationOutcome', id, issue: [issue] };
}

export const allOk = outcome('allok', 'information', 'informational', 'All OK');
export const created = outcome('created', 'information', 'informational', 'Created');
export const updated = outcome('updated', 'information', 'informational', 'Updated');
export const deleted = outcome('deleted', 'information', 'informational', 'Deleted');
export const notModified = outcome('not-modified', 'information', 'informational', 'Not modified');

/**
 * @param text - what is missing, for the reader
 * @returns a 404 outcome
 */
export function notFound(text = 'Not found'): OperationOutcome {
  return outcome('not-found', 'error', 'not-found', text);
}
/**
 * @param text - what was deleted
 * @returns a 410 outcome
 */
export function gone(text = 'The resource has been deleted'): OperationOutcome {
  return outcome('gone', 'error', 'deleted', text);
}
/**
 * @param text - the reason
 * @param expression - FHIRPath location(s) of the problem
 * @returns a 400 outcome
 */
export function badRequest(text: string, expression?: string[]): OperationOutcome {
  return outcome('bad-request', 'error', 'invalid', text, expression);
}
/**
 * @param text - the reason
 * @returns a 409 outcome
 */
export function conflict(text: string): OperationOutcome {
  return outcome('conflict', 'error', 'conflict', text);
}
/**
 * @param text - the reason
 * @returns a 412 outcome
 */
export function preconditionFailed(text: string): OperationOutcome {
  return outcome('precondition-failed', 'error', 'conflict', text);
}
/**
 * @param text - what is missing or wrong with the credentials
 * @returns a 401 outcome (the HTTP layer adds WWW-Authenticate)
 */
export function unauthorized(text = 'A valid access token is required'): OperationOutcome {
  return outcome('unauthorized', 'error', 'login', text);
}
/**
 * @param text - the reason
 * @returns a 403 outcome
 */
export function forbidden(text = 'Forbidden'): OperationOutcome {
  return outcome('forbidden', 'error', 'forbidden', text);
}
/**
 * @param text - the reason
 * @returns a 405 outcome
 */
export function notSupported(text: string): OperationOutcome {
  return outcome('not-supported', 'error', 'not-supported', text);
}
/**
 * @param text - the reason
 * @returns a 413 outcome
 */
export function tooLarge(text: string): OperationOutcome {
  return outcome('too-large', 'error', 'too-costly', text);
}
/**
 * @param text - the reason
 * @returns a 415 outcome
 */
export function unsupportedMediaType(text: string): OperationOutcome {
  return outcome('unsupported-media-type', 'error', 'not-supported', text);
}
/**
 * @param text - the reason
 * @returns a 406 outcome
 */
export function notAcceptable(text: string): OperationOutcome {
  return outcome('not-acceptable', 'error', 'not-supported', text);
}
/**
 * @param issues - validation issues; at least one has severity error or fatal
 * @returns a 422-free 400 outcome listing all issues (FHIR allows 400 or 422; we use 400 for parse
 *   errors and 422 for profile/business-rule failures, see getStatus)
 */
export function invalid(issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', id: 'invalid', issue: issues };
}
/**
 * @param requestId - correlates the log entry that holds the detail
 * @returns a 500 outcome that reveals nothing of the cause
 */
export function serverError(requestId: string | undefined): OperationOutcome {
  const o = outcome('server-error', 'error', 'exception', 'Internal server error. The incident is logged; quote the request id when reporting it.');
  if (requestId !== undefined) {
    o.extension = [{ url: 'https://dsd.dk/fhir/StructureDefinition/request-id', valueString: requestId }];
  }
  return o;
}

const STATUS_BY_ID: Record<string, number> = {
  allok: 200,
  updated: 200,
  deleted: 200,
  created: 201,
  'not-modified': 304,
  'bad-request': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  'not-supported': 405,
  'not-acceptable': 406,
  conflict: 409,
  gone: 410,
  'precondition-failed': 412,
  'too-large': 413,
  'unsupported-media-type': 415,
  invalid: 422,
  'unprocessable': 422,
  'too-many-requests': 429,
  'server-error': 500,
  timeout: 504,
};

/**
 * The only mapping from outcome to HTTP status.
 * @param o - the outcome
 * @returns the HTTP status code
 */
export function getStatus(o: OperationOutcome): number {
  const byId = o.id !== undefined ? STATUS_BY_ID[o.id] : undefined;
  if (byId !== undefined) {
    return byId;
  }
  const code = o.issue?.[0]?.code;
  switch (code) {
    case 'not-found':
      return 404;
    case 'deleted':
      return 410;
    case 'conflict':
      return 409;
    case 'forbidden':
    case 'security':
      return 403;
    case 'login':
    case 'unknown':
      return 401;
    case 'exception':
      return 500;
    case 'timeout':
      return 504;
    case 'informational':
      return 200;
    default:
      return 400;
  }
}

/** @returns true when the outcome reports success */
export function isOk(o: OperationOutcome): boolean {
  return getStatus(o) < 400;
}

/** An error carrying the OperationOutcome that the client will receive. */
export class OperationOutcomeError extends Error {
  readonly outcome: OperationOutcome;
  constructor(o: OperationOutcome, cause?: unknown) {
    super(o.issue?.[0]?.details?.text ?? o.issue?.[0]?.diagnostics ?? 'OperationOutcome error', { cause });
    this.outcome = o;
  }
}

/**
 * Converts anything thrown into an outcome: OperationOutcomeErrors pass through, database errors
 * with a known status keep it, anything else becomes a generic 500 that hides the detail.
 * @param err - what was thrown
 * @param requestId - the request id for the 500 outcome
 * @returns the outcome to send
 */
export function toOperationOutcome(err: unknown, requestId?: string): OperationOutcome {
  if (err instanceof OperationOutcomeError) {
    return err.outcome;
  }
  if (typeof err === 'object' && err !== null && 'status' in err && 'sqlState' in err) {
    const status = Number((err as { status: unknown }).status);
    const text = err instanceof Error ? err.message : 'Database error';
    if (status === 409) {
      return conflict(text);
    }
    if (status === 504) {
      return { resourceType: 'OperationOutcome', id: 'timeout', issue: [{ severity: 'error', code: 'timeout', details: { text } }] };
    }
    if (status === 400) {
      return badRequest(text);
    }
  }
  return serverError(requestId);
}
