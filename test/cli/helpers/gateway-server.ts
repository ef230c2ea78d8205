import { mkdir, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import Fastify from 'fastify'
import app from '../../../app/app.js'
import { serverOptions } from '../../../app/server-options.js'
import { load } from '../../../src/config.js'
import type { EvercycleSimulator } from '../../../dev/simulator/simulator.js'
import { tempDir, type Teardown } from '../../helpers/gateway.js'
import { workspace, type Workspace } from './cli.js'

export const API_KEY = 'cli-test-key-0123456789'

export interface Running {
  url: string
  /** x-api-key of every request the gateway received, read off its HTTP server. */
  keys: Array<string | undefined>
  listing: unknown
}

/** The real gateway on a loopback port in front of the simulator, with its own config dir. */
export async function gateway(t: Teardown, sim: EvercycleSimulator, configs: Record<string, object> = {}, env: Record<string, string> = {}): Promise<Running> {
  const dir = await tempDir(t, 'gw-')
  await mkdir(path.join(dir, 'config'))
  for (const [name, config] of Object.entries(configs)) await writeFile(path.join(dir, 'config', `${name}.json`), JSON.stringify(config))
  const config = load({
    EVERCYCLE_BASE_URL: sim.url,
    EVERCYCLE_CONFIG_DIR: path.join(dir, 'config'),
    DATA_DIR: path.join(dir, 'data'),
    LOG_LEVEL: 'silent',
    GATEWAY_AUTH: 'none',
    GATEWAY_API_KEYS: API_KEY,
    UPSTREAM_TIMEOUT_MS: '5000',
    ...env
  })
  // as test/helpers/gateway.ts builds it, but with room for FlowRunner's embedded database to boot while
  // other test files load the same two cores (Fastify's default plugin timeout is 10 s)
  const fastify = Fastify({ ...serverOptions(config), pluginTimeout: 120_000 })
  await fastify.register(app, { config })
  await fastify.ready()
  t.teardown(() => fastify.close())
  const gw = { app: fastify }
  await gw.app.listen({ port: 0, host: '127.0.0.1' })
  const keys: Array<string | undefined> = []
  gw.app.server.on('request', (req: { headers: Record<string, string | string[] | undefined> }) => {
    const key = req.headers['x-api-key']
    keys.push(Array.isArray(key) ? key[0] : key)
  })
  const listing = (await gw.app.inject({ method: 'GET', url: '/api/list' })).json<{ apis: unknown }>().apis
  return { url: `http://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}`, keys, listing }
}

/** The CLI's own Evercycle settings point nowhere: everything has to go through the gateway. */
export async function cliWorkspace(t: Teardown): Promise<Workspace> {
  return workspace(t, undefined)
}
