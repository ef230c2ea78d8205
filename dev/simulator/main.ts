import { parseArgs } from 'node:util'
import { DEMO_PASSWORD, DEMO_USERNAME, EvercycleSimulator } from './simulator.js'

/**
 * Runs the simulator as its own process (demo, benchmarks, cluster tests). Steer it over HTTP at `/__sim/*`.
 *   node dist/dev/simulator/main.js --port 5050 --token-ttl 3600 --latency 0
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.SIM_PORT ?? '5050' },
    host: { type: 'string', default: process.env.SIM_HOST ?? '127.0.0.1' },
    'token-ttl': { type: 'string', default: process.env.SIM_TOKEN_TTL ?? '3600' },
    latency: { type: 'string', default: process.env.SIM_LATENCY_MS ?? '0' },
    'max-logged-calls': { type: 'string', default: process.env.SIM_MAX_LOGGED_CALLS ?? '10000' }
  }
})

const sim = new EvercycleSimulator({
  tokenTtlMs: Number(values['token-ttl']) * 1000,
  latencyMs: Number(values.latency),
  maxLoggedCalls: Number(values['max-logged-calls'])
})
const url = await sim.listen(Number(values.port), values.host)
process.stdout.write(`${JSON.stringify({ simulator: url, username: DEMO_USERNAME, password: DEMO_PASSWORD })}\n`)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void sim.close().then(() => process.exit(0))
  })
}
