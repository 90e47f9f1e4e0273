import { ThrottleError } from '@kafka-throttle/common';
import { HttpError, IngestError } from '../errors.ts';

/**
 * Every error code the admin API answers with, and its HTTP status. `invalid_<field>` names the
 * field of the request that was refused.
 */
export const ADMIN_ERROR_STATUS = {
  bad_request: 400,
  invalid_json: 400,
  invalid_messages: 400,
  invalid_period: 400,
  invalid_burst: 400,
  invalid_version: 400,
  invalid_reason: 400,
  invalid_reasons: 400,
  invalid_from: 400,
  invalid_to: 400,
  invalid_ids: 400,
  invalid_dry_run: 400,
  unknown_field: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  version_conflict: 409,
  replay_running: 409,
  body_too_large: 413,
  unsupported_media_type: 415,
  headers_too_large: 431,
  client_closed: 499,
  internal_error: 500,
  not_implemented: 501,
  kafka_unavailable: 503,
  not_ready: 503,
  topic_missing: 503,
} as const;

export type AdminErrorCode = keyof typeof ADMIN_ERROR_STATUS;

/** An error of the admin API (its codes and statuses: `ADMIN_ERROR_STATUS`). */
export class AdminError extends HttpError<AdminErrorCode> {
  constructor(code: AdminErrorCode, message: string, options?: { cause?: unknown }) {
    super(ADMIN_ERROR_STATUS, code, message, options);
    this.name = 'AdminError';
  }
}

/** The body reader's and the control writer's errors keep their codes; anything else is a bug. */
export function toAdminError(error: unknown): AdminError {
  if (error instanceof AdminError) return error;
  if (error instanceof IngestError && error.code in ADMIN_ERROR_STATUS) {
    return new AdminError(error.code as AdminErrorCode, error.message, { cause: error });
  }
  if (error instanceof ThrottleError && error.code === 'version_conflict') {
    return new AdminError('version_conflict', error.message, { cause: error });
  }
  return new AdminError('internal_error', 'internal error', { cause: error });
}
