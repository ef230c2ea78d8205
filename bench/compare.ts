import type autocannon from 'autocannon'
import path from 'node:path'
import { crashes, killChildrenOnExit, stopAll, type Child } from './lib/children.js'
import { processCpuMs } from './lib/cpu.js'
import { summarizePaired, type PairedRound } from './lib/paired.js'
import { gatewayClientHeaders, startGateway, startMinimalProxy, startSimulator } from './lib/targets.js'
import { envNumber } from './lib/env.js'
import { distinctUrl, run } from './lib/load.js'

/**
 * `npm run bench:compare -- <B> [<A>]`: CPU per request of two builds measured side by side. A and B run at
 * the same time, against one simulator, each at the same fixed offered load, and their CPU is read over the
 * same windows, so whatever else the machine does falls on both alike. Sequential runs of one build differ by
 * 5–10 % on a shared 2-core box; paired ones resolve a few percent. A and B are each a build's
 * dist/app/server.js or `proxy` (the bench's minimal proxy); A defaults to this tree's build. Run the same
 * build as A and B once to see the machine's own spread.
 *
 *   COMPARE_STARTS (3)           fresh pairs of processes: one start's luck (memory layout, JIT) lasts its life
 *   COMPARE_ROUNDS (3)           measured windows per start
 *   COMPARE_SECONDS (15)         length of a window
 *   COMPARE_RATE (3000)          requests per second offered to each build; keep both well below saturation
 *   COMPARE_WARMUP_SECONDS (10)  unmeasured load per start, both builds at full speed
 *   COMPARE_SAME_URL (0)         1: every request asks the same URL. By default each asks its own (`?n=<id>`):
 *                                identical concurrent GETs are coalesced by the gateway, which would measure
 *                                coalescing, not the proxy path
 */

const settings = {
  starts: Math.round(envNumber('COMPARE_STARTS', 3)),
  rounds: Math.round(envNumber('COMPARE_ROUNDS', 3)),
  seconds: envNumber('COMPARE_SECONDS', 15),
  rate: envNumber('COMPARE_RATE', 3000),
  warmupSeconds: envNumber('COMPARE_WARMUP_SECONDS', 10),
  sameUrl: process.env.COMPARE_SAME_URL === '1'
}
const CONNECTIONS = 20

type Build = { kind: 'proxy' } | { kind: 'gateway'; serverJs: string | undefined }

function parseBuild(arg: string | undefined): Build {
  if (arg === undefined) return { kind: 'gateway', serverJs: undefined }
  return arg === 'proxy' ? { kind: 'proxy' } : { kind: 'gateway', serverJs: path.resolve(arg) }
}

function describe(build: Build): string {
  return build.kind === 'proxy' ? 'minimal proxy' : (build.serverJs ?? process.env.BENCH_GATEWAY_SERVER ?? 'this tree')
}

interface Running {
  child: Child
  url: string
  cleanup: () => Promise<void>
}

async function start(build: Build, upstream: string): Promise<Running> {
  if (build.kind === 'proxy') {
    const proxy = await startMinimalProxy(upstream)
    return { ...proxy, cleanup: async () => undefined }
  }
  return startGateway(upstream, build.serverJs)
}

function load(url: string, seconds: number, rate: number | undefined): Promise<autocannon.Result> {
  return run({
    url: settings.sameUrl ? `${url}/api/get-all` : distinctUrl(`${url}/api/get-all`),
    idReplacement: !settings.sameUrl,
    headers: gatewayClientHeaders,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 10,
    ...(rate === undefined ? {} : { overallRate: rate })
  })
}

function cpuMs(child: Child): number {
  const ms = processCpuMs(child.pid)
  if (ms === undefined) throw new Error('bench:compare reads CPU time from /proc, which this machine lacks')
  return ms
}

function failures(result: autocannon.Result): number {
  return result.errors + result.non2xx
}

async function pairOfStarts(builds: [Build, Build], startNo: number, rounds: PairedRound[], failed: { requests: number }): Promise<void> {
  const sim = await startSimulator(0)
  // alternate who starts first, so neither is always the older process
  const order = startNo % 2 === 1 ? [0, 1] : [1, 0]
  const running: Running[] = []
  try {
    for (const i of order) running[i] = await start(builds[i] as Build, sim.url)
    const [a, b] = running as [Running, Running]
    await Promise.all([load(a.url, settings.warmupSeconds, undefined), load(b.url, settings.warmupSeconds, undefined)])
    for (let round = 1; round <= settings.rounds; round++) {
      const a0 = cpuMs(a.child)
      const b0 = cpuMs(b.child)
      const [ra, rb] = await Promise.all([load(a.url, settings.seconds, settings.rate), load(b.url, settings.seconds, settings.rate)])
      const aUs = ((cpuMs(a.child) - a0) * 1000) / ra.requests.total
      const bUs = ((cpuMs(b.child) - b0) * 1000) / rb.requests.total
      rounds.push({ start: startNo, a: aUs, b: bUs })
      const bad = failures(ra) + failures(rb)
      failed.requests += bad
      console.log(
        `start ${startNo} round ${round}: A ${aUs.toFixed(1)} µs/req, B ${bUs.toFixed(1)} µs/req, B/A ${(bUs / aUs).toFixed(3)}` +
          `  (p99 A ${ra.latency.p99} ms, B ${rb.latency.p99} ms${bad === 0 ? '' : `, ${bad} FAILED requests`})`
      )
    }
  } finally {
    await Promise.all([...running.map((r) => r.child.stop()), sim.child.stop()])
    await Promise.all(running.map((r) => r.cleanup()))
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  if (args.length < 1 || args.length > 2) {
    console.error('usage: npm run bench:compare -- <B: server.js | proxy> [<A: server.js | proxy>]')
    process.exitCode = 2
    return
  }
  const builds: [Build, Build] = [parseBuild(args[1]), parseBuild(args[0])]
  console.log(`A: ${describe(builds[0])}`)
  console.log(`B: ${describe(builds[1])}`)
  console.log(
    `${settings.starts} starts × ${settings.rounds} rounds of ${settings.seconds} s at ${settings.rate} req/s each, ${CONNECTIONS} connections, ` +
      `after ${settings.warmupSeconds} s at full speed`
  )
  const rounds: PairedRound[] = []
  const failed = { requests: 0 }
  for (let s = 1; s <= settings.starts; s++) await pairOfStarts(builds, s, rounds, failed)
  if (failed.requests > 0) {
    // a build answering errors does different work per request: its CPU says nothing about the other's
    console.error(`${failed.requests} requests failed: no comparison`)
    process.exitCode = 1
    return
  }
  const summary = summarizePaired(rounds)
  console.log(
    `B/A CPU per request: median ${summary.median.toFixed(3)}, range ${summary.low.toFixed(3)}–${summary.high.toFixed(3)}, ` +
      `per start ${summary.perStart.map((r) => r.toFixed(3)).join(' ')}`
  )
}

killChildrenOnExit()
try {
  await main()
} finally {
  await stopAll()
}
if (crashes.length > 0) {
  console.error(`crashed: ${crashes.join('; ')}`)
  process.exitCode = 1
}
