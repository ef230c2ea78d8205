import { randomInt } from 'node:crypto'
import WebSocket from 'ws'
import { killChildrenOnExit, stopAll } from './lib/children.js'
import { startCluster } from './lib/cluster.js'
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './lib/flow-server.js'
import { percentile } from './lib/load.js'
import { fmtMb } from './lib/report.js'
import { rssOf } from './lib/rss.js'
import { BENCH_API_KEY, startSimulator } from './lib/targets.js'

/**
 * `npm run soak`: mixed load through Caddy to several replicas for SOAK_SECONDS (default 600) while a short
 * Evercycle token TTL forces refreshes: get-all, create, FlowRunner runs, and WebSocket watchers. Prints
 * throughput, errors (goal 0), p99 and each replica's RSS at start and end (goal: flat within 10 %).
 */
const seconds = Number(process.env.SOAK_SECONDS ?? 600)
const replicaCount = Number(process.env.SOAK_REPLICAS ?? 3)
const concurrency = Number(process.env.SOAK_CONCURRENCY ?? 16)
const tokenTtl = Number(process.env.SOAK_TOKEN_TTL ?? 30)

killChildrenOnExit()
const sim = await startSimulator(0)
// the bench's simulator signs in with a one-hour TTL; the cluster gets a short one through the control API
await fetch(`${sim.url}/__sim/settings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tokenTtlMs: tokenTtl * 1000 }) })
const simPort = new URL(sim.url).port
const cluster = await startCluster({ replicas: replicaCount, simulatorUrl: sim.url, env: { FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${simPort}` } })
const front = cluster.front
const key = { 'x-api-key': BENCH_API_KEY }

const login = (await (await fetch(`${front}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: ADMIN_EMAIL, password: ADMIN_PASSWORD }) })).json()) as { token: string }
const auth = { authorization: `Bearer ${login.token}`, 'content-type': 'application/json' }
const flow = (await (await fetch(`${front}/api/v1/flows`, {
  method: 'POST',
  headers: auth,
  body: JSON.stringify({
    definition: `metadata:
  name: soak
nodes:
  start:
    type: transform
    params:
      expression: '{"status": "active"}'
    next:
      default: list
  list:
    type: evercycle
    params:
      operation: get-all
      query:
        status: \${nodes.start.status}
`
  })
})).json()) as { id: string }

let ok = 0
let errors = 0
const latencies: number[] = []
const errorKinds = new Map<string, number>()
const fail = (kind: string): void => {
  errors++
  errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1)
}

async function timed(kind: string, fn: () => Promise<Response>): Promise<void> {
  const t0 = performance.now()
  try {
    const res = await fn()
    await res.arrayBuffer()
    if (res.status >= 200 && res.status < 300) {
      ok++
      if (latencies.length < 2_000_000) latencies.push(performance.now() - t0)
    } else fail(`${kind} ${res.status}`)
  } catch (err) {
    fail(`${kind} ${(err as Error).message}`)
  }
}

function watch(executionId: string): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${front.replace('http', 'ws')}/ws/executions/${executionId}?token=${login.token}`)
    const timer = setTimeout(() => {
      fail('watch timeout')
      ws.terminate()
    }, 30_000)
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as { type: string }
      if (m.type === 'execution_failed') fail('execution failed')
    })
    ws.on('error', () => fail('watch error'))
    ws.on('close', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

async function worker(deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const pick = randomInt(100)
    // the listing read stays the same size all run long (what is created is filed under a status of its own),
    // so the replicas' RSS measures the gateway rather than a dataset that grows by ~100 assets a second
    if (pick < 70) await timed('get-all', () => fetch(`${front}/api/get-all?status=active`, { headers: key }))
    else if (pick < 85) await timed('create', () => fetch(`${front}/api/create`, { method: 'POST', headers: { ...key, 'content-type': 'application/json' }, body: '{"name":"soak","status":"soak"}' }))
    else {
      const t0 = performance.now()
      try {
        const res = await fetch(`${front}/api/v1/flows/${flow.id}/run`, { method: 'POST', headers: auth, body: '{"input":{}}' })
        const body = (await res.json()) as { execution_id?: string }
        if (res.status !== 201 || body.execution_id === undefined) fail(`run ${res.status}`)
        else {
          ok++
          latencies.push(performance.now() - t0)
          if (pick >= 95) await watch(body.execution_id)
        }
      } catch (err) {
        fail(`run ${(err as Error).message}`)
      }
    }
  }
}

// warm up until the replicas' heaps reach their working size
// (a fresh process's RSS peaks in its first minute or two and then settles ~20 % lower, so a 600 s run warms up
// for 120 s)
const warmupMs = Math.max(10_000, Math.min(120_000, seconds * 200))
await Promise.all(Array.from({ length: concurrency }, () => worker(Date.now() + warmupMs)))
ok = 0
errors = 0
latencies.length = 0
errorKinds.clear()
const started = Date.now()
// RSS under load moves with every GC by tens of MB; one reading at each end would compare two random points of
// that saw-tooth. Each replica's level is the median of readings every 500 ms over the first and the last
// window (a tenth of the run, 5 to 30 s).
const windowMs = Math.max(5_000, Math.min(30_000, seconds * 100))
const readings = cluster.replicas.map(() => [] as Array<{ at: number; rss: number }>)
const sampler = setInterval(() => {
  cluster.replicas.forEach((r, i) => {
    const rss = rssOf(r.pid)
    if (rss !== undefined) readings[i]?.push({ at: Date.now() - started, rss })
  })
}, 500)
await Promise.all(Array.from({ length: concurrency }, () => worker(started + seconds * 1000)))
clearInterval(sampler)
const elapsed = (Date.now() - started) / 1000
const median = (values: number[]): number => Float64Array.from(values).sort()[Math.floor((values.length - 1) / 2)] ?? 0
const rssStart = readings.map((list) => median(list.filter((x) => x.at <= windowMs).map((x) => x.rss)))
const rssEnd = readings.map((list) => median(list.filter((x) => x.at >= elapsed * 1000 - windowMs).map((x) => x.rss)))
const rssRange = readings.map((list) => `${fmtMb(Math.min(...list.map((x) => x.rss)))}..${fmtMb(Math.max(...list.map((x) => x.rss)))}`)
/** Each replica's median RSS per minute of the run, so the curve shows, not just its ends. */
const perMinute = readings.map((list) => {
  const minutes: string[] = []
  for (let m = 0; m * 60_000 < elapsed * 1000; m++) {
    const values = list.filter((x) => x.at >= m * 60_000 && x.at < (m + 1) * 60_000).map((x) => x.rss)
    if (values.length > 0) minutes.push((median(values) / 1024 / 1024).toFixed(0))
  }
  return minutes.join(' ')
})
const simStats = (await (await fetch(`${sim.url}/__sim/calls`)).json()) as { counts: { refreshes: number; signIns: number } }
const sorted = Float64Array.from(latencies).sort()

const lines = [
  '',
  `soak: ${seconds} s, ${replicaCount} replicas behind Caddy, ${concurrency} concurrent clients, token TTL ${tokenTtl} s`,
  `  requests ok   ${ok} (${(ok / elapsed).toFixed(0)}/s)`,
  `  errors        ${errors}${errors > 0 ? `  ${JSON.stringify(Object.fromEntries(errorKinds))}` : ''}`,
  `  latency       p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms`,
  `  upstream      ${simStats.counts.refreshes} token refreshes, ${simStats.counts.signIns} sign-ins`,
  ...cluster.replicas.map((r, i) => {
    const a = rssStart[i] ?? 0
    const b = rssEnd[i] ?? 0
    return `  replica ${i + 1}     RSS ${fmtMb(a)} → ${fmtMb(b)} (${a > 0 ? (((b - a) / a) * 100).toFixed(1) : 'n/a'} %; medians of the first and last ${windowMs / 1000} s, range ${rssRange[i] ?? ''})`
  }),
  ...(elapsed >= 120 ? cluster.replicas.map((_, i) => `  replica ${i + 1}     RSS MB per minute: ${perMinute[i] ?? ''}`) : []),
  `  ${errors === 0 ? 'PASS' : 'FAIL'} errors = 0`,
  `  ${rssStart.every((a, i) => a > 0 && Math.abs((rssEnd[i] ?? 0) - a) / a <= 0.1) ? 'PASS' : 'FAIL'} RSS flat within 10 %`,
  ''
]
process.stdout.write(lines.join('\n'))
await cluster.stop()
await stopAll()
