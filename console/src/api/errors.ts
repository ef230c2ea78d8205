/** A FlowRunner or gateway error reply, as `{error: {code, message, details}}` (or the gateway's envelope). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; details?: unknown }
}

/** The error a reply carries, or one naming the status when its body is not the documented shape. */
export async function errorOf(res: Response): Promise<ApiError> {
  let body: ErrorBody = {}
  try {
    body = (await res.json()) as ErrorBody
  } catch {
    // not JSON: a proxy's page, say
  }
  const e = body.error ?? {}
  const code = typeof e.code === 'string' ? e.code : `http_${res.status}`
  const message = typeof e.message === 'string' ? e.message : `The server answered ${res.status} ${res.statusText}`
  return new ApiError(res.status, code, message, e.details)
}

/** One field's problem, from a 422 or 400 reply's details. */
export interface FieldProblem {
  field?: string
  reason?: string
  line?: number
  column?: number
}

/** The per-field problems of an error's details, whatever their nesting (an object or an array of them). */
export function problemsOf(err: unknown): FieldProblem[] {
  if (!(err instanceof ApiError)) return []
  const d = err.details
  const list: unknown[] = Array.isArray(d) ? d : d !== null && typeof d === 'object' && Array.isArray((d as { errors?: unknown }).errors) ? ((d as { errors: unknown[] }).errors) : d === undefined || d === null ? [] : [d]
  return list.filter((p): p is FieldProblem => p !== null && typeof p === 'object')
}

/** A message for people: the API's own, or the browser's for a network failure. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}
