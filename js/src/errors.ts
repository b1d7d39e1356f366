/**
 * Errors of the instant client. Every promise of the API rejects with an {@link InstantError} whose
 * `code` says what went wrong and whose `message` says what to do about it.
 */

/** What went wrong, for code that reacts to it (the message is for people). */
export type InstantErrorCode =
  /** The Django session is anonymous and anonymous visitors are not allowed: log in first. */
  | "not_logged_in"
  /** `login()` with a wrong username or password. */
  | "bad_credentials"
  /** The Django backend could not be reached (network error, CORS refusal). */
  | "backend_unreachable"
  /** The Django backend answered with an error (4xx/5xx, not JSON, CSRF failure...). */
  | "backend_error"
  /** Nothing answers at the websockets server's address. */
  | "server_unreachable"
  /** The websockets server answers but refuses this page's origin (`allowed_origins`). */
  | "origin_not_allowed"
  /** The websockets server refused the connection token (HMAC key mismatch, expired...). */
  | "invalid_token"
  /** The websockets server refused a subscription. */
  | "subscription_refused"
  /** The websockets server closed the connection for good (another terminal disconnect code). */
  | "connection_refused"
  /** `connect()` did not complete within the `timeout` option. */
  | "timeout"
  /** `disconnect()`, `login()` or `logout()` ended a `connect()` still in progress. */
  | "cancelled"
  /** A call the current state does not allow, or a bad argument. */
  | "usage";

export class InstantError extends Error {
  /** What went wrong; see {@link InstantErrorCode}. */
  readonly code: InstantErrorCode;
  /** HTTP status of the Django response, when there was one. */
  readonly status?: number;
  /** Centrifugo error or disconnect code from the websockets server, when there was one. */
  readonly serverCode?: number;

  constructor(code: InstantErrorCode, message: string, extra: { status?: number; serverCode?: number; cause?: unknown } = {}) {
    super(message);
    this.name = "InstantError";
    this.code = code;
    if (extra.status !== undefined) this.status = extra.status;
    if (extra.serverCode !== undefined) this.serverCode = extra.serverCode;
    if (extra.cause !== undefined) (this as { cause?: unknown }).cause = extra.cause;
  }
}
