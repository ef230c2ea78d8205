import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { load } from '../../src/config.js'
import { start } from '../../app/server.js'
import { DEMO_PASSWORD, DEMO_USERNAME, EvercycleSimulator } from '../simulator/simulator.js'
import { banner, type BannerFacts } from './banner.js'
import { setUpBulkFlows, type BulkSetup } from './bulk-flows.js'
import { demoSecretValue, setUpDemoFlow, type DemoSetup } from './demo-flow.js'
import { FlowRunnerApi } from './flowrunner-api.js'
import { exitWith, listenOrExit, portFrom, portProblem } from './ports.js'
import { setUpTriggerFlow, type TriggerSetup } from './trigger-flow.js'
import { describeDelivery, startWebhookReceiver } from './webhook-receiver.js'

/**
 * The demo itself: the simulator, the webhook receiver and the gateway wired to them on the embedded defaults
 * (file token store, PGlite in .demo/data), FlowRunner's first admin and example flows set up through the real
 * API, then the banner, printed last. A port already taken ends it with the port and the variable that moves it.
 */
export async function runDemo(): Promise<void> {
  const root = path.resolve('.demo')
  const simPort = portFrom(process.env.SIM_PORT, 5050, 'SIM_PORT')
  const receiverPort = portFrom(process.env.RECEIVER_PORT, 5055, 'RECEIVER_PORT')
  const sim = new EvercycleSimulator()
  const simUrl = await listenOrExit({ what: 'the Evercycle simulator', port: simPort, variable: 'SIM_PORT' }, () => sim.listen(simPort, '127.0.0.1'))
  await mkdir(path.join(root, 'config'), { recursive: true })

  // the receiver checks signatures with the same value the demo stores as the flow's secret
  const webhookSecret = await demoSecretValue(path.join(root, 'webhook-secret'))
  // what the demo's inbound webhook trigger checks signatures with (the banner's openssl line reads the file)
  const hookSecretFile = path.join(root, 'hook-secret')
  const hookSecret = await demoSecretValue(hookSecretFile)
  const receiver = await listenOrExit(
    { what: "the demo's webhook receiver", port: receiverPort, variable: 'RECEIVER_PORT' },
    () => startWebhookReceiver({ port: receiverPort, secret: webhookSecret.value, onDelivery: (d) => process.stdout.write(`\n${describeDelivery(d)}\n`) }),
    () => sim.close()
  )
  const closeBoth = async (): Promise<void> => {
    await Promise.all([sim.close(), receiver.close()])
  }

  const demoKey = process.env.GATEWAY_API_KEYS?.split(',')[0] ?? 'demo-api-key-change-me'
  const adminEmail = process.env.FLOWRUNNER_ADMIN_EMAIL ?? 'admin@demo.test'
  const adminPassword = process.env.FLOWRUNNER_ADMIN_PASSWORD ?? 'demo-admin-password'
  const env: NodeJS.ProcessEnv = {
    GATEWAY_API_KEYS: demoKey,
    EVERCYCLE_BASE_URL: simUrl,
    EVERCYCLE_USERNAME: DEMO_USERNAME,
    EVERCYCLE_PASSWORD: DEMO_PASSWORD,
    EVERCYCLE_CONFIG_DIR: path.join(root, 'config'),
    TOKEN_FILE: path.join(root, 'auth.properties'),
    DATA_DIR: path.join(root, 'data'),
    FLOWRUNNER_ADMIN_EMAIL: adminEmail,
    FLOWRUNNER_ADMIN_PASSWORD: adminPassword,
    // flow HTTP nodes may reach these two loopback ports and nothing else on this machine
    FLOWRUNNER_ALLOW_HOSTS: `127.0.0.1:${new URL(simUrl).port},127.0.0.1:${receiver.port}`,
    ...process.env
  }
  const config = load(env)
  try {
    await start(config, { onClose: closeBoth })
  } catch (err) {
    await closeBoth()
    const taken = portProblem(err, { what: 'the gateway', port: config.port, variable: 'PORT' })
    if (taken !== undefined) exitWith(taken)
    // e.g. a database in .demo/data that a build with other migrations made
    exitWith(
      `\nThe demo's server did not start: ${(err as Error).message}\n` +
        `(FlowRunner data an older build left in ${path.join(root, 'data')}? delete that folder and run the demo again)`
    )
  }
  const base = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`

  const api = new FlowRunnerApi(base)
  let setup: DemoSetup | undefined
  let bulk: BulkSetup | undefined
  let triggered: TriggerSetup | undefined
  let setupError: string | undefined
  try {
    setup = await setUpDemoFlow(api, { email: adminEmail, password: adminPassword, receiverUrl: receiver.url, secret: webhookSecret })
    bulk = await setUpBulkFlows(api)
    triggered = await setUpTriggerFlow(api, setup.accountId, hookSecret)
  } catch (err) {
    setupError = (err as Error).message
  } finally {
    await api.close()
  }

  const facts: BannerFacts = {
    base,
    simUrl,
    demoKey,
    adminEmail,
    adminPassword,
    receiverUrl: receiver.url,
    activeAssets: [...sim.assets.values()].filter((a) => a.status === 'active').length,
    hookSecretFile: path.relative(process.cwd(), hookSecretFile),
    // a new key per demo start, so a restarted demo's first request is not a replay of the last one's
    idempotencyKey: `demo-${randomBytes(4).toString('hex')}`,
    setup,
    bulk,
    triggered,
    setupError
  }
  process.stdout.write(banner(facts))
}
