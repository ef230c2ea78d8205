import t from 'tap'
import { buildGateway, LogCapture } from '../helpers/gateway.js'

interface Line {
  level: number
  msg: string
  variable?: string
  suggestion?: string
}

t.test('boot warns once per misspelled variable, naming the closest setting and never the value', async (t) => {
  const logs = new LogCapture()
  await buildGateway(t, {
    logs,
    env: { FLOWRUNNER_JWT_SECERT: 'value-that-must-not-be-logged-0123456789', UPSTREAM_TIMEOUT: '5000', GATEWAY_UPSTREAMS: 'gateway-1:5000 gateway-2:5000' }
  })
  const warnings = logs.lines.map((l) => JSON.parse(l) as Line).filter((l) => l.msg.startsWith('unknown environment variable'))
  t.same(
    warnings.map(({ level, msg, variable, suggestion }) => ({ level, msg, variable, suggestion })),
    [
      {
        level: 40,
        msg: 'unknown environment variable FLOWRUNNER_JWT_SECERT (did you mean FLOWRUNNER_JWT_SECRET?): it is ignored',
        variable: 'FLOWRUNNER_JWT_SECERT',
        suggestion: 'FLOWRUNNER_JWT_SECRET'
      },
      {
        level: 40,
        msg: 'unknown environment variable UPSTREAM_TIMEOUT (did you mean UPSTREAM_TIMEOUT_MS?): it is ignored',
        variable: 'UPSTREAM_TIMEOUT',
        suggestion: 'UPSTREAM_TIMEOUT_MS'
      }
    ],
    'GATEWAY_UPSTREAMS is Caddy\'s, not unknown'
  )
  t.notMatch(logs.text, 'value-that-must-not-be-logged')
})

t.test('in production every missing required secret is named in one error, before anything opens', async (t) => {
  await t.rejects(buildGateway(t, { env: { NODE_ENV: 'production' } }), {
    name: 'ConfigError',
    message: [
      'Invalid configuration:',
      '  SESSION_SECRET is required when NODE_ENV=production',
      '  FLOWRUNNER_JWT_SECRET is required when NODE_ENV=production',
      '  FLOWRUNNER_SECRETS_KEY is required when NODE_ENV=production'
    ].join('\n')
  })
})
