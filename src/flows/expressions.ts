import jsonata from 'jsonata'

/**
 * `${...}` templates inside flow strings. The inside is JSONata evaluated over `{ input, nodes, secrets }`.
 * A string that is exactly one `${...}` evaluates to the expression's value (object, number...); anything
 * else interpolates to a string. `$${` writes a literal `${`.
 */
export type TemplatePart = { kind: 'text'; text: string } | { kind: 'expression'; source: string; expression: jsonata.Expression; offset: number }

export interface Template {
  parts: TemplatePart[]
  /** The whole string is one expression: its value keeps its type. */
  whole: boolean
}

export class ExpressionError extends Error {
  override name = 'ExpressionError'
  constructor(
    message: string,
    /** Character offset in the string where the problem is. */
    readonly offset: number
  ) {
    super(message)
  }
}

interface JsonataFailure {
  message?: unknown
  position?: unknown
}

/** Compiles one JSONata expression; syntax errors become ExpressionError with the offset JSONata reports. */
export function compileExpression(source: string, baseOffset = 0): jsonata.Expression {
  if (source.trim() === '') throw new ExpressionError('Expression is empty', baseOffset)
  try {
    return jsonata(source)
  } catch (err) {
    const e = err as JsonataFailure
    const position = typeof e.position === 'number' ? e.position : 0
    const message = typeof e.message === 'string' ? e.message : 'Invalid expression'
    throw new ExpressionError(`Invalid expression: ${message}`, baseOffset + position)
  }
}

/**
 * Finds where the expression opened at `start` (just after `${`) ends, skipping braces inside JSONata
 * strings, backquoted names and comments, so `${ {"a": "}"} }` is one expression.
 */
function closingBrace(text: string, start: number): number {
  let depth = 0
  for (let i = start; i < text.length; i++) {
    const c = text[i]
    if (c === '"' || c === "'" || c === '`') {
      const quote = c
      i++
      while (i < text.length && text[i] !== quote) {
        if (text[i] === '\\' && quote !== '`') i++
        i++
      }
      if (i >= text.length) return -1
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2)
      if (end === -1) return -1
      i = end + 1
    } else if (c === '{') {
      depth++
    } else if (c === '}') {
      if (depth === 0) return i
      depth--
    }
  }
  return -1
}

export function parseTemplate(text: string): Template {
  const parts: TemplatePart[] = []
  let literal = ''
  let i = 0
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      literal += '${'
      i += 3
      continue
    }
    if (!text.startsWith('${', i)) {
      literal += text[i]
      i++
      continue
    }
    const end = closingBrace(text, i + 2)
    if (end === -1) throw new ExpressionError('Unterminated ${ expression: missing }', i)
    const source = text.slice(i + 2, end)
    if (literal !== '') parts.push({ kind: 'text', text: literal })
    literal = ''
    parts.push({ kind: 'expression', source, expression: compileExpression(source, i + 2), offset: i })
    i = end + 1
  }
  if (literal !== '') parts.push({ kind: 'text', text: literal })
  return { parts, whole: parts.length === 1 && parts[0]?.kind === 'expression' }
}

export function hasExpression(text: string): boolean {
  return /(^|[^$])\$\{/.test(text)
}

/** The scope a flow's expressions read. */
export interface ExpressionScope {
  input: unknown
  nodes: Record<string, unknown>
  secrets: Record<string, string>
}

function interpolate(value: unknown): string {
  if (value === undefined || value === null) return ''
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** Evaluates a parsed template (the engine's side; kept here so parse and evaluate agree on the rules). */
export async function renderTemplate(template: Template, scope: ExpressionScope): Promise<unknown> {
  const first = template.parts[0]
  if (template.whole && first?.kind === 'expression') return first.expression.evaluate(scope)
  let out = ''
  for (const part of template.parts) {
    out += part.kind === 'text' ? part.text : interpolate(await part.expression.evaluate(scope))
  }
  return out
}
