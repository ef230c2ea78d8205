import t from 'tap'
import { buildGateway, startSimulator } from './helpers/gateway.js'

t.test('GET /health and /api/health answer the old payload without touching upstream', async (t) => {
  const sim = await startSimulator(t)
  const { app } = await buildGateway(t, { sim })
  for (const url of ['/health', '/api/health']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 200)
    t.same(res.json(), { status: 'ok', message: 'Evercycle API Server is running' })
    t.match(res.headers['x-request-id'], /^[0-9a-f-]{36}$/)
  }
  t.equal(sim.calls.length, 0)
})
