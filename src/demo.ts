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

const env: NodeJS.ProcessEnv = {
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
  '',
  'Try:',
  `  curl -s ${base}/api/list`,
  `  curl -s ${base}/api/get-all`,
  `  curl -s '${base}/api/get-asset-id?id=1001'`,
  `  curl -s -X POST ${base}/api/create -H 'content-type: application/json' -d '{"name":"Demo laptop"}'`,
  `  curl -s -X POST ${base}/api/auth -H 'content-type: application/json' -d '{"username":"${DEMO_USERNAME}","password":"${DEMO_PASSWORD}"}'`,
  '',
  'Ctrl-C stops both.',
  ''
]
process.stdout.write(lines.join('\n'))
