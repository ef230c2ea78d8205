import { killChildrenOnExit, stopAll } from './lib/children.js'
import { startCluster } from './lib/cluster.js'
import { measure } from './lib/load.js'
import { table } from './lib/report.js'
import { BENCH_API_KEY, startSimulator } from './lib/targets.js'

/**
 * The scale row of `npm run bench`: get-all through Caddy to 3 replicas vs to 1 replica, each replica a real
 * gateway process on a shared PostgreSQL. On a 2-core machine three replicas compete with Caddy, the load
 * generator and the simulator for the same cores, so the row shows what balancing costs here, not what three
 * machines would gain.
 */
const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const connections = Number(process.env.BENCH_CADDY_CONNECTIONS ?? 50)

killChildrenOnExit()
const sim = await startSimulator(0)
const rows = []
for (const replicas of [1, 3]) {
  const cluster = await startCluster({ replicas, simulatorUrl: sim.url })
  try {
    rows.push(
      await measure({ name: `caddy → ${replicas} replica${replicas > 1 ? 's' : ''}`, url: `${cluster.front}/api/get-all`, headers: { 'x-api-key': BENCH_API_KEY } }, connections, seconds, 2)
    )
  } finally {
    await cluster.stop()
  }
}
process.stdout.write(`\nget-all through Caddy, ${connections} connections, ${seconds} s\n${table(rows)}\n`)
const [one, three] = rows
if (one !== undefined && three !== undefined) {
  process.stdout.write(`3 replicas / 1 replica: ${(three.rps / one.rps).toFixed(2)}x requests/s; errors ${one.errors + three.errors}, non-2xx ${one.non2xx + three.non2xx}\n`)
}
await stopAll()
