import { performance } from 'node:perf_hooks'
import { FlowRunnerApi } from '../../dev/demo/flowrunner-api.js'
import { measureAtRate } from './fixed-rate.js'
import { retryShed } from './flow-load.js'
import { ADMIN_EMAIL, ADMIN_PASSWORD, createSchemas, startFlowServer, type Backend, type PgSchemas } from './flow-server.js'
import { freePort, getText, waitFor200 } from './http.js'
import { measure, type LoadTarget, type Measurement } from './load.js'
import { fmtMs, rateTable, table, withCommand, type Goal } from './report.js'
import {
  BENCH_API_KEY,
  gatewayClientHeaders,
  simulatorCounts,
  simulatorPerSecond,
  startGateway,
  startMinimalProxy,
  startSimulator
} from './targets.js'

/**
 * Issue 22's two upstream goals for `npm run bench`: coalescing of identical polls (`coalesce`) and the
 * upstream budget under a mixed load of gateway calls and flow executions (`budget`). Both read what reached
 * "Evercycle" from the simulator's own counters (`/__sim/calls`, `/__sim/per-second`), not from the gateway.
 */

type Log = (line?: string) => void

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const fmtRps = (rps: number): string => Math.round(rps).toLocaleString('en-US')

const UPSTREAM_MS = 50

export interface CoalescingSettings {
  seconds: number
  warmupSeconds: number
  connections: number
}

/**
 * 400 connections polling the same `GET /api/get-all` (identical URL, caching off: get-all declares no cache)
 * through the minimal proxy and through the gateway, over a 50 ms upstream. The simulator's API call count is
 * read when each measured window opens and closes. Coalescing keeps at most one upstream call in flight for the
 * URL, and each takes at least the simulator's 50 ms, so a window of D ms can hold at most ceil(D / 50) calls
 * that started inside it, plus the one already in flight when it opened and the one a reply was on its way to
 * when it closed (the counter moves when the simulator answers): the bound checked is ceil(D / 50) + 2.
 */
export async function runCoalescing(s: CoalescingSettings, log: Log, progress: (line: string) => void): Promise<Goal[]> {
  const command = 'npm run build && BENCH_ONLY=coalesce node dist/bench/gateway.js'
  const sim = await startSimulator(UPSTREAM_MS)
  const proxy = await startMinimalProxy(sim.url)
  const gateway = await startGateway(sim.url)
  try {
    const targets: LoadTarget[] = [
      { name: 'minimal proxy', url: `${proxy.url}/api/get-all`, headers: {}, pid: proxy.child.pid },
      { name: 'gateway', url: `${gateway.url}/api/get-all`, headers: gatewayClientHeaders, pid: gateway.child.pid }
    ]
    const results: Array<{ m: Measurement; calls: number; windowMs: number }> = []
    for (const target of targets) {
      const first = await getText(target.url, target.headers)
      if (first.status !== 200) throw new Error(`${target.name} answered ${first.status}: ${first.body.slice(0, 300)}`)
      progress(`coalescing: ${target.name}, ${s.connections} connections on one URL`)
      let before: Promise<number> | undefined
      let after: Promise<number> | undefined
      let t0 = 0
      let t1 = 0
      const m = await measure(target, s.connections, s.seconds, s.warmupSeconds, {
        onWindowStart: () => {
          t0 = performance.now()
          before = simulatorCounts(sim.url).then((c) => c.apiCalls)
        },
        onWindowEnd: () => {
          t1 = performance.now()
          after = simulatorCounts(sim.url).then((c) => c.apiCalls)
        }
      })
      if (before === undefined || after === undefined) throw new Error('the measured window never closed')
      results.push({ m, calls: (await after) - (await before), windowMs: t1 - t0 })
    }
    const [p, g] = results
    if (p === undefined || g === undefined) throw new Error('missing measurement')
    const ratio = g.m.rps / p.m.rps
    const bound = Math.ceil(g.windowMs / UPSTREAM_MS) + 2
    const failures = g.m.errors + g.m.non2xx
    log()
    log(`coalescing: ${s.connections} connections polling one URL, GET get-all (identical, caching off), upstream at ${UPSTREAM_MS} ms, ${s.seconds} s per target`)
    log(table([p.m, g.m]))
    for (const r of results) {
      log(
        `  ${r.m.target}: ${r.calls.toLocaleString('en-US')} upstream calls in ${(r.windowMs / 1000).toFixed(2)} s ` +
          `(${fmtRps((r.calls * 1000) / r.windowMs)}/s; one per ${fmtMs(r.windowMs / Math.max(1, r.calls))} ms), ` +
          `${(r.m.requests / Math.max(1, r.calls)).toFixed(1)} replies per upstream call`
      )
    }
    log(
      `  gateway/proxy ${ratio.toFixed(2)}x. In a closed loop each of the ${s.connections} connections waits for its reply before it asks ` +
        `again, and a coalesced reply still waits for an upstream call of ${UPSTREAM_MS} ms, so neither can exceed ` +
        `${s.connections} / ${UPSTREAM_MS} ms = ${fmtRps((s.connections * 1000) / UPSTREAM_MS)} req/s: the throughput ratio is bounded near 1x here; ` +
        `what coalescing changes is the upstream's load`
    )
    return [
      withCommand(
        {
          ok: ratio >= 3 && failures === 0,
          text: `coalescing (caching off), ${s.connections} connections polling get-all over a ${UPSTREAM_MS} ms upstream: gateway >= 3x the minimal proxy's throughput: ${ratio.toFixed(2)}x (${fmtRps(g.m.rps)} vs ${fmtRps(p.m.rps)} req/s), ${failures} errors/non-2xx`
        },
        command
      ),
      withCommand(
        {
          ok: g.calls <= bound,
          text: `coalescing: at most one upstream call per ${UPSTREAM_MS} ms window: ${g.calls} calls in ${(g.windowMs / 1000).toFixed(2)} s (bound ceil(${Math.round(g.windowMs)} / ${UPSTREAM_MS}) + 2 = ${bound}; the proxy made ${p.calls.toLocaleString('en-US')})`
        },
        command
      )
    ]
  } finally {
    await Promise.all([gateway.child.stop(), proxy.child.stop(), sim.child.stop()])
    await gateway.cleanup()
  }
}

export interface BudgetSettings {
  /** The budget (UPSTREAM_RATE_LIMIT) and the simulator's own limit, requests per second. */
  rate: number
  /** Flow executions started, each making one Evercycle call. */
  executions: number
  /** Connections starting flow executions (closed loop: POST run, then the next). */
  flowConnections: number
  /** Gateway calls per second (open loop, each its own query), over `gatewayConnections` connections. */
  gatewayRate: number
  gatewayConnections: number
  gatewaySeconds: number
  /** Gateway calls of the first seconds not counted: the first second's burst and what follows it. */
  gatewaySkipSeconds: number
  timeoutMs: number
  /** The flow store: PostgreSQL (in `databaseUrl`, fresh schemas dropped after) or PGlite. */
  backend: Backend
  databaseUrl: string
}

const budgetFlow = (): string => `metadata:
  name: "bench: upstream budget"
  description: "One Evercycle call whose query is the execution's own, so none is coalesced with another"
  version: "1.0.0"
  start: fetch

nodes:
  fetch:
    type: evercycle
    params:
      operation: get-all
      query:
        n: "\${$string(input.n)}"
`

const FINAL = new Set(['completed', 'failed', 'cancelled'])

/**
 * One server (gateway routes and FlowRunner, on PostgreSQL unless told PGlite) with UPSTREAM_RATE_LIMIT at `rate`, in front of a simulator
 * that answers 429 past the same rate (fixed one-second windows), so any breach shows as 429s. The load starts on
 * a whole second of the clock (the simulator counts arrivals per whole second), after the budget's bucket had a
 * second to fill: `flowConnections` connections start `executions` flow executions as fast as the server takes
 * them (each calls get-all with a query of its own), and the gateway gets `gatewayRate` get-all calls per second
 * (open loop, distinct queries) on `gatewayConnections` connections. Every execution is then polled until it ends.
 */
export async function runBudget(s: BudgetSettings, log: Log, progress: (line: string) => void): Promise<Goal[]> {
  const command = 'npm run build && BENCH_ONLY=budget node dist/bench/gateway.js'
  progress(`budget: starting the simulator and the server (${s.backend})`)
  const sim = await startSimulator(UPSTREAM_MS, ['--rate-limit', String(s.rate)])
  let schemas: PgSchemas | undefined
  if (s.backend === 'postgres') schemas = await createSchemas(s.databaseUrl)
  const server = await startFlowServer({
    backend: s.backend,
    schemas,
    concurrency: 50,
    simulatorUrl: sim.url,
    receiverPort: await freePort(),
    env: { UPSTREAM_RATE_LIMIT: String(s.rate), FLOWRUNNER_ACCOUNT_CONCURRENCY: '50', GATEWAY_API_KEYS: BENCH_API_KEY }
  })
  const api = new FlowRunnerApi(server.url, { connections: s.flowConnections })
  try {
    await waitFor200(`${server.url}/api/ready`, 30_000, () => server.child.exited, gatewayClientHeaders)
    await api.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    const flow = await api.createFlow({ name: 'bench: upstream budget', definition: budgetFlow(), tags: ['bench'] })
    const gatewayTarget: LoadTarget = { name: 'gateway', url: `${server.url}/api/get-all?from=gateway`, headers: gatewayClientHeaders }

    // warm-up, well inside the budget: JIT, pools, the expression workers
    progress('budget: warm-up (50 executions, 50 gateway calls)')
    const warm = await Promise.all(Array.from({ length: 50 }, (_, i) => retryShed(() => api.run(flow.id, { n: -1 - i }))))
    await measureAtRate({ ...gatewayTarget, url: `${gatewayTarget.url}&warm=1` }, 25, 10, 2, 0, true)
    await waitAll(api, warm.map((r) => r.execution_id), 60_000)

    // the bucket refills while idle; then start on a whole second, so the first second's burst is one window
    await sleep(1500)
    await sleep(1000 - (Date.now() % 1000) + 5)
    const loadStart = Date.now()
    const startCounts = await simulatorCounts(sim.url)
    progress(`budget: ${s.executions} flow executions on ${s.flowConnections} connections, gateway at ${s.gatewayRate} req/s on ${s.gatewayConnections}`)

    let next = 0
    const ids: string[] = []
    const postErrors: string[] = []
    const poster = async (): Promise<void> => {
      while (next < s.executions) {
        const n = next++
        try {
          ids.push((await retryShed(() => api.run(flow.id, { n }))).execution_id)
        } catch (err) {
          postErrors.push((err as Error).message)
        }
      }
    }
    const firstSecond429 = (async () => {
      await sleep(loadStart + 1000 + UPSTREAM_MS * 3 - Date.now())
      return (await simulatorCounts(sim.url)).rateLimited - startCounts.rateLimited
    })()
    const posting = Promise.all(Array.from({ length: s.flowConnections }, () => poster()))
    const gw = await measureAtRate(gatewayTarget, s.gatewayRate, s.gatewayConnections, s.gatewaySeconds, s.gatewaySkipSeconds, true)
    await posting
    const postedAfterMs = Date.now() - loadStart
    progress(`budget: waiting for ${ids.length} executions to end`)
    const statuses = await waitAll(api, ids, s.timeoutMs)
    const drainedAfterMs = Date.now() - loadStart
    const endCounts = await simulatorCounts(sim.url)
    const perSecond = await simulatorPerSecond(sim.url)

    const firstSecond = Math.floor(loadStart / 1000)
    const lastSecond = Math.floor(Date.now() / 1000)
    const seconds: Array<[number, number]> = []
    for (let sec = firstSecond; sec <= lastSecond; sec++) seconds.push([sec, perSecond.get(sec) ?? 0])
    const later = seconds.slice(1)
    const maxLater = Math.max(0, ...later.map(([, n]) => n))
    const busySeconds = later.filter(([, n]) => n > 0)
    const meanBusy = busySeconds.reduce((a, [, n]) => a + n, 0) / Math.max(1, busySeconds.length)
    const total429 = endCounts.rateLimited - startCounts.rateLimited
    const first429 = await firstSecond429
    const later429 = total429 - first429
    const completed = [...statuses.values()].filter((st) => st === 'completed').length
    const failedId = ids.find((id) => statuses.get(id) !== 'completed' && FINAL.has(statuses.get(id) ?? ''))
    const failedError = failedId === undefined ? undefined : (await api.execution(failedId)).error
    const notFinal = ids.length - [...statuses.values()].filter((st) => FINAL.has(st)).length
    const gwFailures = gw.failures

    log()
    log(
      `upstream budget: UPSTREAM_RATE_LIMIT=${s.rate}, simulator --rate-limit ${s.rate} --latency ${UPSTREAM_MS}; ${s.flowConnections} connections starting ` +
        `${s.executions} flow executions (one evercycle get-all each, ?n=<its own>) + ${s.gatewayConnections} connections carrying ` +
        `${s.gatewayRate} gateway get-all/s (?n=<unique>), ${s.flowConnections + s.gatewayConnections} connections in all`
    )
    log(`  upstream calls per second, as the simulator counted them (first = the second the load started in):`)
    log(`    ${seconds.map(([, n]) => n).join(' ')}`)
    log(
      `  first second ${seconds[0]?.[1] ?? 0} calls (${first429} answered 429); after it: max ${maxLater}/s, mean ${fmtRps(meanBusy)}/s over ` +
        `${busySeconds.length} busy seconds, ${later429} answered 429; ${total429} 429s in all`
    )
    log(
      `  gateway calls (first ${s.gatewaySkipSeconds} s not counted: the first second's burst), ${s.gatewaySeconds} s at ${s.gatewayRate} req/s, latency from each call's due time:`
    )
    log(rateTable([gw]))
    if (gw.failures > 0) log(`  gateway failures by status: ${JSON.stringify(gw.failuresBy)}`)
    log(
      `  flows: ${ids.length}/${s.executions} started (${postErrors.length} POSTs failed) in ${(postedAfterMs / 1000).toFixed(1)} s; ` +
        `${completed} completed, ${ids.length - completed - notFinal} failed or cancelled, ${notFinal} unfinished after ${(drainedAfterMs / 1000).toFixed(1)} s`
    )
    if (failedError !== undefined) log(`  a failed execution's error: ${failedError.slice(0, 300)}`)
    if (postErrors[0] !== undefined) log(`  first POST failure: ${postErrors[0].slice(0, 300)}`)
    return [
      withCommand(
        {
          ok: maxLater <= s.rate && later429 === 0,
          text: `budget ${s.rate} req/s: beyond the first second the simulator saw at most ${s.rate} req/s and answered no 429: max ${maxLater}/s, ${later429} 429s (first second: ${seconds[0]?.[1] ?? 0} calls, ${first429} 429s)`
        },
        command
      ),
      withCommand(
        {
          ok: gw.p99 <= 150 && gwFailures === 0,
          text: `budget ${s.rate} req/s: gateway calls p99 <= 150 ms while flows wait: p99 ${fmtMs(gw.p99)} ms at ${s.gatewayRate} req/s, ${gwFailures} failures`
        },
        command
      ),
      withCommand(
        {
          ok: completed === s.executions && postErrors.length === 0,
          text: `budget ${s.rate} req/s: no call lost, every flow execution completes: ${completed}/${s.executions} in ${(drainedAfterMs / 1000).toFixed(1)} s`
        },
        command
      )
    ]
  } finally {
    await api.close()
    await Promise.all([server.child.stop(), sim.child.stop()])
    await server.cleanup()
    await schemas?.drop()
  }
}

/** Polls the executions until each has ended or `timeoutMs` has passed; their last seen statuses. */
async function waitAll(api: FlowRunnerApi, ids: string[], timeoutMs: number): Promise<Map<string, string>> {
  const statuses = new Map<string, string>()
  let pending = [...ids]
  const deadline = Date.now() + timeoutMs
  while (pending.length > 0 && Date.now() < deadline) {
    const still: string[] = []
    for (let i = 0; i < pending.length; i += 20) {
      const batch = pending.slice(i, i + 20)
      const replies = await Promise.all(batch.map((id) => api.execution(id).catch(() => undefined)))
      replies.forEach((r, j) => {
        const id = batch[j]
        if (id === undefined) return
        if (r !== undefined) statuses.set(id, r.status)
        if (r === undefined || !FINAL.has(r.status)) still.push(id)
      })
    }
    pending = still
    if (pending.length > 0) await sleep(1000)
  }
  return statuses
}

export type { Measurement }
