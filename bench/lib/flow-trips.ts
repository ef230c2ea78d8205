import { DEMO_INPUT, setUpDemoFlow } from '../../dev/demo/demo-flow.js'
import { FlowRunnerApi } from '../../dev/demo/flowrunner-api.js'
import { closedLoop, retryShed } from './flow-load.js'
import { ADMIN_EMAIL, ADMIN_PASSWORD, type PgSchemas, type Receiver } from './flow-server.js'
import { PgTripCounter } from './pg-trips.js'
import { printTrips, startRelayedServer } from './relayed-server.js'

/**
 * `npm run bench:flows -- trips`: the database work one execution of the demo's flow costs on PostgreSQL, as
 * the timed rounds drive it (POST /run, then its WebSocket until the final message), counted by a relay
 * between the server and PostgreSQL on a server of its own (the relay adds a hop to every query, so it is
 * never in a timed round). The counts include the API's side (the session checks of the run and of the
 * WebSocket upgrade) and whatever the server polls meanwhile.
 */
export interface TripSettings {
  executions: number
  warmup: number
  concurrency: number
  accountConcurrency: number
  top: number
  databaseUrl: string
}

export async function countSingleTrips(
  s: TripSettings,
  simUrl: string,
  receiver: Receiver,
  secret: string,
  io: { log: (line?: string) => void; progress: (line: string) => void; live: Set<PgSchemas> }
): Promise<void> {
  io.progress(`round trips: PostgreSQL, FLOWRUNNER_CONCURRENCY=${s.concurrency}, ${s.warmup} + ${s.executions} executions through the counting relay (not timed)`)
  const { server, relay, close } = await startRelayedServer(
    s.databaseUrl,
    { concurrency: s.concurrency, simulatorUrl: simUrl, receiverPort: receiver.port, env: { FLOWRUNNER_ACCOUNT_CONCURRENCY: String(s.accountConcurrency) } },
    io.live
  )
  const api = new FlowRunnerApi(server.url, { connections: s.concurrency + 8 })
  const wsBase = server.url.replace(/^http/, 'ws')
  try {
    const setup = await retryShed(() =>
      setUpDemoFlow(api, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, receiverUrl: receiver.url, secret: { value: secret, created: true } })
    )
    const load = (total: number): ReturnType<typeof closedLoop> =>
      closedLoop({ api, wsBase, flowId: setup.flowId, input: DEMO_INPUT, total, inflight: s.concurrency, executionTimeoutMs: 60_000 })
    // warm: the flow's spec cached, each pooled connection's statements prepared
    await load(s.warmup)
    await new Promise((r) => setTimeout(r, 1000))
    const before = relay.snapshot()
    const counted = await load(s.executions)
    // a webhook's last save can land just after the WebSocket's final message: let it through
    await new Promise((r) => setTimeout(r, 1000))
    const d = PgTripCounter.delta(before, relay.snapshot())
    printTrips(io.log, `the demo's flow, FLOWRUNNER_CONCURRENCY=${s.concurrency}, ${s.executions} executions via POST /run + WebSocket (API side included)`, d, s.executions, 'execution', s.top)
    for (const e of counted.errors.slice(0, 3)) io.log(`  error: ${e}`)
  } finally {
    await api.close()
    await close()
  }
}
