import jsonata from 'jsonata'
import { hasExpression, parseTemplate, type Template } from '../expressions.js'

/** Hostile flows can't hang a worker: every evaluation is bounded in time and recursion depth. */
const GUARD = { timeout: 1000, stack: 200 }
const CACHE_LIMIT = 5000

export interface Scope {
  input: unknown
  nodes: Record<string, unknown>
  secrets: Record<string, string>
  execution: { id: string; flow_id: string; started_at: string | null }
}

/** An expression that failed, with its source and the position JSONata reported. */
export class EvaluationError extends Error {
  override name = 'EvaluationError'
  constructor(
    message: string,
    readonly expression: string,
    readonly position: number | undefined
  ) {
    super(message)
  }
}

const compiled = new Map<string, jsonata.Expression>()
const templates = new Map<string, Template>()

/** Bounded memo: the oldest entry goes first once `limit` is reached. */
function remember<T>(cache: Map<string, T>, key: string, value: T): T {
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string)
  cache.set(key, value)
  return value
}

/** A flow's strings are the same on every run: each is split (and its expressions checked) once. */
function template(text: string): Template {
  return templates.get(text) ?? remember(templates, text, parseTemplate(text))
}

function compile(source: string): jsonata.Expression {
  let expr = compiled.get(source)
  if (expr === undefined) {
    try {
      expr = jsonata(source, GUARD)
    } catch (err) {
      throw failure(err, source)
    }
    remember(compiled, source, expr)
  }
  return expr
}

function failure(err: unknown, source: string): EvaluationError {
  const e = err as { message?: string; position?: number }
  const position = typeof e.position === 'number' ? e.position : undefined
  const where = position === undefined ? '' : ` at position ${position}`
  return new EvaluationError(`Expression ${JSON.stringify(source)} failed${where}: ${e.message ?? String(err)}`, source, position)
}

/** Evaluates one JSONata expression over the scope (transform and condition nodes). */
export async function evaluate(source: string, scope: Scope): Promise<unknown> {
  try {
    return await compile(source).evaluate(scope)
  } catch (err) {
    throw err instanceof EvaluationError ? err : failure(err, source)
  }
}

function interpolate(value: unknown): string {
  if (value === undefined || value === null) return ''
  return typeof value === 'string' ? value : JSON.stringify(value)
}

async function renderString(text: string, scope: Scope): Promise<unknown> {
  if (!hasExpression(text) && !text.includes('$${')) return text
  const parsed = template(text)
  const first = parsed.parts[0]
  if (parsed.whole && first?.kind === 'expression') return evaluate(first.source, scope)
  let out = ''
  for (const part of parsed.parts) out += part.kind === 'text' ? part.text : interpolate(await evaluate(part.source, scope))
  return out
}

/**
 * Resolves `${...}` in every string inside `value` (object keys stay as written). A string that is exactly one
 * expression yields the raw value; otherwise results are interpolated as text. `raw` names top-level params
 * that hold JSONata themselves and are left alone.
 */
export async function resolveParams(value: unknown, scope: Scope, raw: readonly string[] = [], depth = 0): Promise<unknown> {
  if (typeof value === 'string') return renderString(value, scope)
  if (depth > 50 || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return Promise.all(value.map((v) => resolveParams(v, scope, [], depth + 1)))
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    out[key] = depth === 0 && raw.includes(key) ? v : await resolveParams(v, scope, [], depth + 1)
  }
  return out
}
