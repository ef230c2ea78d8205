import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { load } from './config.js'
import { start } from './server.js'
import { DEMO_PASSWORD, DEMO_USERNAME, EvercycleSimulator } from './simulator/simulator.js'

/**
 * `npm run demo`: the Evercycle simulator and the gateway wired to it, on the embedded defaults (file token
 * store, PGlite in .demo/data). Everything lives under .demo/ so the demo never touches a real config.
 */
const root = path.resolve('.demo')
const simPort = Number(process.env.SIM_PORT ?? 5050)
const sim = new EvercycleSimulator()
const simUrl = await sim.listen(simPort, '127.0.0.1')
await mkdir(path.join(root, 'config'), { recursive: true })

const demoKey = process.env.GATEWAY_API_KEYS?.split(',')[0] ?? 'demo-api-key-change-me'
const env: NodeJS.ProcessEnv = {
  GATEWAY_API_KEYS: demoKey,
  EVERCYCLE_BASE_URL: simUrl,
  EVERCYCLE_USERNAME: DEMO_USERNAME,
  EVERCYCLE_PASSWORD: DEMO_PASSWORD,
  EVERCYCLE_CONFIG_DIR: path.join(root, 'config'),
  TOKEN_FILE: path.join(root, 'auth.properties'),
  DATA_DIR: path.join(root, 'data'),
  ...process.env
}
const config = load(env)
await start(config, { onClose: () => sim.close() })
const base = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`

const lines = [
  '',
  'Evercycle gateway demo',
  `  gateway         ${base}`,
  `  API docs        ${base}/docs`,
  `  simulator       ${simUrl}  (stands in for https://api.evercycle.io)`,
  `  Evercycle user  ${DEMO_USERNAME} / ${DEMO_PASSWORD}`,
  `  API key         ${demoKey}  (scripts; acts as the service identity)`,
  '',
  'Try, as a script with the API key:',
  `  curl -s ${base}/api/list`,
  `  curl -s ${base}/api/get-all -H 'x-api-key: ${demoKey}'`,
  `  curl -s '${base}/api/get-asset-id?id=1001' -H 'x-api-key: ${demoKey}'`,
  `  curl -s -X POST ${base}/api/create -H 'x-api-key: ${demoKey}' -H 'content-type: application/json' -d '{"name":"Demo laptop"}'`,
  'or as a user with a session cookie:',
  `  curl -s -c .demo/cookies -X POST ${base}/api/auth -H 'content-type: application/json' -d '{"username":"${DEMO_USERNAME}","password":"${DEMO_PASSWORD}"}'`,
  `  curl -s -b .demo/cookies ${base}/api/get-all`,
  '',
  'Ctrl-C stops both.',
  ''
]
process.stdout.write(lines.join('\n'))
