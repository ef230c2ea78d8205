import { Piscina } from 'piscina'
import { EvaluationError, type Scope } from './evaluate.js'
import type { ExpressionReply, ExpressionTask, ExpressionWorkerData } from './expression-worker.js'
import { NodeFailure } from './node-runtime.js'

export interface ExpressionPoolSettings {
  threads: number
  /** Wall-clock limit of one evaluation. */
  timeoutMs: number
  /** Wall-clock limit of all of one node's evaluations together. */
  nodeBudgetMs: number
  /** V8 old-generation limit of each thread. */
  heapMb: number
  /** Largest value an evaluation may answer. */
  maxBytes: number
  maxDepth: number
  /** A thread that failed outside any task (it could not start): reported here, not thrown. */
  onError: (err: Error) => void
}

/** JSONata's own evaluation-stack guard, checked between its steps (deep recursion fails before the JS stack). */
const JSONATA_STACK = 200
/** Time for the round trip itself (cloning the scope in and the answer out) on top of the evaluations'. */
const ROUND_TRIP_SLACK_MS = 250
/** A worker thread that ended itself after a task (to shed its heap) fails a task handed to it meanwhile. */
const RECYCLED = /^worker exited with code: 0$/

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never
/** A task without its port. */
type Work = DistributiveOmit<ExpressionTask, 'started'>

/** What is left of one node's expression time; every trip to the pool spends from it. */
export class ExpressionBudget {
  private spentMs = 0

  constructor(readonly totalMs: number) {}

  get remainingMs(): number {
    return Math.max(0, this.totalMs - this.spentMs)
  }

  spend(ms: number): void {
    this.spentMs += ms
  }
}

/** The source tree runs under tsx (tests, development), the build from dist. */
const FROM_SOURCE = import.meta.url.endsWith('.ts')

function workerUrl(): URL {
  // the worker is next to this file either way
  return new URL(`./expression-worker.${FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url)
}

/**
 * The threads' node flags: none of the process's (heap and semi-space sizes are the pool's own; a test runner's
 * coverage and mocking hooks would double a thread's start), except what loads TypeScript from the source tree.
 */
function workerExecArgv(): string[] {
  if (!FROM_SOURCE) return []
  const isTsx = (value: string | undefined): boolean => value !== undefined && /(^|[=/])tsx(\/|$)/.test(value)
  const kept: string[] = []
  const argv = process.execArgv
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    // `--import=tsx`, or `--import tsx` as two arguments (likewise --loader and --require)
    if (/^--(import|loader|experimental-loader|require)=/.test(arg) && isTsx(arg)) kept.push(arg)
    else if (/^(--(import|loader|experimental-loader|require)|-r)$/.test(arg) && isTsx(argv[i + 1])) kept.push(arg, argv[++i] as string)
  }
  return kept
}

function failureOf(reply: Extract<ExpressionReply, { ok: false }>): Error {
  if (reply.code === 'expression_failed' && reply.expression !== undefined) {
    return new EvaluationError(reply.message, reply.expression, reply.position)
  }
  const logData: Record<string, unknown> = { code: reply.code }
  if (reply.expression !== undefined) logData.expression = reply.expression
  return new NodeFailure(reply.message, false, logData)
}

/**
 * Flow expressions run here, in a pool of worker threads (piscina), never on the server's event loop. Each
 * trip has a hard wall-clock limit, the smaller of (per-evaluation limit × its expressions) and what is left of
 * the node's budget: past it the thread is terminated (whatever native call it is in) and replaced. Threads
 * run under a heap limit, and one that grew large ends itself after answering. A node's templates go in one
 * trip.
 */
export class ExpressionPool {
  private readonly pool: Piscina<ExpressionTask, ExpressionReply>

  constructor(private readonly settings: ExpressionPoolSettings) {
    const workerData: ExpressionWorkerData = {
      guard: { timeoutMs: settings.timeoutMs, stack: JSONATA_STACK },
      limits: { maxBytes: settings.maxBytes, maxDepth: settings.maxDepth },
      recycleHeapBytes: Math.max(16, Math.floor(settings.heapMb / 2)) * 1024 * 1024
    }
    this.pool = new Piscina({
      filename: workerUrl().href,
      execArgv: workerExecArgv(),
      // threads start on first use (an API-only replica, or a test server that runs no flow, starts none)
      minThreads: 0,
      maxThreads: settings.threads,
      idleTimeout: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: 1,
      // waiting threads keep their event loop (a thread that ends itself after a task does so from a timer)
      atomics: 'async',
      resourceLimits: { maxOldGenerationSizeMb: settings.heapMb, maxYoungGenerationSizeMb: Math.min(32, Math.ceil(settings.heapMb / 4)) },
      workerData
    })
    this.pool.on('error', settings.onError)
  }

  /** A fresh budget for one node's expressions; `scale` times the usual (a `foreach` node's, per thousand items). */
  budget(scale = 1): ExpressionBudget {
    return new ExpressionBudget(this.settings.nodeBudgetMs * scale)
  }

  /** The node's params with every `${...}` resolved (`raw` params left as written), in one trip. */
  resolveParams(params: unknown, raw: readonly string[], expressions: number, scope: Scope, budget: ExpressionBudget, signal: AbortSignal): Promise<unknown> {
    return this.run({ kind: 'params', params, raw, scope }, Math.max(1, expressions), budget, signal)
  }

  /**
   * `template` resolved for each item (`${item}`, `${index}`), in one trip: a `foreach` node's inputs. The
   * trip may take the per-evaluation limit for each of its `expressions` × items, within the budget.
   */
  resolveEach(template: unknown, items: readonly unknown[], expressions: number, scope: Scope, budget: ExpressionBudget, signal: AbortSignal): Promise<unknown[]> {
    return this.run({ kind: 'each', template, items, scope }, Math.max(1, expressions * items.length), budget, signal) as Promise<unknown[]>
  }

  /** One JSONata expression's value (transform and condition nodes). */
  evaluate(source: string, scope: Scope, budget: ExpressionBudget, signal: AbortSignal): Promise<unknown> {
    return this.run({ kind: 'expression', source, scope }, 1, budget, signal)
  }

  /** Stops every thread (at shutdown; a running evaluation is abandoned). */
  close(): Promise<void> {
    return this.pool.destroy()
  }

  private async run(work: Work, expressions: number, budget: ExpressionBudget, signal: AbortSignal): Promise<unknown> {
    const perTrip = this.settings.timeoutMs * expressions
    const byBudget = budget.remainingMs < perTrip
    const limitMs = Math.min(perTrip, budget.remainingMs)
    if (limitMs <= 0) throw this.overBudget(budget)
    // the clock starts when a thread takes the task: waiting behind other nodes' expressions, or for a thread
    // to start, spends nothing of this node's time. The thread stamps its start in shared memory, and the timer
    // (armed for the limit from now) re-arms itself until the limit has passed since that stamp.
    const stop = new AbortController()
    const both = AbortSignal.any([signal, stop.signal])
    const stamp = new Float64Array(new SharedArrayBuffer(8))
    const startedAt = (): number | undefined => (stamp[0] === 0 ? undefined : stamp[0])
    const budgetMs = limitMs + ROUND_TRIP_SLACK_MS
    let timer: NodeJS.Timeout | undefined
    const watch = (): void => {
      const started = startedAt()
      const left = started === undefined ? budgetMs : started + budgetMs - Date.now()
      if (started !== undefined && left <= 0) stop.abort()
      else timer = setTimeout(watch, left)
    }
    timer = setTimeout(watch, budgetMs)
    let reply: ExpressionReply
    try {
      reply = await this.pool.run({ ...work, started: stamp.buffer } as ExpressionTask, { signal: both }).catch((err: unknown) => {
        // the task landed on a thread that was ending itself: it runs again on another, its clock from then
        if (!(err instanceof Error && RECYCLED.test(err.message)) || both.aborted) throw err
        stamp[0] = 0
        return this.pool.run({ ...work, started: stamp.buffer } as ExpressionTask, { signal: both })
      })
    } catch (err) {
      // the node's own signal (cancel, its timeout, the deadline) is the step runner's to report
      if (signal.aborted) throw err
      if (stop.signal.aborted) {
        throw byBudget
          ? this.overBudget(budget)
          : new NodeFailure(`Expression evaluation ran longer than ${this.settings.timeoutMs} ms and was stopped`, false, { code: 'expression_timeout' })
      }
      const code = (err as { code?: string }).code
      if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
        throw new NodeFailure(`Expression evaluation ran out of memory (${this.settings.heapMb} MB) and was stopped`, false, { code: 'expression_out_of_memory' })
      }
      throw err
    } finally {
      clearTimeout(timer)
      const started = startedAt()
      if (started !== undefined) budget.spend(Date.now() - started)
    }
    if (!reply.ok) throw failureOf(reply)
    return reply.value
  }

  private overBudget(budget: ExpressionBudget): NodeFailure {
    return new NodeFailure(`The node's expressions ran longer than its budget of ${budget.totalMs} ms and were stopped`, false, {
      code: 'expression_budget_exceeded'
    })
  }
}
