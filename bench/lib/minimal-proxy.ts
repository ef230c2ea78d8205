import { parseArgs } from 'node:util'
import Fastify from 'fastify'
import { Pool } from 'undici'

/**
 * The bench's yardstick: the least a Node gateway can do for GET /api/get-all. Fastify + one undici pool,
 * signs in once, injects the two token headers, wraps the upstream body in the success envelope by string
 * concatenation. No validation, no token lifecycle, no request ids, no logging: what the real gateway adds on
 * top of this is what the bench measures.
 *   node dist/bench/lib/minimal-proxy.js --upstream http://127.0.0.1:5050 --port 0
 */
const { values } = parseArgs({
  options: {
    upstream: { type: 'string' },
    port: { type: 'string', default: '0' },
    // same size as the gateway's default pool, so neither is capped differently under a slow upstream
    connections: { type: 'string', default: '512' },
    username: { type: 'string', default: 'demo@evercycle.test' },
    password: { type: 'string', default: 'demo-password' }
  }
})
if (values.upstream === undefined) throw new Error('--upstream is required')

const upstream = new Pool(new URL(values.upstream).origin, {
  connections: Number(values.connections),
  pipelining: 1,
  keepAliveTimeout: 30_000
})

const signIn = await upstream.request({
  method: 'POST',
  path: '/v1/auth/signin',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ username: values.username, password: values.password })
})
const auth = (await signIn.body.json()) as { AuthenticationResult?: { AccessToken?: string; IdToken?: string } }
const accessToken = auth.AuthenticationResult?.AccessToken
const idToken = auth.AuthenticationResult?.IdToken
if (signIn.statusCode !== 200 || accessToken === undefined || idToken === undefined) {
  throw new Error(`sign-in failed with ${signIn.statusCode}`)
}
const tokenHeaders = { accept: 'application/json', 'access-token': accessToken, authorization: idToken }

const app = Fastify({ logger: false })
app.get('/api/get-all', async (request, reply) => {
  const q = request.url.indexOf('?')
  const res = await upstream.request({
    method: 'GET',
    path: q === -1 ? '/v1/asset' : `/v1/asset${request.url.slice(q)}`,
    headers: tokenHeaders
  })
  const body = await res.body.text()
  reply.code(res.statusCode).type('application/json; charset=utf-8')
  return '{"status":"success","data":' + body + '}'
})

const url = await app.listen({ host: '127.0.0.1', port: Number(values.port) })
process.stdout.write(`${JSON.stringify({ proxy: url })}\n`)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close().then(() => upstream.close()).then(() => process.exit(0))
  })
}
