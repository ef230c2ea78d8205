import { readlinkSync } from 'node:fs'
import { getPriority, setPriority } from 'node:os'
import { getHeapStatistics } from 'node:v8'
import { workerData } from 'node:worker_threads'
import { checkJsonBounds, type JsonLimits } from '../../util/json-bounds.js'
import { EvaluationError, Evaluator, type EvaluationGuard, type Scope } from './evaluate.js'

/**
 * One expression worker thread (run by piscina, see expression-pool.ts): evaluates a node's templates or one
 * expression over the flow scope and answers a JSON-safe value, or why it could not. What it answers is
 * bounded (size, depth) before it leaves the thread, so a 100 MB string never reaches the server's heap.
 * A thread whose heap grew past `recycleHeapBytes`, or that built a value past the limits, ends itself after
 * answering: the pool starts a fresh one rather than keep a heap V8 would not give back.
 */
export interface ExpressionWorkerData {
  guard: EvaluationGuard
  limits: JsonLimits
  recycleHeapBytes: number
}

export type ExpressionTask = (
  | { kind: 'params'; params: unknown; raw: readonly string[]; scope: Scope }
  | { kind: 'expression'; source: string; scope: Scope }
  /** `template` resolved once per item, with `item` and `index` in scope (a `foreach` node's inputs). */
  | { kind: 'each'; template: unknown; items: readonly unknown[]; scope: Scope }
) & {
  /**
   * One Float64 the thread sets to `Date.now()` when it starts the task (shared
   * memory, read by the pool's timer): the time limit runs from then, not from the queue.
   */
  started: SharedArrayBuffer
}

export type ExpressionErrorCode = 'expression_failed' | 'expression_timeout' | 'result_too_large' | 'result_too_deep'

export type ExpressionReply =
  | { ok: true; value: unknown }
  | { ok: false; code: ExpressionErrorCode; message: string; expression?: string; position?: number }

const data = workerData as ExpressionWorkerData
/** The inputs of a `foreach` node's items may take this many times the size of one value. */
const EACH_BYTES_FACTOR = 16
const evaluator = new Evaluator(data.guard)

/**
 * Linux schedules threads, and a thread's nice value is its own: this thread yields the CPU to the server's
 * event loop (nice 10 weighs about a tenth of nice 0), so flows that keep every expression thread busy do not
 * slow the answers to web UIs and probes. Elsewhere (no /proc/thread-self) threads keep the process's priority.
 */
function lowerPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, Math.max(getPriority(tid), WORKER_NICE))
  } catch {
    // not Linux, or not allowed: the thread runs at the process's priority
  }
}
const WORKER_NICE = 10
lowerPriority()

function recycle(): void {
  // after piscina has posted this task's answer
  setTimeout(() => process.exit(0), 0)
}

/** A value as JSON would store it: functions and undefined dropped, JSONata's sequence flags gone. */
function jsonSafe(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown)
}

async function run(task: ExpressionTask): Promise<ExpressionReply> {
  let value: unknown
  try {
    if (task.kind === 'params') value = await evaluator.resolveParams(task.params, task.scope, task.raw)
    else if (task.kind === 'expression') value = await evaluator.evaluate(task.source, task.scope)
    else {
      const each: unknown[] = []
      for (let index = 0; index < task.items.length; index++) {
        each.push(await evaluator.resolveParams(task.template, { ...task.scope, item: task.items[index], index }))
      }
      value = each
    }
  } catch (err) {
    if (err instanceof EvaluationError) {
      return { ok: false, code: err.code, message: err.message, expression: err.expression, ...(err.position === undefined ? {} : { position: err.position }) }
    }
    // the JavaScript stack ran out (deep recursion in a JSONata function), or something else failed
    const message = err instanceof Error ? err.message : String(err)
    return { ok: false, code: 'expression_failed', message: `Expression failed: ${message}` }
  }
  const what = task.kind === 'params' ? "The node's resolved params" : task.kind === 'each' ? "The items' inputs" : "The expression's value"
  // one input per item: together they may take what each of them may
  const limits = task.kind === 'each' ? { ...data.limits, maxBytes: data.limits.maxBytes * EACH_BYTES_FACTOR } : data.limits
  const verdict = checkJsonBounds(value, limits, what)
  if (!verdict.ok) {
    value = undefined
    recycle()
    return { ok: false, code: verdict.code, message: verdict.message }
  }
  return { ok: true, value: jsonSafe(value) }
}

export default async function evaluateTask(task: ExpressionTask): Promise<ExpressionReply> {
  new Float64Array(task.started)[0] = Date.now()
  const reply = await run(task)
  if (getHeapStatistics().used_heap_size > data.recycleHeapBytes) recycle()
  return reply
}
