import { Gauge, type Registry } from 'prom-client'
import { queueBacklog, type QueueBacklog } from '../queue/queue-backlog.js'
import type { Queryable } from '../store/driver.js'
import type { Logger } from '../util/logger.js'
import { mirroredCounter } from './mirrored-counter.js'

export interface FlowRunnerSources {
  engine: { readonly stats: { started: number; completed: number; failed: number; cancelled: number }; readonly busy: number }
  subscriberCount: () => number
  db: Queryable
  queueSchema: string
  queueName: string
  log: Logger
}

/** Live statuses only: counting finished executions would scan the whole retention period on every scrape. */
const LIVE_STATUSES = ['queued', 'running', 'waiting'] as const

/**
 * FlowRunner's metrics. Database-backed gauges (live executions, queue backlog) describe the whole cluster, so
 * every replica reports the same value: aggregate them with max(), not sum(). Counters and in-process gauges
 * are this replica's own: sum() them.
 */
export function registerFlowRunnerMetrics(registry: Registry, sources: FlowRunnerSources): void {
  const registers = [registry]
  const { db, log } = sources

  // a failed database read drops the series for this scrape instead of failing the scrape or reporting stale values
  const guarded = async (gauge: Gauge<string>, what: string, fill: () => Promise<void>): Promise<void> => {
    try {
      await fill()
    } catch (err) {
      gauge.reset()
      log.warn({ err }, `metrics: reading ${what} failed`)
    }
  }

  new Gauge<'status'>({
    name: 'flowrunner_executions',
    help: 'Executions in a live status (queued, running), cluster-wide from the database',
    labelNames: ['status'],
    registers,
    async collect() {
      await guarded(this, 'executions', async () => {
        const { rows } = await db.query<{ status: string; n: number }>(
          "SELECT status, count(*)::integer AS n FROM executions WHERE status IN ('queued', 'running', 'waiting') GROUP BY status"
        )
        for (const status of LIVE_STATUSES) this.set({ status }, rows.find((r) => r.status === status)?.n ?? 0)
      })
    }
  })

  mirroredCounter({
    name: 'flowrunner_executions_total',
    help: 'Executions this replica started, and those it saw end, by event (started, completed, failed, cancelled)',
    labelName: 'event',
    registry,
    read: () => ({ ...sources.engine.stats })
  })

  new Gauge({
    name: 'flowrunner_engine_busy_steps',
    help: 'Node steps this replica is running now',
    registers,
    collect() {
      this.set(sources.engine.busy)
    }
  })

  // the registry collects every metric at once: both queue gauges share one query per scrape
  let reading: Promise<QueueBacklog> | undefined
  const backlog = (): Promise<QueueBacklog> =>
    (reading ??= queueBacklog(db, sources.queueSchema, sources.queueName).finally(() => {
      reading = undefined
    }))

  new Gauge<'state'>({
    name: 'flowrunner_queue_jobs',
    help: 'Step jobs in the queue by state (waiting: runnable now; deferred: scheduled later; active: held by a worker), cluster-wide',
    labelNames: ['state'],
    registers,
    async collect() {
      await guarded(this, 'queue backlog', async () => {
        const b = await backlog()
        this.set({ state: 'waiting' }, b.waiting)
        this.set({ state: 'deferred' }, b.deferred)
        this.set({ state: 'active' }, b.active)
      })
    }
  })

  new Gauge({
    name: 'flowrunner_queue_oldest_waiting_seconds',
    help: 'How long the oldest runnable step job has waited for a worker (0 when none waits), cluster-wide',
    registers,
    async collect() {
      await guarded(this, 'queue backlog', async () => {
        this.set((await backlog()).oldestWaitingSeconds)
      })
    }
  })

  new Gauge({
    name: 'flowrunner_websocket_subscribers',
    help: 'WebSocket subscribers to execution events on this replica',
    registers,
    collect() {
      this.set(sources.subscriberCount())
    }
  })
}
