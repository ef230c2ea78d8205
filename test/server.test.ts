import { once } from 'node:events'
import path from 'node:path'
import t from 'tap'
import { load } from '../src/config.js'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../dev/simulator/simulator.js'
import { startSimulator, tempDir } from './helpers/gateway.js'
import { listening, spawnServer } from './helpers/spawn-server.js'

t.test('a bad setting stops boot with a message naming the variable', async (t) => {
  t.throws(() => load({ PORT: 'abc' }), /PORT/)
  t.throws(() => load({ UPSTREAM_TIMEOUT_MS: '-5' }), /UPSTREAM_TIMEOUT_MS/)
  t.throws(() => load({ EVERCYCLE_BASE_URL: 'ftp://x' }), /EVERCYCLE_BASE_URL/)
  t.throws(() => load({ GATEWAY_AUTH: 'open' }), /GATEWAY_AUTH/)
  t.throws(() => load({ EVERCYCLE_USERNAME: 'only-user' }), /EVERCYCLE_USERNAME and EVERCYCLE_PASSWORD/)
  const config = load({})
  t.equal(config.host, '127.0.0.1')
  t.equal(config.port, 5000)
  t.equal(config.evercycle.baseUrl, 'https://api.evercycle.io')
  t.equal(config.evercycle.timeoutMs, 15000)
  t.equal(config.evercycle.tokenFile, path.resolve('auth.properties'))

  const child = spawnServer(t, { PORT: 'not-a-port' })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  const [code] = await once(child, 'exit')
  t.equal(code, 78)
  t.match(stderr, /PORT: expected integer \(got "not-a-port"\)/)
})

t.test('SIGTERM drains in-flight requests before the process exits', async (t) => {
  const sim = await startSimulator(t)
  const dir = await tempDir(t)
  const child = spawnServer(t, {
    PORT: '0',
    EVERCYCLE_BASE_URL: sim.url,
    EVERCYCLE_USERNAME: DEMO_USERNAME,
    EVERCYCLE_PASSWORD: DEMO_PASSWORD,
    EVERCYCLE_CONFIG_DIR: path.join(dir, 'config'),
    DATA_DIR: path.join(dir, 'data'),
    GATEWAY_AUTH: 'none',
    SESSION_SECRET: 'x'.repeat(32)
  })
  const url = await listening(child)
  t.equal((await fetch(`${url}/api/get-all`)).status, 200)
  sim.settings.latencyMs = 500
  const arrived = sim.nextRequest()
  const inFlight = fetch(`${url}/api/get-all`)
  await arrived
  child.kill('SIGTERM')
  const res = await inFlight
  t.equal(res.status, 200, 'the in-flight request completed')
  t.equal(((await res.json()) as { status: string }).status, 'success')
  const [code] = await once(child, 'exit')
  t.equal(code, 0)
})
