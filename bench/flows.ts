import { randomBytes } from 'node:crypto'
import { cpus, loadavg } from 'node:os'
import { DEMO_INPUT, setUpDemoFlow } from '../dev/demo/demo-flow.js'
import { FlowRunnerApi } from '../dev/demo/flowrunner-api.js'
import { killChildrenOnExit, runBench, stopAll } from './lib/children.js'
import { CpuMeter } from './lib/cpu.js'
import { closedLoop, retryShed, serverTimes } from './lib/flow-load.js'
import { ADMIN_EMAIL, ADMIN_PASSWORD, createSchemas, startFlowServer, startReceiver, type Backend, type FlowServer, type PgSchemas, type Receiver } from './lib/flow-server.js'
import { percentile } from './lib/load.js'
import { closeGoals, fmtMb, fmtMs, type Goal } from './lib/report.js'
import type { Inspector } from './lib/flow-inspector.js'
import { restingRss } from './lib/rss.js'
import { startSimulator } from './lib/targets.js'
import { envCount, envNumber } from './lib/env.js'
import { runFanout, type FanoutSettings } from './lib/fanout.js'
import { runIdleSchedules } from './lib/idle-schedules.js'
import { countSingleTrips } from './lib/flow-trips.js'

/**
 * `npm run bench:flows [-- <scenario>...]`, scenarios (all when none is named):
 *
 *   single   FlowRunner executions per second for the demo's flow (transform → evercycle get-all against the
 *            simulator → condition → signed webhook to the demo's receiver), on PGlite and on PostgreSQL, at
 *            each worker concurrency
 *   trips    the database round trips, statements and transactions one such execution costs on PostgreSQL,
 *            counted by a relay on a server of its own (bench/lib/flow-trips.ts)
 *   fanout   one execution whose foreach node runs a 2-node child flow over 10,000 items on PostgreSQL: items/s,
 *            RSS, rows per item, /api/health latency meanwhile, then round trips per item (bench/lib/fanout.ts)
 *   idle     what schedules cost while none fires: server and postgres CPU over a window with no schedule, then
 *            with BENCH_IDLE_SCHEDULES (100) flows with a schedule each (bench/lib/idle-schedules.ts)
 *
 * The server runs from the built dist as its own child process (NODE_ENV=production, LOG_LEVEL=warn), so its
 * event loop is not shared with the load generator; simulator and receiver are children too. Goals are
 * reported as PASS/FAIL; the exit code is non-zero only on a crash or a broken run.
 *
 *   BENCH_EXECUTIONS (1000)      executions per measured round
 *   BENCH_CONCURRENCY (10,50)    FLOWRUNNER_CONCURRENCY values; the load keeps as many executions in flight
 *   BENCH_BACKENDS (pglite,postgres)
 *   BENCH_ROUNDS (3)             measured rounds per server (the last must not end with more RSS than the others)
 *   BENCH_WARMUP (1000)          executions run and discarded before the first round: the goals are about a
 *                                server in its steady state, and the first ~1,000 executions run on a cold JIT
 *                                and a fresh schema the planner has no statistics for yet (20-30 % slower)
 *   BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/test)  fresh schemas are made in it and dropped
 *   BENCH_DEADLINE_SECONDS (1500) the whole bench is stopped (children killed, schemas dropped) after this
 *   BENCH_ACCOUNT_CONCURRENCY   the server's FLOWRUNNER_ACCOUNT_CONCURRENCY; default: the concurrency, since all
 *                                the load is one account's and the fairness cap would otherwise hold it to half
 *   BENCH_SERVER_NODE_ARGS      node flags for the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
 *   BENCH_REWARM (300)           executions run and discarded before each later round: the forced GC that ends a
 *                                round also shrinks V8's young generation, and a round started on it pays ~0.8 ms
 *                                more server CPU per execution while the heap grows back
 *   BENCH_HEAP_SNAPSHOTS        a directory: a heap snapshot of the server is written there after each round's
 *                                forced GC (open two in Chrome DevTools, Memory, Comparison); taking one raises the
 *                                server's RSS for good (~130 MB), so RSS is not comparable in such a run
 *   BENCH_TRIP_EXECUTIONS (500)  trips: executions counted (after BENCH_TRIP_WARMUP (200)), at each BENCH_CONCURRENCY
 *   BENCH_TRIPS_TOP (12)         trips, fanout: the most frequent statements listed, per execution or item (0: none)
 *   BENCH_FANOUT_ITEMS (10000)   fanout: items of the measured execution (after BENCH_FANOUT_WARMUP (1000) items)
 *   BENCH_FANOUT_CONCURRENCY (50) the foreach node's concurrency
 *   BENCH_FANOUT_WORKERS (50)    the server's FLOWRUNNER_CONCURRENCY (and account cap, BENCH_ACCOUNT_CONCURRENCY
 *                                otherwise): with the defaults' 10 (5 for one account) the items could not run 50 at once
 *   BENCH_FANOUT_PROBE_MS (50)   the /api/health probe's interval (20 per second)
 *   BENCH_FANOUT_TRIP_ITEMS (1000) items of the fan-out counted through the relay afterwards (0: none)
 *   BENCH_IDLE_SCHEDULES (100)   idle: schedules created;  BENCH_IDLE_SECONDS (60): each measured window
 *
 * "At rest" memory is read after a full garbage collection that the bench forces through the server's inspector
 * (the server runs with --inspect on a loopback port, bench only): without it, RSS at rest says how far the heap
 * had grown since V8's last major GC, which rises and falls by tens of MB from round to round with no leak.
 */
function envList(name: string, fallback: string): string[] {
  return (process.env[name] ?? fallback).split(',').map((s) => s.trim()).filter((s) => s !== '')
}

const settings = {
  executions: Math.round(envNumber('BENCH_EXECUTIONS', 1000)),
  concurrencies: envList('BENCH_CONCURRENCY', '10,50').map(Number),
  backends: envList('BENCH_BACKENDS', 'pglite,postgres') as Backend[],
  rounds: Math.round(envNumber('BENCH_ROUNDS', 3)),
  warmup: Math.round(envNumber('BENCH_WARMUP', 1000)),
  rewarm: Math.round(envNumber('BENCH_REWARM', 300)),
  databaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  deadlineSeconds: envNumber('BENCH_DEADLINE_SECONDS', 1500),
  accountConcurrency: process.env.BENCH_ACCOUNT_CONCURRENCY === undefined ? undefined : Math.round(envNumber('BENCH_ACCOUNT_CONCURRENCY', 1)),
  tripExecutions: Math.round(envNumber('BENCH_TRIP_EXECUTIONS', 500)),
  tripWarmup: Math.round(envNumber('BENCH_TRIP_WARMUP', 200)),
  tripTop: envCount('BENCH_TRIPS_TOP', 12)
}
for (const b of settings.backends) if (b !== 'pglite' && b !== 'postgres') throw new Error(`unknown backend ${b}`)
for (const c of settings.concurrencies) if (!Number.isInteger(c) || c < 1) throw new Error(`bad concurrency ${c}`)

const fanoutWorkers = Math.round(envNumber('BENCH_FANOUT_WORKERS', 50))
const fanout: FanoutSettings = {
  items: Math.round(envNumber('BENCH_FANOUT_ITEMS', 10_000)),
  warmupItems: Math.round(envNumber('BENCH_FANOUT_WARMUP', 1000)),
  concurrency: Math.round(envNumber('BENCH_FANOUT_CONCURRENCY', 50)),
  workers: fanoutWorkers,
  accountConcurrency: settings.accountConcurrency ?? fanoutWorkers,
  probeMs: envNumber('BENCH_FANOUT_PROBE_MS', 50),
  tripItems: envCount('BENCH_FANOUT_TRIP_ITEMS', 1000),
  tripTop: settings.tripTop,
  databaseUrl: settings.databaseUrl,
  timeoutMs: 600_000
}

const SCENARIOS = ['single', 'trips', 'fanout', 'idle'] as const
type Scenario = (typeof SCENARIOS)[number]
const named = process.argv.slice(2).filter((a) => a !== '')
for (const n of named) if (!(SCENARIOS as readonly string[]).includes(n)) throw new Error(`unknown scenario ${n}: one of ${SCENARIOS.join(', ')}`)
const scenarios = new Set<Scenario>(named.length === 0 ? SCENARIOS : (named as Scenario[]))

/** Goals from issue 7. */
const GOAL_EXEC_PER_S = 250
const GOAL_Q2S_P99_MS = 50
/** RSS "no growth": the last round may end at most this much above the highest earlier round (allocator noise). */
const RSS_TOLERANCE = 0.05
const EXECUTION_TIMEOUT_MS = 60_000

const BACKEND_NAME: Record<Backend, string> = { pglite: 'PGlite (embedded)', postgres: 'PostgreSQL' }

const log = (line = ''): void => {
  process.stdout.write(`${line}\n`)
}
const progress = (line: string): void => {
  process.stderr.write(`  .. ${line}\n`)
}

/** Schemas not yet dropped: a signal or the deadline drops them on the way out. */
const liveSchemas = new Set<PgSchemas>()
async function dropSchemas(): Promise<void> {
  await Promise.all([...liveSchemas].map((s) => s.drop().then(() => liveSchemas.delete(s))))
}

const sorted = (values: number[]): Float64Array => Float64Array.from(values).sort()
const p = (values: Float64Array, q: number): number => percentile(values, q)

interface Round {
  execPerSec: number
  queueToStart: Float64Array
  endToEnd: Float64Array
  clientEndToEnd: Float64Array
  wsLag: Float64Array
  rssBefore: number | undefined
  rssAfter: number | undefined
  /** V8 heap used after the forced GC at the round's end: what the server really keeps. */
  heapAfter: number
  /** CPU milliseconds per execution: the server process, and the bench (load generator) itself. */
  serverCpuMs: number | undefined
  benchCpuMs: number
  /** Share of the machine's cores busy during the round (everything, other users included). */
  machineBusy: number | undefined
  /** Requests the server refused with 503 overloaded (retried after a pause). */
  shed: number
  /** Failed requests/sockets, executions that did not complete, deliveries missing or refused. */
  errors: string[]
}

async function runRound(
  api: FlowRunnerApi,
  wsBase: string,
  flowId: string,
  inflight: number,
  total: number,
  receiver: Receiver,
  pid: number,
  inspect: FlowServer['inspect'],
  index: number
): Promise<Round> {
  if (index > 1) {
    const rewarm = await closedLoop({ api, wsBase, flowId, input: DEMO_INPUT, total: settings.rewarm, inflight, executionTimeoutMs: EXECUTION_TIMEOUT_MS })
    if (rewarm.errors.length > 0) throw new Error(`re-warm failed: ${rewarm.errors.slice(0, 3).join('; ')}`)
  }
  const rssBefore = await restingRss(pid)
  const before = await receiver.counts()
  const cpu = new CpuMeter(pid)
  cpu.start()
  const load = await closedLoop({ api, wsBase, flowId, input: DEMO_INPUT, total, inflight, executionTimeoutMs: EXECUTION_TIMEOUT_MS })
  const used = cpu.stop()
  const { rssAfter, heapAfter } = await inspect(async (inspector) => {
    const rss = await restAfterGc(inspector, pid)
    const heap = (await inspector.memoryUsage()).heapUsed
    const snapshots = process.env.BENCH_HEAP_SNAPSHOTS
    if (snapshots !== undefined && snapshots !== '') await inspector.heapSnapshot(`${snapshots}/server-${pid}-round-${index}.heapsnapshot`)
    return { rssAfter: rss, heapAfter: heap }
  })
  const after = await receiver.counts()
  const times = await serverTimes(api, load.samples)
  const errors = [...load.errors, ...times.problems]
  const delivered = after.accepted - before.accepted
  if (delivered !== total) errors.push(`receiver accepted ${delivered} signed deliveries, expected ${total}`)
  if (after.rejected !== before.rejected) errors.push(`receiver refused ${after.rejected - before.rejected} deliveries (bad signature)`)
  for (const s of load.samples) if (s.finalType !== 'execution_completed') errors.push(`${s.id}: ${s.finalType}`)
  return {
    execPerSec: load.samples.length / load.wallSeconds,
    queueToStart: sorted(times.queueToStartMs),
    endToEnd: sorted(times.endToEndMs),
    clientEndToEnd: sorted(load.samples.map((s) => s.finalAt - s.postedAt)),
    wsLag: sorted(load.wsLagsMs),
    rssBefore,
    rssAfter,
    heapAfter,
    serverCpuMs: used.serverMs === undefined ? undefined : used.serverMs / Math.max(1, load.samples.length),
    benchCpuMs: used.selfMs / Math.max(1, load.samples.length),
    machineBusy: used.machineBusy,
    shed: load.shed,
    errors
  }
}

/** The server's RSS at rest, read after a full GC forced through its inspector (then sampled as before). */
async function restAfterGc(inspector: Inspector, pid: number): Promise<number | undefined> {
  // let in-flight work (job completions, socket closes) settle, so the GC sees what is really kept
  await new Promise((r) => setTimeout(r, 500))
  await inspector.collectGarbage()
  await inspector.collectGarbage()
  return restingRss(pid)
}

const COLUMNS: Array<[string, number]> = [
  ['round', 6],
  ['exec/s', 7],
  ['start p50', 10],
  ['start p99', 10],
  ['e2e p50', 8],
  ['e2e p99', 8],
  ['client p99', 11],
  ['ws lag p50', 11],
  ['ws lag p99', 11],
  ['RSS before', 11],
  ['RSS after', 10],
  ['heap after', 11],
  ['srv CPU', 8],
  ['bench CPU', 10],
  ['busy', 5],
  ['shed', 5],
  ['errors', 7]
]

function line(cells: string[]): string {
  return `  ${cells.map((c, i) => (i === 0 ? c.padEnd(COLUMNS[i]?.[1] ?? 0) : c.padStart(COLUMNS[i]?.[1] ?? 0))).join(' ')}`
}

function roundLine(label: string, r: Round): string {
  const mb = (b: number | undefined): string => (b === undefined ? 'n/a' : fmtMb(b))
  return line([
    label,
    r.execPerSec.toFixed(0),
    fmtMs(p(r.queueToStart, 50)),
    fmtMs(p(r.queueToStart, 99)),
    fmtMs(p(r.endToEnd, 50)),
    fmtMs(p(r.endToEnd, 99)),
    fmtMs(p(r.clientEndToEnd, 99)),
    fmtMs(p(r.wsLag, 50)),
    fmtMs(p(r.wsLag, 99)),
    mb(r.rssBefore),
    mb(r.rssAfter),
    fmtMb(r.heapAfter),
    r.serverCpuMs === undefined ? 'n/a' : r.serverCpuMs.toFixed(2),
    r.benchCpuMs.toFixed(2),
    r.machineBusy === undefined ? 'n/a' : `${Math.round(r.machineBusy * 100)}%`,
    String(r.shed),
    String(r.errors.length)
  ])
}

function pooled(rounds: Round[], pick: (r: Round) => Float64Array): Float64Array {
  return sorted(rounds.flatMap((r) => [...pick(r)]))
}

async function runServer(backend: Backend, concurrency: number, simUrl: string, receiver: Receiver, secret: string): Promise<Goal[]> {
  const schemas = backend === 'postgres' ? await createSchemas(settings.databaseUrl) : undefined
  if (schemas !== undefined) liveSchemas.add(schemas)
  const title = `${BACKEND_NAME[backend]}, FLOWRUNNER_CONCURRENCY=${concurrency}`
  progress(`${title}: starting the server${schemas === undefined ? '' : ` (schemas ${schemas.schema}, ${schemas.queueSchema})`}`)
  // the load is one account's: with the fairness cap at its default (half the slots) this would measure the cap
  const accountCap = String(settings.accountConcurrency ?? concurrency)
  const server = await startFlowServer({
    backend,
    concurrency,
    simulatorUrl: simUrl,
    receiverPort: receiver.port,
    env: { FLOWRUNNER_ACCOUNT_CONCURRENCY: accountCap },
    ...(schemas === undefined ? {} : { schemas })
  })
  const api = new FlowRunnerApi(server.url, { connections: concurrency + 8 })
  const wsBase = server.url.replace(/^http/, 'ws')
  try {
    // the server may shed the first requests after a boot that blocked its event loop (PGlite's start)
    const setup = await retryShed(() =>
      setUpDemoFlow(api, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, receiverUrl: receiver.url, secret: { value: secret, created: true } })
    )
    progress(`${title}: warm-up, ${settings.warmup} executions`)
    const warm = await closedLoop({ api, wsBase, flowId: setup.flowId, input: DEMO_INPUT, total: settings.warmup, inflight: concurrency, executionTimeoutMs: EXECUTION_TIMEOUT_MS })
    if (warm.errors.length > 0) throw new Error(`warm-up failed: ${warm.errors.slice(0, 3).join('; ')}`)
    const rounds: Round[] = []
    for (let i = 1; i <= settings.rounds; i++) {
      progress(`${title}: round ${i}/${settings.rounds}, ${settings.executions} executions, ${concurrency} in flight`)
      rounds.push(await runRound(api, wsBase, setup.flowId, concurrency, settings.executions, receiver, server.child.pid, server.inspect, i))
    }
    log()
    log(`${title}: ${settings.executions} executions per round, ${concurrency} in flight`)
    log(line(COLUMNS.map(([name]) => name)))
    rounds.forEach((r, i) => log(roundLine(String(i + 1), r)))
    const all = {
      start: pooled(rounds, (r) => r.queueToStart),
      e2e: pooled(rounds, (r) => r.endToEnd),
      client: pooled(rounds, (r) => r.clientEndToEnd),
      lag: pooled(rounds, (r) => r.wsLag)
    }
    const rates = rounds.map((r) => r.execPerSec).sort((a, b) => a - b)
    const medianRate = rates[Math.floor((rates.length - 1) / 2)] ?? 0
    const errors = rounds.flatMap((r) => r.errors)
    log(
      `  all rounds: start p50/p99 ${fmtMs(p(all.start, 50))}/${fmtMs(p(all.start, 99))} ms, e2e ${fmtMs(p(all.e2e, 50))}/${fmtMs(p(all.e2e, 99))} ms, ` +
        `client e2e ${fmtMs(p(all.client, 50))}/${fmtMs(p(all.client, 99))} ms, ws lag ${fmtMs(p(all.lag, 50))}/${fmtMs(p(all.lag, 99))} ms ` +
        `(${all.lag.length} live messages), max start ${fmtMs(all.start[all.start.length - 1] ?? Number.NaN)} ms`
    )
    for (const e of errors.slice(0, 5)) log(`  error: ${e}`)
    if (errors.length > 5) log(`  ... and ${errors.length - 5} more errors`)

    const goals: Goal[] = []
    if (backend === 'postgres') {
      goals.push({ ok: medianRate >= GOAL_EXEC_PER_S, text: `${title}: >= ${GOAL_EXEC_PER_S} executions/s (median round): ${medianRate.toFixed(0)}/s` })
    }
    const p99 = p(all.start, 99)
    goals.push({ ok: p99 < GOAL_Q2S_P99_MS, text: `${title}: p99 created -> first node started < ${GOAL_Q2S_P99_MS} ms: ${fmtMs(p99)} ms` })
    const rss = rounds.map((r) => r.rssAfter).filter((b): b is number => b !== undefined)
    const last = rss[rss.length - 1]
    if (last !== undefined && rss.length === rounds.length && rounds.length > 1) {
      // a heap that is still sizing itself up climbs for a while and then levels off; a leak keeps climbing,
      // so the last round must not end above every earlier one (by more than allocator noise)
      const plateau = Math.max(...rss.slice(0, -1))
      const growth = last - plateau
      goals.push({
        ok: growth <= plateau * RSS_TOLERANCE,
        text:
          `${title}: no RSS growth across rounds (at rest after a forced GC, last round's end not above the earlier highest by > ${RSS_TOLERANCE * 100}%): ` +
          `${rss.map(fmtMb).join(' -> ')} (${growth >= 0 ? '+' : ''}${fmtMb(growth)}; heap after GC ${rounds.map((r) => fmtMb(r.heapAfter)).join(' -> ')})`
      })
    }
    goals.push({ ok: errors.length === 0, text: `${title}: every execution completed and delivered a valid signed webhook: ${errors.length} errors` })
    return goals
  } finally {
    await api.close()
    await server.child.stop()
    await server.cleanup()
    if (schemas !== undefined) {
      await schemas.drop()
      liveSchemas.delete(schemas)
    }
  }
}

async function main(): Promise<number> {
  killChildrenOnExit(dropSchemas)
  const deadline = setTimeout(() => {
    process.stderr.write(`\nbench deadline of ${settings.deadlineSeconds} s reached: stopping\n`)
    void Promise.race([Promise.all([stopAll(), dropSchemas()]), new Promise((r) => setTimeout(r, 5000))]).then(() => process.exit(2))
  }, settings.deadlineSeconds * 1000)
  deadline.unref()

  const started = Date.now()
  log(`FlowRunner flows bench: node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; scenarios: ${[...scenarios].join(', ')}`)
  log(
    'server: built dist as a child process, NODE_ENV=production, LOG_LEVEL=warn; simulator and webhook receiver are children too; ' +
      'load generator, server, database, simulator and receiver share the machine'
  )
  if (scenarios.has('single') || scenarios.has('trips')) {
    log(
      `single: the demo's flow (transform -> evercycle get-all -> condition -> signed webhook; 4 nodes run per execution), input ${JSON.stringify(DEMO_INPUT)}`
    )
  }
  if (scenarios.has('single')) {
    log(
      `load: closed loop, as many executions in flight as FLOWRUNNER_CONCURRENCY, each watched over its own WebSocket until its final message; ` +
        `${settings.warmup} warm-up executions, then ${settings.rounds} round(s) of ${settings.executions}`
    )
    log(
      'columns (ms): start = created_at -> "Execution started" log row (the first node begins); e2e = created_at -> completed_at (server clock); ' +
        'client = POST sent -> final WebSocket message received; ws lag = message receipt - its timestamp; RSS = server process at rest, before the round and after it (after = after a forced full GC); heap after = V8 heap used after that GC; ' +
        'srv/bench CPU = CPU ms per execution of the server process / of this load generator; busy = share of all cores busy during the round (anything running); ' +
        'shed = requests refused 503 overloaded by the server\'s load shedding, retried after 1 s'
    )
  }
  if (scenarios.has('fanout')) {
    log(
      `fanout: one execution of a foreach over input.count items, concurrency ${fanout.concurrency}, each item a child execution of ` +
        '(evercycle get-asset-id -> transform); the server with FLOWRUNNER_CONCURRENCY and FLOWRUNNER_ACCOUNT_CONCURRENCY ' +
        `${fanout.workers}/${fanout.accountConcurrency}; ${fanout.warmupItems} warm-up items first; /api/health probed every ${fanout.probeMs} ms meanwhile`
    )
  }
  const secret = randomBytes(24).toString('base64url')
  const sim = await startSimulator(0)
  const receiver = await startReceiver(secret)
  const goals: Goal[] = []
  const io = { log, progress, live: liveSchemas }
  try {
    if (scenarios.has('single')) {
      for (const backend of settings.backends) {
        for (const concurrency of settings.concurrencies) goals.push(...(await runServer(backend, concurrency, sim.url, receiver, secret)))
      }
    }
    if (scenarios.has('trips')) {
      for (const concurrency of settings.concurrencies) {
        const trips = {
          executions: settings.tripExecutions,
          warmup: settings.tripWarmup,
          concurrency,
          accountConcurrency: settings.accountConcurrency ?? concurrency,
          top: settings.tripTop,
          databaseUrl: settings.databaseUrl
        }
        await countSingleTrips(trips, sim.url, receiver, secret, io)
      }
    }
    if (scenarios.has('fanout')) goals.push(...(await runFanout(fanout, sim.url, io)))
    if (scenarios.has('idle')) {
      const idle = { schedules: envCount('BENCH_IDLE_SCHEDULES', 100), seconds: envCount('BENCH_IDLE_SECONDS', 60), databaseUrl: settings.databaseUrl }
      goals.push(...(await runIdleSchedules(idle, sim.url, io)))
    }
  } finally {
    await Promise.all([sim.child.stop(), receiver.child.stop()])
  }
  return closeGoals(log, goals, started)
}

await runBench(main, dropSchemas)
