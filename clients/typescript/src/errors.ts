// Errors of the newsdesk API as one typed class.
//
// Every error the server sends is RFC 9457 problem details
// (`application/problem+json`); `ProblemError` carries it with the HTTP
// status so callers can branch on `status` (401, 412, 422, ...) and show
// `detail` or the per-field `errors` of a validation problem.

import type { components } from "./generated/schema.js";

/** The problem+json body, as the OpenAPI document describes it. */
export type Problem = components["schemas"]["Problem"];
/** One invalid field of a validation problem. */
export type FieldError = components["schemas"]["FieldError"];

export class ProblemError extends Error {
  /** HTTP status of the response. */
  readonly status: number;
  /** Problem type URI, e.g. `https://newsdesk.dev/problems/validation`. */
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  /** Per-field messages (validation problems only; empty otherwise). */
  readonly errors: FieldError[];
  /** The whole problem body as sent (or synthesised when the body was not problem+json). */
  readonly problem: Problem;
  /** The response that carried the problem (headers such as `Retry-After` are there). */
  readonly response: Response | undefined;

  constructor(problem: Problem, response?: Response) {
    super(problem.detail ? `${problem.status} ${problem.title}: ${problem.detail}` : `${problem.status} ${problem.title}`);
    this.name = "ProblemError";
    this.status = problem.status;
    this.type = problem.type;
    this.title = problem.title;
    this.detail = problem.detail ?? "";
    this.errors = problem.errors ?? [];
    this.problem = problem;
    this.response = response;
  }

  /** The message for one field of a validation problem, if any. */
  fieldError(field: string): string | undefined {
    return this.errors.find((e) => e.field === field)?.message;
  }

  /** Seconds to wait before retrying (429 and 503 send `Retry-After`). */
  get retryAfter(): number | undefined {
    const value = this.response?.headers.get("retry-after");
    if (value == null) return undefined;
    const seconds = Number(value);
    return Number.isFinite(seconds) ? seconds : undefined;
  }

  /**
   * Builds the error from what openapi-fetch returned for a non-2xx response:
   * the parsed problem when the body is one, else a problem made from the
   * status line so callers always get the same shape.
   */
  static from(body: unknown, response: Response): ProblemError {
    if (isProblem(body)) return new ProblemError(body, response);
    const detail = typeof body === "string" && body.length > 0 ? body.slice(0, 500) : response.statusText;
    return new ProblemError(
      {
        type: "about:blank",
        title: response.statusText || `HTTP ${response.status}`,
        status: response.status,
        detail,
      },
      response,
    );
  }
}

/** Whether a value has the shape of a problem+json body. */
export function isProblem(value: unknown): value is Problem {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.type === "string" && typeof v.title === "string" && typeof v.status === "number";
}

/** Narrowing helper for `catch (e)` blocks. */
export function isProblemError(value: unknown, status?: number): value is ProblemError {
  return value instanceof ProblemError && (status === undefined || value.status === status);
}
