import jsonata from 'jsonata'
import { hasExpression, parseTemplate, type Template } from '../expressions.js'
import type { TriggeredBy } from '../../store/execution-rows.js'

/**
 * JSONata evaluation of a flow's expressions and `${...}` templates. This runs inside the expression worker
 * threads (runtime/expression-worker.ts), never on the server's event loop: JSONata's own guard (`timeout`,
 * `stack`) is checked only between its steps, so a native call (a catastrophic regex, `$string` of a huge
 * array) runs to its end; the pool's hard limit is what stops those.
 */
const CACHE_LIMIT = 5000

export interface Scope {
  input: unknown
  nodes: Record<string, unknown>
  secrets: Record<string, string>
  execution: { id: string; flow_id: string; started_at: string | null; trigger: TriggeredBy | null }
  /** A `foreach` node's current item and its position, while its inputs are resolved. */
  item?: unknown
  index?: number
}

/** JSONata's guard between steps: time per evaluation and nesting of its evaluation stack. */
export interface EvaluationGuard {
  timeoutMs: number
  stack: number
}

/** An expression that failed, with its source and the position JSONata reported. */
export class EvaluationError extends Error {
  override name = 'EvaluationError'
  constructor(
    message: string,
    readonly expression: string,
    readonly position: number | undefined,
    /** `expression_timeout` when it ran past the per-evaluation limit. */
    readonly code: 'expression_failed' | 'expression_timeout' = 'expression_failed'
  ) {
    super(message)
  }
}

/** Bounded memo: the oldest entry goes first once `limit` is reached. */
function remember<T>(cache: Map<string, T>, key: string, value: T): T {
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string)
  cache.set(key, value)
  return value
}

function failure(err: unknown, source: string): EvaluationError {
  const e = err as { message?: string; position?: number; code?: string }
  const position = typeof e.position === 'number' ? e.position : undefined
  const where = position === undefined ? '' : ` at position ${position}`
  // D1012: JSONata's own timeout, checked between its steps
  const code = e.code === 'D1012' ? 'expression_timeout' : 'expression_failed'
  return new EvaluationError(`Expression ${JSON.stringify(source)} failed${where}: ${e.message ?? String(err)}`, source, position, code)
}

function interpolate(value: unknown): string {
  if (value === undefined || value === null) return ''
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** Compiles and evaluates a flow's expressions under one guard, caching what it compiles. */
export class Evaluator {
  private readonly compiled = new Map<string, jsonata.Expression>()
  private readonly templates = new Map<string, Template>()

  constructor(private readonly guard: EvaluationGuard) {}

  /** A flow's strings are the same on every run: each is split (and its expressions checked) once. */
  private template(text: string): Template {
    return this.templates.get(text) ?? remember(this.templates, text, parseTemplate(text))
  }

  private compile(source: string): jsonata.Expression {
    let expr = this.compiled.get(source)
    if (expr === undefined) {
      try {
        expr = jsonata(source, { timeout: this.guard.timeoutMs, stack: this.guard.stack })
      } catch (err) {
        throw failure(err, source)
      }
      remember(this.compiled, source, expr)
    }
    return expr
  }

  /** Evaluates one JSONata expression over the scope (transform and condition nodes). */
  async evaluate(source: string, scope: Scope): Promise<unknown> {
    const started = Date.now()
    let value: unknown
    try {
      value = await this.compile(source).evaluate(scope)
    } catch (err) {
      throw err instanceof EvaluationError ? err : failure(err, source)
    }
    // a native call JSONata could not interrupt, and that ended before the pool stopped its thread
    if (Date.now() - started > this.guard.timeoutMs) {
      const message = `Expression ${JSON.stringify(source)} ran longer than ${this.guard.timeoutMs} ms`
      throw new EvaluationError(message, source, undefined, 'expression_timeout')
    }
    return value
  }

  private async renderString(text: string, scope: Scope): Promise<unknown> {
    if (!hasExpression(text) && !text.includes('$${')) return text
    const parsed = this.template(text)
    const first = parsed.parts[0]
    if (parsed.whole && first?.kind === 'expression') return this.evaluate(first.source, scope)
    let out = ''
    for (const part of parsed.parts) out += part.kind === 'text' ? part.text : interpolate(await this.evaluate(part.source, scope))
    return out
  }

  /**
   * Resolves `${...}` in every string inside `value` (object keys stay as written), one expression after
   * another. A string that is exactly one expression yields the raw value; otherwise results are interpolated
   * as text. `raw` names top-level params that hold JSONata themselves and are left alone.
   */
  async resolveParams(value: unknown, scope: Scope, raw: readonly string[] = [], depth = 0): Promise<unknown> {
    if (typeof value === 'string') return this.renderString(value, scope)
    if (depth > 50 || value === null || typeof value !== 'object') return value
    if (Array.isArray(value)) {
      const out: unknown[] = []
      for (const v of value) out.push(await this.resolveParams(v, scope, [], depth + 1))
      return out
    }
    const out: Record<string, unknown> = {}
    for (const [key, v] of Object.entries(value)) {
      out[key] = depth === 0 && raw.includes(key) ? v : await this.resolveParams(v, scope, [], depth + 1)
    }
    return out
  }
}

/**
 * How many `${...}` the strings in `value` (a node's saved params, bounded by the definition's size) hold, at
 * least 1 when one has a `$${` escape: params with none need no trip to an expression worker.
 */
export function countTemplates(value: unknown, raw: readonly string[] = []): number {
  const stack: unknown[] = [value]
  let top = true
  let count = 0
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v === 'string') {
      count += (v.match(/(^|[^$])\$\{/g) ?? []).length
      if (v.includes('$${')) count = Math.max(count, 1)
    } else if (v !== null && typeof v === 'object') {
      for (const [key, child] of Object.entries(v)) if (!(top && raw.includes(key))) stack.push(child)
    }
    top = false
  }
  return count
}
