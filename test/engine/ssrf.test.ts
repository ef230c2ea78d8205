import tap from 'tap'
import { logsOf, runToEnd, setSecret } from '../helpers/executions.js'
import { buildFlowRunner } from '../helpers/flowrunner.js'
import { LogCapture } from '../helpers/gateway.js'
import { startReceiver } from '../helpers/receiver.js'

// The guard sits in the HTTP agent, not in storage: one backend (Postgres, the quicker to boot) covers it.
const backend = 'postgres'

const call = (url: string, type = 'http.request'): string => `
metadata: { name: ssrf probe }
nodes:
  start:
    type: ${type}
    params: { url: "${url}" }
`

void tap.test('without an allow list, loopback, private and metadata addresses are refused', async (t) => {
  const receiver = await startReceiver(t)
  receiver.on('/', { body: { reached: true } })
  const fr = await buildFlowRunner(t, { backend })
  const user = await fr.createUser('ssrf')
  const port = receiver.port
  const refused = (host: string, p: number): RegExp => new RegExp(`^Refused to connect to ${host.replace(/[[\].]/g, '\\$&')}:${p}: it resolves to a non-public address$`)

  for (const [url, host, p] of [
    [`http://127.0.0.1:${port}/`, '127.0.0.1', port],
    [`http://localhost:${port}/`, 'localhost', port],
    [`http://[::1]:${port}/`, '::1', port],
    [`http://[::ffff:127.0.0.1]:${port}/`, '::ffff:7f00:1', port],
    [`http://2130706433:${port}/`, '127.0.0.1', port],
    [`http://0.0.0.0:${port}/`, '0.0.0.0', port],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254', 80],
    ['http://10.1.2.3:8080/', '10.1.2.3', 8080],
    ['http://192.168.1.1/', '192.168.1.1', 80],
    ['http://[fd00::1]/', 'fd00::1', 80]
  ] as const) {
    const done = await runToEnd(fr, user.token, call(url))
    t.equal(done.status, 'failed', url)
    t.match(done.error, refused(host, p), url)
  }
  const hook = await runToEnd(fr, user.token, call(`http://127.0.0.1:${port}/`, 'webhook'))
  t.match(hook.error, refused('127.0.0.1', port), 'webhooks are guarded the same way')
  t.equal(receiver.requests.length, 0, 'nothing reached the receiver')
})

void tap.test('redirects: followed within the allow list, refused out of it, credentials not carried across origins', async (t) => {
  const allowed = await startReceiver(t)
  const other = await startReceiver(t)
  const forbidden = await startReceiver(t)
  forbidden.on('/', { body: { reached: true } })
  const fr = await buildFlowRunner(t, { backend, env: { FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${allowed.port}, 127.0.0.1:${other.port}` } })
  const user = await fr.createUser('redirect')

  allowed.on('/to-forbidden', { status: 302, headers: { location: `${forbidden.url}/` } })
  const toLoopback = await runToEnd(fr, user.token, call(`${allowed.url}/to-forbidden`))
  t.equal(toLoopback.status, 'failed')
  t.equal(toLoopback.error, `Refused to connect to 127.0.0.1:${forbidden.port}: it resolves to a non-public address`)
  t.equal(allowed.to('/to-forbidden').length, 1)
  t.equal(forbidden.requests.length, 0, 'the redirect target was never hit')

  allowed.on('/to-private', { status: 307, headers: { location: 'http://10.0.0.7:9000/admin' } })
  const toPrivate = await runToEnd(fr, user.token, call(`${allowed.url}/to-private`))
  t.equal(toPrivate.error, 'Refused to connect to 10.0.0.7:9000: it resolves to a non-public address')

  allowed.on('/to-metadata', { status: 301, headers: { location: 'http://169.254.169.254/latest/meta-data/' } })
  t.match((await runToEnd(fr, user.token, call(`${allowed.url}/to-metadata`))).error, /^Refused to connect to 169\.254\.169\.254:80/)

  // an allowed hop is followed; the Authorization header stays with its origin
  allowed.on('/hop', { status: 302, headers: { location: '/same-origin' } })
  allowed.on('/same-origin', { status: 302, headers: { location: `${other.url}/landing` } })
  other.on('/landing', { body: { landed: true } })
  const followed = await runToEnd(fr, user.token, `
metadata: { name: redirect chain }
nodes:
  start:
    type: http.request
    params:
      url: "${allowed.url}/hop"
      headers: { authorization: "Bearer only-for-the-first-origin", x-trace: kept }
`)
  t.equal(followed.status, 'completed')
  t.match(followed.result, { status_code: 200, body: { landed: true } })
  t.equal(allowed.to('/same-origin')[0]?.headers.authorization, 'Bearer only-for-the-first-origin', 'kept on the same origin')
  t.equal(other.to('/landing')[0]?.headers.authorization, undefined, 'dropped on another origin')
  t.equal(other.to('/landing')[0]?.headers['x-trace'], 'kept')

  allowed.on('/loop', { status: 302, headers: { location: '/loop' } })
  const loop = await runToEnd(fr, user.token, call(`${allowed.url}/loop`))
  t.equal(loop.error, 'More than 5 redirects')
  t.equal(allowed.to('/loop').length, 6, 'the first request and five redirects')
})

void tap.test('IPv4-compatible, 6to4, NAT64 and other special IPv6 ranges are refused', async (t) => {
  const receiver = await startReceiver(t)
  const fr = await buildFlowRunner(t, { backend })
  const user = await fr.createUser('ssrf6')
  const port = receiver.port
  // the URL parser writes the host canonically, and the refusal names it so
  for (const [url, host, p] of [
    [`http://[::127.0.0.1]:${port}/`, '::7f00:1', port],
    ['http://[::1.2.3.4]/', '::102:304', 80],
    ['http://[::a00:1]/', '::a00:1', 80],
    [`http://[2002:7f00:1::1]:${port}/`, '2002:7f00:1::1', port],
    ['http://[2002:a00:1::]/', '2002:a00:1::', 80],
    ['http://[64:ff9b:1::a00:1]/', '64:ff9b:1::a00:1', 80],
    ['http://[64:ff9b::10.0.0.1]/', '64:ff9b::a00:1', 80],
    ['http://[2001::1]/', '2001::1', 80],
    ['http://[2001:db8::1]/', '2001:db8::1', 80],
    ['http://[fec0::1]/', 'fec0::1', 80],
    ['http://[::ffff:0:a00:1]/', '::ffff:0:a00:1', 80]
  ] as const) {
    const done = await runToEnd(fr, user.token, `
metadata: { name: ssrf probe }
nodes:
  start:
    type: http.request
    params: { url: "${url}", timeout: 3000 }
`)
    t.equal(done.status, 'failed', url)
    t.equal(done.error, `Refused to connect to ${host}:${p}: it resolves to a non-public address`, url)
  }
  t.equal(receiver.requests.length, 0, 'nothing reached the receiver')
})

void tap.test('a cross-origin redirect drops every header that carries a secret, in any of its forms', async (t) => {
  const first = await startReceiver(t)
  const second = await startReceiver(t)
  const logs = new LogCapture()
  const fr = await buildFlowRunner(t, { backend, logs, env: { FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${first.port}, 127.0.0.1:${second.port}` } })
  const user = await fr.createUser('redirect-secrets')
  const partner = 'partner token/0123+x'
  await setSecret(fr, user, 'P', partner)
  first.on('/start', { status: 302, headers: { location: '/again' } })
  first.on('/again', { status: 307, headers: { location: `${second.url}/landing` } })
  second.on('/landing', { body: { landed: true } })
  const done = await runToEnd(fr, user.token, `
metadata: { name: secret headers across a redirect }
nodes:
  start:
    type: http.request
    params:
      url: "${first.url}/start"
      headers:
        x-partner-token: "\${secrets.P}"
        x-wrapped: "Token \${secrets.P}; v=1"
        x-encoded: "\${$encodeUrlComponent(secrets.P)}"
        x-json: "\${$string({'p': secrets.P})}"
        cookie: "sid=plain"
        x-trace: kept
`)
  t.equal(done.status, 'completed')
  t.match(done.result, { status_code: 200, body: { landed: true } })
  const sameOrigin = first.to('/again')[0]?.headers
  t.equal(sameOrigin?.['x-partner-token'], partner, 'kept on the same origin')
  t.equal(sameOrigin?.['x-encoded'], encodeURIComponent(partner))
  const landed = second.to('/landing')[0]?.headers ?? {}
  for (const name of ['x-partner-token', 'x-wrapped', 'x-encoded', 'x-json', 'cookie']) t.equal(landed[name], undefined, `${name} dropped on another origin`)
  t.equal(landed['x-trace'], 'kept', 'a header without a secret still follows')
  const written = JSON.stringify(done) + JSON.stringify(await logsOf(fr, user.token, done.id)) + logs.text
  for (const form of [partner, encodeURIComponent(partner)]) t.notOk(written.includes(form), `${form} absent from the execution, its logs and the server log`)
})
