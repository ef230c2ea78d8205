import type { Static, TSchema } from '@sinclair/typebox'
import type { FlowDefinition } from '../definition-schema.js'
import type { NodeOutcome, RunContext } from '../runtime/node-runtime.js'

/** What a node type may consult while checking its params when a flow is saved. */
export interface CheckContext {
  /** Whether the gateway's endpoint registry knows this Evercycle operation. */
  hasOperation(name: string): boolean
  /** Whether the flow's owner may call this (known) operation: evercycle-policy.ts, by the owner's role. */
  mayCallOperation(name: string): boolean
  /** The node's `next` mapping (action name → node id). */
  next: Readonly<Record<string, string>>
  /** The id of the flow being saved, when it has one (an update). */
  flowId?: string | undefined
}

/** A problem in a node's params; `path` is relative to `params` (e.g. ['headers', 'x-key']). */
export interface ParamIssue {
  path: string[]
  reason: string
}

/**
 * A small complete flow that uses the node type: docs/flows.md shows it as YAML, and its test saves it through
 * the flow validator, so a documented example is always a valid one.
 */
export interface NodeExample {
  /** One sentence saying what the example does. */
  summary: string
  flow: FlowDefinition
}

/**
 * One node type: its params schema (validated when a flow is saved) and the checks a schema can't express.
 * The engine adds `run(params, context)` beside these; a new type is one new file in this folder plus its
 * entry in index.ts; its description, result and example feed docs/flows.md (`npm run docs`).
 */
export interface NodeType<S extends TSchema = TSchema> {
  readonly type: string
  /** Complete sentences: the first is the node type's summary in docs/flows.md. */
  readonly description: string
  readonly params: S
  /**
   * The shape of the node's result, which later nodes read as `nodes.<id>` (documentation: results are not
   * checked against it).
   */
  readonly result: TSchema
  readonly example: NodeExample
  /**
   * Params holding raw JSONata (not `${...}` templates); checked by the type itself and skipped by the
   * template scan.
   */
  readonly rawExpressions?: readonly string[]
  /** Runs only on params that already match the schema. */
  check?(params: Static<S>, ctx: CheckContext): ParamIssue[]
  /**
   * Executes the node. `params` are the saved params with every `${...}` resolved (so their types may differ
   * from the schema's: a template may yield a number); throw NodeFailure to fail the node.
   */
  run(params: Record<string, unknown>, ctx: RunContext): Promise<NodeOutcome>
}

export function defineNodeType<S extends TSchema>(node: NodeType<S>): NodeType<S> {
  return node
}
