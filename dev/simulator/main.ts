import { parseArgs } from 'node:util'
import { listenOrExit, portFrom } from '../demo/ports.js'
import { DEMO_PASSWORD, DEMO_USERNAME, EvercycleSimulator, type RateLimit } from './simulator.js'

/**
 * Runs the simulator as its own process (demo, benchmarks, cluster tests). Steer it over HTTP at `/__sim/*`:
 * `GET calls`, `GET per-second?since=<ms>`, `POST settings` (any SimulatorSettings; `"rateLimit": null` clears
 * it), `POST answer-429 {count, retryAfter}`, `POST reset`, `POST expire-tokens`, `POST revoke-tokens`.
 *   node dist/dev/simulator/main.js --port 5050 --token-ttl 3600 --latency 0 --rate-limit 100 --retry-after 1
 * `--rate-limit` / SIM_RATE_LIMIT: API calls per second (fixed one-second windows) beyond which it answers 429;
 * unset, empty or 0: no limit. `--retry-after` / SIM_RETRY_AFTER: the 429s' `Retry-After` (seconds or an
 * HTTP-date; default 1).
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.SIM_PORT ?? '5050' },
    host: { type: 'string', default: process.env.SIM_HOST ?? '127.0.0.1' },
    'token-ttl': { type: 'string', default: process.env.SIM_TOKEN_TTL ?? '3600' },
    latency: { type: 'string', default: process.env.SIM_LATENCY_MS ?? '0' },
    'max-logged-calls': { type: 'string', default: process.env.SIM_MAX_LOGGED_CALLS ?? '10000' },
    'rate-limit': { type: 'string', default: process.env.SIM_RATE_LIMIT ?? '' },
    'retry-after': { type: 'string', default: process.env.SIM_RETRY_AFTER ?? '' }
  }
})

function rateLimit(perSecond: string, retryAfter: string): RateLimit | undefined {
  if (perSecond.trim() === '' || Number(perSecond) === 0) return undefined
  const rate = Number(perSecond)
  if (!Number.isFinite(rate) || rate < 0) throw new Error(`--rate-limit / SIM_RATE_LIMIT must be a number of requests per second, not "${perSecond}"`)
  return retryAfter.trim() === '' ? { perSecond: rate } : { perSecond: rate, retryAfter: retryAfter.trim() }
}

const sim = new EvercycleSimulator({
  tokenTtlMs: Number(values['token-ttl']) * 1000,
  latencyMs: Number(values.latency),
  maxLoggedCalls: Number(values['max-logged-calls']),
  rateLimit: rateLimit(values['rate-limit'], values['retry-after'])
})
const port = portFrom(values.port, 5050, 'SIM_PORT / --port')
// a port already taken is one line naming it and the variable, not an EADDRINUSE stack trace
const url = await listenOrExit({ what: 'the Evercycle simulator', port, variable: 'SIM_PORT', option: '--port' }, () => sim.listen(port, values.host))
process.stdout.write(`${JSON.stringify({ simulator: url, username: DEMO_USERNAME, password: DEMO_PASSWORD })}\n`)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void sim.close().then(() => process.exit(0))
  })
}
