import type { CallRequest, CallResult, OperationInfo } from './backend.js'
import { errorBody, statusOf } from './cli-error.js'
import type { CliContext } from './context.js'
import { displayPath } from './operation-info.js'

export type CallOutcome =
  | { ok: true; result: CallResult; ms: number; method: string; path: string }
  | { ok: false; error: unknown; ms: number; method: string; path: string }

/** One operation call, timed and written to the history whatever its outcome. */
export async function performCall(ctx: CliContext, request: CallRequest, signal?: AbortSignal): Promise<CallOutcome> {
  const info = await ctx.backend
    .operations()
    .then((ops) => ops.find((o) => o.name === request.operation))
    .catch(() => undefined)
  const method = info?.method ?? '?'
  const path = info === undefined ? '?' : displayPath(info, pathValues(info, request))
  const started = performance.now()
  let outcome: CallOutcome
  try {
    const result = await ctx.backend.call(request, signal)
    outcome = { ok: true, result, ms: elapsed(started), method, path }
  } catch (error) {
    outcome = { ok: false, error, ms: elapsed(started), method, path }
  }
  await record(ctx, request, outcome)
  return outcome
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started)
}

/** The values the path template would take: given path parameters, else the body or query, else defaults. */
function pathValues(info: OperationInfo, request: CallRequest): Record<string, unknown> {
  const values: Record<string, unknown> = {}
  for (const p of info.pathParams) {
    const from = p.in === 'query' ? request.query : request.body
    values[p.name] = request.pathParams[p.name] ?? from?.[p.name] ?? p.default
  }
  return values
}

async function record(ctx: CliContext, request: CallRequest, outcome: CallOutcome): Promise<void> {
  if (ctx.history === undefined) return
  let response: unknown
  if (outcome.ok) {
    const envelope = outcome.result.envelope
    response = envelope.kind === 'buffered' ? dataOf(envelope.payload.toString('utf8')) : '[streamed response: not recorded]'
  }
  const failure = outcome.ok ? undefined : errorBody(outcome.error).error
  try {
    await ctx.history.append({
      at: new Date().toISOString(),
      operation: request.operation,
      method: outcome.method,
      path: outcome.path,
      status: outcome.ok ? outcome.result.statusCode : (statusOf(outcome.error) ?? null),
      ok: outcome.ok,
      ms: outcome.ms,
      via: ctx.via,
      ...(failure === undefined ? {} : { error: { code: failure.code, message: failure.message } }),
      request: { query: request.query, body: request.body },
      ...(outcome.ok ? { response } : { response: failure?.details ?? undefined })
    })
  } catch (err) {
    // the history is a convenience: a full disk must not fail the call the user asked for
    process.stderr.write(`evercycle: could not write the history: ${(err as Error).message}\n`)
  }
}

function dataOf(payload: string): unknown {
  try {
    return (JSON.parse(payload) as { data?: unknown }).data
  } catch {
    return payload
  }
}
