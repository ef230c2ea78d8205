import pg from 'pg'
import { FlowRunnerApi, type ExecutionReply } from '../../dev/demo/flowrunner-api.js'
import { commandCpuMs, CpuMeter } from './cpu.js'
import { retryShed } from './flow-load.js'
import { ADMIN_EMAIL, ADMIN_PASSWORD, createSchemas, restingAfterGc, startFlowServer, type FlowServer, type PgSchemas } from './flow-server.js'
import { HealthProbe } from './health-probe.js'
import { percentile } from './load.js'
import { PgTripCounter } from './pg-trips.js'
import { printTrips, startRelayedServer } from './relayed-server.js'
import { fmtMb, fmtMs, type Goal } from './report.js'
import { RssSampler } from './rss.js'

/**
 * `npm run bench:flows -- fanout`: one execution whose `foreach` node runs a 2-node child flow (an `evercycle`
 * call to the simulator, then a `transform`) once per item, on PostgreSQL. It prints items/s over the parent's
 * end-to-end time, the server's RSS at rest before and after (after a forced GC) and its peak, rows and bytes
 * per item in the store's and the queue's tables, the server's CPU per item, and `/api/health` latency probed
 * meanwhile. Then, on a second server whose database connections go through a counting relay (not timed), the
 * database round trips, statements and transactions per item.
 */

export interface FanoutSettings {
  items: number
  /** Items of a first, discarded fan-out: JIT, pools, expression threads and the planner's statistics warm. */
  warmupItems: number
  /** The foreach node's concurrency. */
  concurrency: number
  /** The server's FLOWRUNNER_CONCURRENCY, and its account cap (the load is one account's). */
  workers: number
  accountConcurrency: number
  probeMs: number
  /** Items of the counted fan-out through the relay (0: none). */
  tripItems: number
  tripTop: number
  databaseUrl: string
  timeoutMs: number
}

/** Goals from issue 20. */
const GOAL_ITEMS_PER_S = 300
const GOAL_RSS_GROWTH = 100 * 1024 * 1024
const GOAL_HEALTH_P99_MS = 50

export const FANOUT_CHILD = `metadata:
  name: "bench: fan-out item"
  description: "One item: read an asset from Evercycle, keep three fields"
  version: "1.0.0"
  start: fetch

nodes:
  fetch:
    type: evercycle
    params:
      operation: get-asset-id
      params:
        id: "\${$string(1001 + input.item % 5)}"
    next:
      default: shape

  shape:
    type: transform
    params:
      expression: '{"index": input.index, "id": nodes.fetch.body.id, "grade": nodes.fetch.body.grade}'
`

export function fanoutParent(childId: string, concurrency: number): string {
  return `metadata:
  name: "bench: fan-out"
  description: "input.count items, each a child execution of the item flow"
  version: "1.0.0"
  start: each

nodes:
  each:
    type: foreach
    params:
      items: "\${[0..(input.count - 1)]}"
      flow: "${childId}"
      concurrency: ${concurrency}
`
}

export interface Io {
  log: (line?: string) => void
  progress: (line: string) => void
  /** Schemas to drop on the way out, whatever happens. */
  live: Set<PgSchemas>
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled'])
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Rows and bytes in the store's and the queue's schemas. */
interface Footprint {
  executions: number
  logs: number
  jobs: number
  archived: number
  bytes: number
}

async function footprint(databaseUrl: string, s: PgSchemas): Promise<Footprint> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const { rows } = await client.query<Record<keyof Footprint, string>>(
      `SELECT (SELECT count(*) FROM ${s.schema}.executions) AS executions,
              (SELECT count(*) FROM ${s.schema}.execution_logs) AS logs,
              (SELECT count(*) FROM ${s.queueSchema}.job) AS jobs,
              (SELECT count(*) FROM ${s.queueSchema}.archive) AS archived,
              (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname IN ($1, $2) AND c.relkind = 'r') AS bytes`,
      [s.schema, s.queueSchema]
    )
    const r = rows[0]
    if (r === undefined) throw new Error('no footprint row')
    return { executions: Number(r.executions), logs: Number(r.logs), jobs: Number(r.jobs), archived: Number(r.archived), bytes: Number(r.bytes) }
  } finally {
    await client.end()
  }
}

async function setUp(server: FlowServer, concurrency: number): Promise<{ api: FlowRunnerApi; parentId: string }> {
  const api = new FlowRunnerApi(server.url, { connections: 8 })
  await retryShed(() => api.login(ADMIN_EMAIL, ADMIN_PASSWORD))
  const child = await api.createFlow({ name: 'bench: fan-out item', definition: FANOUT_CHILD })
  const parent = await api.createFlow({ name: 'bench: fan-out', definition: fanoutParent(child.id, concurrency) })
  return { api, parentId: parent.id }
}

/** Runs the parent over `count` items and polls it (every `pollMs`) until it ends. */
async function fanOut(api: FlowRunnerApi, flowId: string, count: number, io: Io, timeoutMs: number, pollMs = 1000): Promise<{ createdAt: number; final: ExecutionReply; clientMs: number }> {
  const posted = Date.now()
  const run = await retryShed(() => api.run(flowId, { count }))
  const deadline = Date.now() + timeoutMs
  for (;;) {
    await sleep(pollMs)
    const e = await retryShed(() => api.execution(run.execution_id))
    if (TERMINAL.has(e.status)) return { createdAt: Date.parse(run.created_at), final: e, clientMs: Date.now() - posted }
    if (e.children !== undefined) {
      const c = e.children
      io.progress(`  ${c.completed + c.failed + c.cancelled}/${c.total} items ended (${c.running} running, ${c.queued} queued, ${c.failed} failed)`)
    }
    if (Date.now() > deadline) throw new Error(`fan-out ${run.execution_id} not over within ${timeoutMs} ms (status ${e.status})`)
  }
}

interface ForeachResult {
  total?: number
  completed?: number
  failed?: number
  cancelled?: number
  results?: unknown[]
  results_omitted?: boolean
}

function check(final: ExecutionReply, items: number): string[] {
  const problems: string[] = []
  if (final.status !== 'completed') problems.push(`parent ${final.id} ${final.status}${final.error === undefined ? '' : `: ${final.error}`}`)
  const r = (final.result ?? {}) as ForeachResult
  if (r.total !== items || r.completed !== items) problems.push(`result counts total ${r.total}, completed ${r.completed} (expected ${items} each)`)
  if ((r.failed ?? 0) + (r.cancelled ?? 0) > 0) problems.push(`${r.failed} items failed, ${r.cancelled} cancelled`)
  if (r.results_omitted !== true && r.results?.length !== items) problems.push(`results lists ${r.results?.length} items`)
  return problems
}

export async function runFanout(s: FanoutSettings, simUrl: string, io: Io): Promise<Goal[]> {
  const { log, progress } = io
  const title = `fan-out, PostgreSQL, ${s.items} items, foreach concurrency ${s.concurrency}, FLOWRUNNER_CONCURRENCY=${s.workers}`
  const schemas = await createSchemas(s.databaseUrl)
  io.live.add(schemas)
  progress(`${title}: starting the server (schemas ${schemas.schema}, ${schemas.queueSchema})`)
  const server = await startFlowServer({
    backend: 'postgres',
    concurrency: s.workers,
    simulatorUrl: simUrl,
    receiverPort: 9,
    env: { FLOWRUNNER_ACCOUNT_CONCURRENCY: String(s.accountConcurrency) },
    schemas
  })
  const goals: Goal[] = []
  let api: FlowRunnerApi | undefined
  try {
    const set = await setUp(server, s.concurrency)
    api = set.api
    const parentId = set.parentId
    progress(`${title}: warm-up fan-out of ${s.warmupItems} items`)
    const warm = await fanOut(api, parentId, s.warmupItems, io, s.timeoutMs)
    const warmProblems = check(warm.final, s.warmupItems)
    if (warmProblems.length > 0) throw new Error(`warm-up fan-out: ${warmProblems.join('; ')}`)

    const rssBefore = await restingAfterGc(server)
    const before = await footprint(s.databaseUrl, schemas)
    progress(`${title}: measured fan-out`)
    const probe = new HealthProbe(`${server.url}/api/health`, s.probeMs)
    const peak = new RssSampler(server.child.pid, 200)
    const cpu = new CpuMeter(server.child.pid)
    peak.start()
    cpu.start()
    const db0 = commandCpuMs('postgres')
    probe.start()
    const run = await fanOut(api, parentId, s.items, io, s.timeoutMs)
    const health = await probe.stop()
    const used = cpu.stop()
    const db1 = commandCpuMs('postgres')
    const dbMs = db0 === undefined || db1 === undefined ? undefined : db1 - db0
    peak.stop()
    const after = await footprint(s.databaseUrl, schemas)
    const rssAfter = await restingAfterGc(server)

    const problems = check(run.final, s.items)
    const completedAt = run.final.completed_at === null ? Number.NaN : Date.parse(run.final.completed_at)
    const e2eMs = completedAt - run.createdAt
    const itemsPerS = s.items / (e2eMs / 1000)
    const per = (a: number, b: number): string => ((a - b) / s.items).toFixed(2)
    const mb = (b: number | undefined): string => (b === undefined ? 'n/a' : fmtMb(b))
    const growth = rssBefore === undefined || rssAfter === undefined ? undefined : rssAfter - rssBefore
    const hp = (q: number): string => fmtMs(percentile(health.latencies, q))

    log()
    log(`${title}`)
    log(`  parent end to end   ${(e2eMs / 1000).toFixed(1)} s (created -> completed, server clock; client saw ${(run.clientMs / 1000).toFixed(1)} s, polling every 1 s)`)
    log(`  items/s             ${itemsPerS.toFixed(0)}`)
    const perItem = (ms: number | undefined): string => (ms === undefined ? 'n/a' : `${(ms / s.items).toFixed(2)} ms`)
    log(
      `  CPU per item        server ${perItem(used.serverMs)}, PostgreSQL ${perItem(dbMs)} (all its processes, whoever they serve); ` +
        `machine busy ${used.machineBusy === undefined ? 'n/a' : `${Math.round(used.machineBusy * 100)}%`}`
    )
    log(`  server RSS          at rest ${mb(rssBefore)} before -> ${mb(rssAfter)} after (${growth === undefined ? 'n/a' : `${growth >= 0 ? '+' : ''}${fmtMb(growth)}`}), peak ${fmtMb(peak.peak)}`)
    log(
      `  rows per item       executions ${per(after.executions, before.executions)}, execution_logs ${per(after.logs, before.logs)}, ` +
        `pg-boss job ${per(after.jobs, before.jobs)} (+ archive ${per(after.archived, before.archived)}); ` +
        `${((after.bytes - before.bytes) / s.items / 1024).toFixed(2)} kB per item on disk (tables, indexes, TOAST)`
    )
    log(`  GET /api/health     ${health.latencies.length} probes every ${s.probeMs} ms: p50 ${hp(50)}, p99 ${hp(99)}, max ${fmtMs(health.latencies[health.latencies.length - 1] ?? Number.NaN)} ms; ${health.failures} failed`)
    for (const p of problems) log(`  error: ${p}`)

    goals.push({ ok: itemsPerS >= GOAL_ITEMS_PER_S, text: `${title}: >= ${GOAL_ITEMS_PER_S} items/s: ${itemsPerS.toFixed(0)}/s` })
    goals.push({ ok: growth !== undefined && growth < GOAL_RSS_GROWTH, text: `${title}: RSS growth at rest < ${fmtMb(GOAL_RSS_GROWTH)}: ${growth === undefined ? 'n/a' : fmtMb(growth)}` })
    const p99 = percentile(health.latencies, 99)
    goals.push({ ok: p99 < GOAL_HEALTH_P99_MS && health.failures === 0, text: `${title}: /api/health p99 < ${GOAL_HEALTH_P99_MS} ms meanwhile: ${fmtMs(p99)} ms, ${health.failures} failed` })
    goals.push({ ok: problems.length === 0, text: `${title}: every item completed: ${problems.length === 0 ? 'yes' : problems.join('; ')}` })
  } finally {
    await api?.close()
    await server.child.stop()
    await server.cleanup()
    await schemas.drop()
    io.live.delete(schemas)
  }
  if (s.tripItems > 0) await countFanoutTrips(s, simUrl, io)
  return goals
}

/** The database work per item, counted on a server whose connections go through the relay. */
async function countFanoutTrips(s: FanoutSettings, simUrl: string, io: Io): Promise<void> {
  io.progress(`fan-out round trips: ${s.tripItems} items through the counting relay (not timed)`)
  const { server, relay, close } = await startRelayedServer(
    s.databaseUrl,
    { concurrency: s.workers, simulatorUrl: simUrl, receiverPort: 9, env: { FLOWRUNNER_ACCOUNT_CONCURRENCY: String(s.accountConcurrency) } },
    io.live
  )
  let api: FlowRunnerApi | undefined
  try {
    const set = await setUp(server, s.concurrency)
    api = set.api
    const parentId = set.parentId
    // one small fan-out first: the flows' specs cached, each pooled connection's statements prepared
    await fanOut(api, parentId, Math.min(100, s.tripItems), io, s.timeoutMs, 200)
    await sleep(1500)
    const before = relay.snapshot()
    const run = await fanOut(api, parentId, s.tripItems, io, s.timeoutMs, 200)
    // the last item's statements are committed before the parent's end is: let the relay see the end of it all
    await sleep(1500)
    const d = PgTripCounter.delta(before, relay.snapshot())
    const problems = check(run.final, s.tripItems)
    printTrips(io.log, `fan-out of ${s.tripItems} items (includes the bench's polls of the parent, every 200 ms, and the server's idle polling)`, d, s.tripItems, 'item', s.tripTop)
    for (const p of problems) io.log(`  error: ${p}`)
  } finally {
    await api?.close()
    await close()
  }
}
