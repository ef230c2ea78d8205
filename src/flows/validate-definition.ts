import type { TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml'
import { FlowDefinitionSchema, NODE_ID_PATTERN, type FlowDefinition, type FlowSpec, type NodeSpec } from './definition-schema.js'
import { parseDuration } from './duration.js'
import { ExpressionError, parseTemplate } from './expressions.js'
import { nodeTypes } from './nodes/index.js'
import type { NodeType } from './nodes/node-type.js'
import { checkTriggers } from './triggers/check-triggers.js'

/** One problem, located by its field path in the definition and, when known, its line and column. */
export interface DefinitionIssue {
  field: string
  reason: string
  line?: number
  column?: number
}

export type ValidationResult = { ok: true; spec: FlowSpec } | { ok: false; issues: DefinitionIssue[] }

export interface ValidationContext {
  hasOperation(name: string): boolean
  /** Whether the flow's owner may call this known Evercycle operation. */
  mayCallOperation(name: string): boolean
  /** The id of the flow being saved, when it has one (an update): a node may not run it (recursion). */
  flowId?: string | undefined
}

type Path = (string | number)[]

const MAX_ALIASES = 100

class Locator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter
  ) {}

  /** The nearest node that exists along `path`: a missing key is reported where its parent is. */
  at(path: Path): { line?: number; column?: number } {
    for (let n = path.length; n >= 0; n--) {
      const node = this.doc.getIn(path.slice(0, n), true) as YamlNode | undefined
      const offset = node !== undefined && (isScalar(node) || isMap(node) || isSeq(node)) ? node.range?.[0] : undefined
      if (offset !== undefined) {
        const pos = this.lines.linePos(offset)
        return { line: pos.line, column: pos.col }
      }
    }
    return {}
  }
}

/** TypeBox reports JSON pointers; the API names fields with dots (nodes.start.params.url). */
function pointerToPath(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
}

function fieldName(path: Path): string {
  return path.map(String).join('.')
}

/** Schema errors, one per field (unions otherwise report the same field several times). */
function schemaIssues(schema: TSchema, value: unknown, base: Path): { path: Path; reason: string }[] {
  const seen = new Map<string, { path: Path; reason: string }>()
  for (const e of Value.Errors(schema, value)) {
    const path = [...base, ...pointerToPath(e.path)]
    const key = fieldName(path)
    if (!seen.has(key)) seen.set(key, { path, reason: e.message })
  }
  return [...seen.values()]
}

/**
 * `__proto__` as a key is a prototype-pollution hazard for whatever later copies these objects (the engine,
 * JSONata), and no flow needs it.
 */
function protoKeys(value: unknown, path: Path): { path: Path; reason: string }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => protoKeys(v, [...path, i]))
  if (typeof value !== 'object' || value === null) return []
  return Object.entries(value).flatMap(([k, v]) =>
    k === '__proto__' ? [{ path: [...path, k], reason: '"__proto__" is not allowed as a key' }] : protoKeys(v, [...path, k])
  )
}

/** Every string under `value` that holds `${...}`, parsed, with problems reported at its path. */
function templateIssues(value: unknown, path: Path, skip: ReadonlySet<string>): { path: Path; reason: string }[] {
  if (typeof value === 'string') {
    try {
      parseTemplate(value)
      return []
    } catch (err) {
      if (err instanceof ExpressionError) return [{ path, reason: `${err.message} (at character ${err.offset + 1})` }]
      throw err
    }
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => templateIssues(v, [...path, i], new Set()))
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => (skip.has(k) ? [] : templateIssues(v, [...path, k], new Set())))
  }
  return []
}

function checkNode(id: string, node: FlowDefinition['nodes'][string], ctx: ValidationContext): { issues: { path: Path; reason: string }[]; spec?: NodeSpec } {
  const base: Path = ['nodes', id]
  const issues: { path: Path; reason: string }[] = []
  if (!NODE_ID_PATTERN.test(id)) {
    issues.push({ path: base, reason: 'node ids start with a letter or _ and hold only letters, digits, _ and - (at most 64)' })
  }
  const type: NodeType | undefined = nodeTypes.get(node.type)
  if (type === undefined) {
    issues.push({ path: [...base, 'type'], reason: `unknown node type "${node.type}"; known types: ${[...nodeTypes.keys()].join(', ')}` })
    return { issues }
  }
  const params = Value.Default(type.params, structuredClone(node.params ?? {})) as Record<string, unknown>
  const paramIssues = schemaIssues(type.params, params, [...base, 'params'])
  issues.push(...paramIssues)
  if (paramIssues.length === 0) {
    issues.push(...templateIssues(params, [...base, 'params'], new Set(type.rawExpressions ?? [])))
    const next = node.next ?? {}
    for (const issue of type.check?.(params, { hasOperation: (name) => ctx.hasOperation(name), mayCallOperation: (name) => ctx.mayCallOperation(name), next, flowId: ctx.flowId }) ?? []) {
      issues.push({ path: [...base, 'params', ...issue.path], reason: issue.reason })
    }
  }
  const spec: NodeSpec = { type: node.type, params, next: node.next ?? {} }
  if (node.retry !== undefined) spec.retry = { max_attempts: node.retry.max_attempts, backoff_ms: node.retry.backoff_ms ?? 1000 }
  if (node.timeout !== undefined) {
    const ms = parseDuration(node.timeout)
    if (ms === undefined) issues.push({ path: [...base, 'timeout'], reason: 'must be milliseconds or a duration like "30s", at most 7 days' })
    else spec.timeout_ms = ms
  }
  return { issues, spec }
}

/**
 * The start node: `metadata.start`, else the node named `start`, else the one node no `next` points to.
 * Returns a reason instead when none of these gives exactly one node.
 */
export function resolveStart(def: FlowDefinition): { start: string } | { reason: string } {
  const ids = Object.keys(def.nodes)
  if (def.metadata.start !== undefined) {
    return ids.includes(def.metadata.start) ? { start: def.metadata.start } : { reason: `start node "${def.metadata.start}" does not exist` }
  }
  if (ids.includes('start')) return { start: 'start' }
  const targets = new Set(Object.values(def.nodes).flatMap((n) => Object.values(n.next ?? {})))
  const roots = ids.filter((id) => !targets.has(id))
  if (roots.length === 1) return { start: roots[0] as string }
  return {
    reason:
      roots.length === 0
        ? 'no start node: every node is the target of a `next`; set metadata.start'
        : `no start node: ${roots.join(', ')} are all entry points; set metadata.start or name one "start"`
  }
}

/**
 * Parses and checks a YAML flow definition: syntax, the document schema, each node's params against its
 * type, every `${...}` expression, `next` targets and the start node. Collects every problem it can find
 * rather than stopping at the first, so an author fixes them in one round.
 */
export function validateDefinition(source: string, ctx: ValidationContext): ValidationResult {
  const lines = new LineCounter()
  const doc = parseDocument(source, { lineCounter: lines, uniqueKeys: true, prettyErrors: true })
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => ({
        field: 'definition',
        reason: `YAML syntax error: ${e.message.split('\n')[0] ?? e.code}`,
        ...(e.linePos?.[0] === undefined ? {} : { line: e.linePos[0].line, column: e.linePos[0].col })
      }))
    }
  }
  let value: unknown
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES })
  } catch (err) {
    return { ok: false, issues: [{ field: 'definition', reason: `YAML could not be read: ${(err as Error).message}` }] }
  }
  try {
    // an alias inside its own anchor (`a: &x [*x]`) makes a cycle, which nothing downstream could walk or store
    JSON.stringify(value)
  } catch {
    return { ok: false, issues: [{ field: 'definition', reason: 'YAML aliases must not refer to themselves' }] }
  }
  const where = new Locator(doc, lines)
  const located = (issues: { path: Path; reason: string }[]): DefinitionIssue[] =>
    issues.map((i) => ({ field: i.path.length === 0 ? 'definition' : fieldName(i.path), reason: i.reason, ...where.at(i.path) }))

  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, issues: [{ field: 'definition', reason: 'must be a YAML mapping with metadata and nodes' }] }
  }
  const poisoned = protoKeys(value, [])
  if (poisoned.length > 0) return { ok: false, issues: located(poisoned) }
  const structural = schemaIssues(FlowDefinitionSchema, value, [])
  if (structural.length > 0) return { ok: false, issues: located(structural) }

  const def = value as FlowDefinition
  const issues: { path: Path; reason: string }[] = []
  const nodes: Record<string, NodeSpec> = {}
  for (const [id, node] of Object.entries(def.nodes)) {
    const checked = checkNode(id, node, ctx)
    issues.push(...checked.issues)
    if (checked.spec !== undefined) nodes[id] = checked.spec
    for (const [action, target] of Object.entries(node.next ?? {})) {
      if (!Object.hasOwn(def.nodes, target)) {
        issues.push({ path: ['nodes', id, 'next', action], reason: `points to "${target}", which is not a node in this flow` })
      }
    }
  }
  const start = resolveStart(def)
  if ('reason' in start) issues.push({ path: ['metadata', 'start'], reason: start.reason })
  const triggers = checkTriggers(def.triggers ?? [])
  issues.push(...triggers.issues)
  if (issues.length > 0 || 'reason' in start) return { ok: false, issues: located(issues) }
  return { ok: true, spec: { metadata: def.metadata, start: start.start, nodes, triggers: triggers.specs } }
}
