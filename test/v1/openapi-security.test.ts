import t from 'tap'
import { buildGateway } from '../helpers/gateway.js'

interface Operation {
  security?: Record<string, string[]>[]
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>
  components: { securitySchemes: Record<string, { type: string; scheme?: string; bearerFormat?: string; description?: string; in?: string; name?: string }> }
}

const schemesOf = (op: Operation): string[] => (op.security ?? []).flatMap((s) => Object.keys(s)).sort()

t.test('/docs/json: FlowRunner declares its bearer JWT on exactly the /api/v1 operations that need one', async (t) => {
  const { app } = await buildGateway(t)
  const res = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(res.statusCode, 200)
  const doc = res.json() as OpenApi

  const jwt = doc.components.securitySchemes.flowrunnerJwt
  t.match(jwt, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
  t.match(jwt?.description, /POST \/api\/v1\/auth\/login/)
  const bearer = doc.components.securitySchemes.bearer
  t.match(bearer, { type: 'http', scheme: 'bearer' })
  t.notOk(bearer?.bearerFormat, 'the gateway bearer is an API key, not a JWT')
  t.match(bearer?.description, /GATEWAY_API_KEYS/)
  t.match(bearer?.description, /not a JWT/)
  t.match(doc.components.securitySchemes.apiKey, { type: 'apiKey', in: 'header', name: 'x-api-key' })
  t.match(doc.components.securitySchemes.session, { type: 'apiKey', in: 'cookie', name: 'evercycle_session' })

  const v1 = Object.entries(doc.paths).filter(([path]) => path.startsWith('/api/v1/'))
  t.ok(v1.length >= 20, `${v1.length} FlowRunner paths`)
  const open: string[] = []
  for (const [path, methods] of v1) {
    for (const [method, op] of Object.entries(methods)) {
      const declared = schemesOf(op)
      const url = path.replace(/\{[^}]+\}/g, 'x1')
      // what the route really does without a token: 401 unauthorized before anything else, or something else
      const answer = await app.inject({ method: method.toUpperCase() as 'GET', url, ...(method === 'get' || method === 'delete' ? {} : { payload: {} }) })
      const needsToken = answer.statusCode === 401 && (answer.json() as { error: { code: string } }).error.code === 'unauthorized'
      const name = `${method.toUpperCase()} ${path}`
      if (needsToken) t.same(declared, ['flowrunnerJwt'], `${name} declares flowrunnerJwt`)
      else {
        t.same(op.security, [], `${name} answers ${answer.statusCode} without a token and declares no security`)
        open.push(name)
      }
    }
  }
  t.same(open.sort(), ['POST /api/v1/auth/login', 'POST /api/v1/hooks/{hook_id}'], 'only login and inbound webhooks are open')

  // the gateway's operations keep their own credentials, never FlowRunner's token
  const getAll = doc.paths['/api/get-all']?.get
  t.same(schemesOf(getAll ?? {}), ['apiKey', 'bearer', 'session'])
})
