import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { chromium } from 'playwright-core'
import t from 'tap'
import { DEMO_PASSWORD, DEMO_USERNAME } from '../../dev/simulator/simulator.js'
import { buildGateway, startSimulator, type Teardown } from '../helpers/gateway.js'

/** A page that signs in to the gateway and lists assets with credentialed fetches, as the web UI does. */
function page(gateway: string): string {
  return `<!doctype html><meta charset="utf-8"><title>UI</title><script>
window.result = (async () => {
  const out = {}
  try {
    const login = await fetch(${JSON.stringify(gateway)} + '/api/auth', {
      method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: ${JSON.stringify(DEMO_USERNAME)}, password: ${JSON.stringify(DEMO_PASSWORD)} })
    })
    out.login = login.status
  } catch (e) { out.loginError = String(e) }
  try {
    const res = await fetch(${JSON.stringify(gateway)} + '/api/get-all', { credentials: 'include' })
    const body = await res.json()
    out.status = res.status
    out.count = body.data.assets.length
  } catch (e) { out.readError = String(e) }
  try {
    const res = await fetch(${JSON.stringify(gateway)} + '/api/create', {
      method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'from the browser' })
    })
    out.create = res.status
  } catch (e) { out.createError = String(e) }
  return out
})()
</script>`
}

async function servePage(t: Teardown, host: string, html: string): Promise<string> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(html)
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://${host === '127.0.0.1' ? '127.0.0.1' : 'localhost'}:${(server.address() as AddressInfo).port}`
}

t.test('a real browser: the allowed origin signs in and reads; the refused origin gets a CORS failure', async (t) => {
  const sim = await startSimulator(t)
  // reserve the allowed page's port first: CORS_ORIGINS must name it
  const holder = http.createServer()
  await new Promise<void>((resolve) => holder.listen(0, 'localhost', resolve))
  const allowedPort = (holder.address() as AddressInfo).port
  await new Promise<void>((resolve) => holder.close(() => resolve()))
  const allowedOrigin = `http://localhost:${allowedPort}`

  const { app } = await buildGateway(t, {
    sim,
    credentials: false,
    env: { GATEWAY_AUTH: 'session', CORS_ORIGINS: allowedOrigin, COOKIE_SAMESITE: 'lax' }
  })
  await app.listen({ port: 0, host: 'localhost' })
  const gateway = `http://localhost:${(app.server.address() as AddressInfo).port}`

  const allowedServer = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(page(gateway))
  })
  await new Promise<void>((resolve) => allowedServer.listen(allowedPort, 'localhost', resolve))
  t.teardown(() => new Promise<void>((resolve) => allowedServer.close(() => resolve())))
  const refusedOrigin = await servePage(t, '127.0.0.1', page(gateway))

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
  t.teardown(() => browser.close())

  const allowed = await browser.newPage()
  await allowed.goto(allowedOrigin)
  const good = await allowed.evaluate(() => (globalThis as unknown as { result: Promise<Record<string, unknown>> }).result)
  t.same(good, { login: 200, status: 200, count: 5, create: 201 }, `allowed page: ${JSON.stringify(good)}`)
  t.equal(sim.counts.signIns, 1)
  t.equal(sim.callsTo('POST', '/v1/asset/create').length, 1)

  const refused = await browser.newPage()
  await refused.goto(refusedOrigin)
  const bad = await refused.evaluate(() => (globalThis as unknown as { result: Promise<Record<string, unknown>> }).result)
  t.match(bad.loginError, /TypeError: Failed to fetch/, 'login blocked by CORS')
  t.match(bad.readError, /TypeError: Failed to fetch/, 'read blocked by CORS')
  t.match(bad.createError, /TypeError: Failed to fetch/, 'write blocked by CORS')
  t.equal(sim.counts.signIns, 1, 'the refused page never signed in (its preflight got no grant)')
  t.equal(sim.callsTo('POST', '/v1/asset/create').length, 1, 'and never created anything')
})
