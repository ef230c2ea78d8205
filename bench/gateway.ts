import { cpus, loadavg } from 'node:os'
import { killChildrenOnExit, runBench } from './lib/children.js'
import { getText } from './lib/http.js'
import { measureAtRate, type RateMeasurement } from './lib/fixed-rate.js'
import { largeBodyCheck } from './lib/large-body.js'
import { measure, type LoadTarget, type Measurement } from './lib/load.js'
import { compare, compareAtRate, comparisonLine, closeGoals, fmtMb, rateComparisonLine, rateTable, scenarioGoals, table, type Goal } from './lib/report.js'
import { gatewayAuthMode, gatewayClientHeaders, startGateway, startMinimalProxy, startSimulator } from './lib/targets.js'
import { envNumber } from './lib/env.js'
import { runBudget, runCoalescing } from './lib/upstream-goals.js'

/**
 * `npm run bench`: the simulator directly, a minimal Fastify + undici proxy and the gateway, each as its own
 * child process, under the same autocannon load in one run, so the ratios compare like with like on the same
 * machine at the same moment. Then each target gets fixed offered loads (a quarter and half of the proxy's
 * throughput) for the latency it adds when not saturated. Goals are reported as PASS/FAIL; the exit code is non-zero only on a crash.
 *
 *   BENCH_SECONDS (10)         measured seconds per target and round
 *   BENCH_WARMUP_SECONDS (10)  discarded start of each target's run (JIT, pools, token), same connections as the
 *                              measured seconds; a 2-core box needs ~10 s for the gateway's code to be optimised
 *   BENCH_ROUNDS (1)           rounds per scenario, each on freshly started processes; targets alternate and each
 *                              keeps its median round
 *   BENCH_BULK (110000)        assets in the large-body check (~480 bytes each, so ~50 MB)
 *   BENCH_ONLY (fast,slow,coalesce,budget,large)  which parts to run
 *   BENCH_BUDGET_EXECUTIONS (1000)  flow executions in the budget part (each one Evercycle call)
 *   BENCH_BUDGET_GATEWAY_RATE (30)  gateway calls per second beside them
 *   BENCH_BUDGET_BACKEND (postgres)  the flow store in the budget part: postgres (BENCH_DATABASE_URL, default
 *                              postgres://postgres@127.0.0.1:5432/test; fresh schemas, dropped after) or pglite
 *
 * Issue 22's gateway goals: `slow` (distinct queries, so nothing is coalesced: the plain proxy path),
 * `coalesce` (400 connections polling one URL, upstream calls counted by the simulator) and `budget`
 * (UPSTREAM_RATE_LIMIT=100 against a simulator limited to 100/s, gateway calls beside flow executions).
 * CPU per request with a fast upstream is `npm run bench:compare -- proxy`.
 *   BENCH_GATEWAY_AUTH (none)  GATEWAY_AUTH for the gateway; the bench always configures and sends an API key
 *   BENCH_GATEWAY_SERVER       another build's dist/app/server.js to measure instead of this tree's
 *   BENCH_GATEWAY_NODE_ARGS    node flags for the gateway process (a profiler, V8 heap sizes)
 */
const settings = {
  seconds: envNumber('BENCH_SECONDS', 10),
  warmupSeconds: envNumber('BENCH_WARMUP_SECONDS', 10),
  rounds: Math.round(envNumber('BENCH_ROUNDS', 1)),
  bulk: Math.round(envNumber('BENCH_BULK', 110_000)),
  only: new Set((process.env.BENCH_ONLY ?? 'fast,slow,coalesce,budget,large').split(',').map((s) => s.trim())),
  budgetExecutions: Math.round(envNumber('BENCH_BUDGET_EXECUTIONS', 1000)),
  budgetGatewayRate: envNumber('BENCH_BUDGET_GATEWAY_RATE', 30)
}

interface Scenario {
  key: string
  title: string
  latencyMs: number
  connections: number
  /**
   * Every request gets its own query (`?n=<unique>`): identical concurrent GETs are coalesced by the gateway,
   * so polling one URL would measure coalescing, not the proxy path the comparison is about.
   */
  distinct: boolean
  /** Judged against issue 22's goals (the fast-upstream throughput target is withdrawn: figures only). */
  goals: boolean
}

/**
 * The fixed-rate latency runs offer these shares of the minimal proxy's saturated throughput to every target.
 * Latency added is judged at the first, a moderate load: at half the proxy's capacity the load generator,
 * simulator and target already keep two cores mostly busy, and the tail shows CPU queueing on the machine more
 * than the target's own time; that second point is printed too, so the curve is there to read.
 */
const RATE_FRACTIONS = [0.25, 0.5]
const RATE_WARMUP_SECONDS = 3

const SCENARIOS: Scenario[] = [
  { key: 'fast', title: 'fast upstream (0 ms)', latencyMs: 0, connections: 50, distinct: false, goals: false },
  { key: 'slow', title: 'slow upstream (50 ms)', latencyMs: 50, connections: 400, distinct: true, goals: true }
]

const log = (line = ''): void => {
  process.stdout.write(`${line}\n`)
}
const progress = (line: string): void => {
  process.stderr.write(`  .. ${line}\n`)
}

/** One request before the load: a target that answers wrongly would otherwise bench its error path. */
async function checkTarget(target: LoadTarget, enveloped: boolean): Promise<void> {
  const res = await getText(target.url, target.headers)
  let parsed: unknown
  try {
    parsed = JSON.parse(res.body)
  } catch {
    parsed = undefined
  }
  const data = enveloped ? (parsed as { status?: unknown; data?: unknown } | undefined) : { status: 'success', data: parsed }
  const assets = (data?.data as { assets?: unknown } | undefined)?.assets
  if (res.status !== 200 || data?.status !== 'success' || !Array.isArray(assets)) {
    throw new Error(`${target.name} (${target.url}) answered ${res.status}: ${res.body.slice(0, 300)}`)
  }
}

/** The round in the middle when `runs` are ordered by `key` (the lower middle of an even count). */
function median<T>(runs: T[], key: (run: T) => number): T {
  const sorted = [...runs].sort((a, b) => key(a) - key(b))
  const middle = sorted[Math.floor((sorted.length - 1) / 2)]
  if (middle === undefined) throw new Error('no measurement')
  return middle
}

interface TargetSet {
  targets: Array<{ target: LoadTarget; enveloped: boolean }>
  stop: () => Promise<void>
}

/**
 * A fresh simulator, minimal proxy and gateway. Every round gets its own: two starts of the same program can
 * differ by 10 % in throughput for the whole life of the process (how V8 happened to optimise it, where the
 * scheduler put it), so a single set of processes would make one start's luck the result.
 */
async function startTargets(scenario: Scenario): Promise<TargetSet> {
  const sim = await startSimulator(scenario.latencyMs)
  const proxy = await startMinimalProxy(sim.url)
  const gateway = await startGateway(sim.url)
  const stop = async (): Promise<void> => {
    await Promise.all([gateway.child.stop(), proxy.child.stop(), sim.child.stop()])
    await gateway.cleanup()
  }
  try {
    const targets: Array<{ target: LoadTarget; enveloped: boolean }> = [
      { target: { name: 'direct', url: `${sim.url}/v1/asset`, headers: sim.tokenHeaders, pid: sim.child.pid }, enveloped: false },
      { target: { name: 'minimal proxy', url: `${proxy.url}/api/get-all`, headers: {}, pid: proxy.child.pid }, enveloped: true },
      {
        target: { name: 'gateway', url: `${gateway.url}/api/get-all`, headers: gatewayClientHeaders, pid: gateway.child.pid },
        enveloped: true
      }
    ]
    for (const t of targets) await checkTarget(t.target, t.enveloped)
    return { targets, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

const TARGET_NAMES = ['direct', 'minimal proxy', 'gateway'] as const

function roundLabel(round: number): string {
  return settings.rounds > 1 ? `, round ${round}/${settings.rounds}` : ''
}

async function runScenario(scenario: Scenario): Promise<Goal[]> {
  const runs = new Map<string, Measurement[]>(TARGET_NAMES.map((name) => [name, []]))
  for (let round = 1; round <= settings.rounds; round++) {
    const set = await startTargets(scenario)
    try {
      for (const { target } of set.targets) {
        progress(`${scenario.title}: ${target.name}${roundLabel(round)}`)
        runs.get(target.name)?.push(await measure(target, scenario.connections, settings.seconds, settings.warmupSeconds, { distinct: scenario.distinct }))
      }
    } finally {
      await set.stop()
    }
  }
  const [direct, minimal, gw] = TARGET_NAMES.map((name) => median(runs.get(name) ?? [], (m) => m.rps))
  if (direct === undefined || minimal === undefined || gw === undefined) throw new Error('missing measurement')
  const c = compare(direct, minimal, gw)

  const rates = RATE_FRACTIONS.map((fraction) => Math.max(100, Math.round((minimal.rps * fraction) / 100) * 100))
  // byRate[i] holds, per target, one fixed-load measurement per round at rates[i]
  const byRate = rates.map(() => new Map<string, RateMeasurement[]>(TARGET_NAMES.map((name) => [name, []])))
  for (let round = 1; round <= settings.rounds; round++) {
    const set = await startTargets(scenario)
    try {
      for (const { target } of set.targets) {
        // fresh processes: the same saturated warm-up as above before any latency is counted
        progress(`${scenario.title}: ${target.name} warm-up for the fixed loads${roundLabel(round)}`)
        await measure(target, scenario.connections, settings.warmupSeconds, 0, { distinct: scenario.distinct })
      }
      for (const [i, rate] of rates.entries()) {
        for (const { target } of set.targets) {
          progress(`${scenario.title}: ${target.name} at a fixed ${rate} req/s${roundLabel(round)}`)
          byRate[i]?.get(target.name)?.push(await measureAtRate(target, rate, scenario.connections, settings.seconds, RATE_WARMUP_SECONDS, scenario.distinct))
        }
      }
    } finally {
      await set.stop()
    }
  }
  const atRates = byRate.map((byTarget) => TARGET_NAMES.map((name) => median(byTarget.get(name) ?? [], (m) => m.p99)))
  const rateComparisons = atRates.map((point) => {
    const [d, m, g] = point
    if (d === undefined || m === undefined || g === undefined) throw new Error('missing measurement')
    return compareAtRate(d, m, g)
  })
  log()
  const query = scenario.distinct
    ? 'GET get-all?n=<unique per request> (distinct queries: nothing coalesced, the plain proxy path)'
    : 'GET get-all (one URL; with a 0 ms upstream few calls overlap to be coalesced)'
  log(`${scenario.title}, ${scenario.connections} connections, ${query}, ${settings.seconds} s per target, caching off`)
  log(table([direct, minimal, gw]))
  log(comparisonLine(c))
  if (settings.rounds > 1) {
    for (const [name, list] of runs) log(`  ${name} req/s per round: ${list.map((m) => Math.round(m.rps)).join(', ')}`)
    const proxyRuns = runs.get('minimal proxy') ?? []
    const ratios = (runs.get('gateway') ?? []).map((m, i) => (m.rps / (proxyRuns[i]?.rps ?? NaN)).toFixed(2))
    log(`  gateway/proxy per round (fresh processes each): ${ratios.join(', ')}`)
  }
  atRates.forEach((point, i) => {
    const share = `${Math.round((RATE_FRACTIONS[i] ?? 0) * 100)} % of the proxy's throughput`
    const rounds = settings.rounds > 1 ? `, median-p99 round of ${settings.rounds}` : ''
    log(`  latency at a fixed offered load of ${share} (open loop, counted from each request's due time), ${settings.seconds} s per target${rounds}:`)
    log(rateTable(point))
    const r = rateComparisons[i]
    if (r !== undefined) log(rateComparisonLine(r))
  })
  const moderate = rateComparisons[0]
  if (moderate === undefined) throw new Error('missing measurement')
  if (!scenario.goals) {
    log('  (figures only: the fast-upstream throughput target is withdrawn by issue 22; CPU per request is judged by `npm run bench:compare -- proxy`)')
    return []
  }
  return scenarioGoals(`${scenario.title}${scenario.distinct ? ', distinct queries' : ''}`, gw, c, moderate, `npm run build && BENCH_ONLY=${scenario.key} node dist/bench/gateway.js`)
}

const LARGE_BODY_LIMIT = 30 * 1024 * 1024

async function runLargeBody(): Promise<Goal[]> {
  const sim = await startSimulator(0)
  const gateway = await startGateway(sim.url)
  try {
    progress(`large body: get-all?bulk=${settings.bulk} through the gateway`)
    const r = await largeBodyCheck(gateway.url, gateway.child.pid, gatewayClientHeaders, settings.bulk)
    log()
    log(`large body: GET /api/get-all?bulk=${settings.bulk} through the gateway`)
    log(`  HTTP ${r.status}, ${fmtMb(r.bytes)} in ${r.seconds.toFixed(2)} s, ${r.problem === undefined ? 'valid {"status":"success","data":{...}}' : r.problem}`)
    const goals: Goal[] = [{ ok: r.problem === undefined, text: `large body: result is the JSON success envelope (${fmtMb(r.bytes)})` }]
    if (r.baselineRss === undefined || r.peakRss === undefined) {
      log('  gateway RSS: not measurable here (no /proc)')
      return goals
    }
    const growth = r.peakRss - r.baselineRss
    log(`  gateway RSS: ${fmtMb(r.baselineRss)} before, peak ${fmtMb(r.peakRss)} during (${r.samples} samples), growth ${fmtMb(growth)}`)
    goals.push({ ok: growth < LARGE_BODY_LIMIT, text: `large body: gateway RSS growth < 30 MB (issue 2): ${fmtMb(growth)}` })
    return goals
  } finally {
    await Promise.all([gateway.child.stop(), sim.child.stop()])
    await gateway.cleanup()
  }
}

async function main(): Promise<number> {
  killChildrenOnExit()
  const started = Date.now()
  const load = loadavg().map((l) => l.toFixed(2)).join(' ')
  log(`Evercycle gateway bench: node ${process.version}, ${cpus().length} CPUs, load average ${load}`)
  if (process.env.BENCH_GATEWAY_SERVER !== undefined) log(`gateway build: ${process.env.BENCH_GATEWAY_SERVER}`)
  log(
    `${settings.seconds} s measured per target after ${settings.warmupSeconds} s of warm-up on the same connections, ${settings.rounds} round(s) on fresh processes; ` +
      `gateway GATEWAY_AUTH=${gatewayAuthMode}, LOG_LEVEL=warn; autocannon, simulator, proxy and gateway share the machine`
  )
  const goals: Goal[] = []
  for (const scenario of SCENARIOS) {
    if (settings.only.has(scenario.key)) goals.push(...(await runScenario(scenario)))
  }
  if (settings.only.has('coalesce')) {
    goals.push(...(await runCoalescing({ seconds: settings.seconds, warmupSeconds: settings.warmupSeconds, connections: 400 }, log, progress)))
  }
  if (settings.only.has('budget')) {
    const budget = {
      rate: 100,
      executions: settings.budgetExecutions,
      flowConnections: 100,
      gatewayRate: settings.budgetGatewayRate,
      gatewayConnections: 300,
      gatewaySeconds: 12,
      gatewaySkipSeconds: 2,
      timeoutMs: 120_000,
      backend: process.env.BENCH_BUDGET_BACKEND === 'pglite' ? ('pglite' as const) : ('postgres' as const),
      databaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
    }
    goals.push(...(await runBudget(budget, log, progress)))
  }
  if (settings.only.has('large')) goals.push(...(await runLargeBody()))
  return closeGoals(log, goals, started)
}

await runBench(main)
