import closeWithGrace from 'close-with-grace'
import Fastify from 'fastify'
import app from './app.js'
import { serverOptions } from './server-options.js'
import { ConfigError, load, type Config } from '../src/config.js'

/** Builds, listens, and drains in-flight requests on SIGTERM/SIGINT before exiting. */
export async function start(config: Config, options: { onClose?: () => Promise<void> } = {}): Promise<ReturnType<typeof Fastify>> {
  const server = Fastify(serverOptions(config))
  await server.register(app, { config })
  const onClose = options.onClose
  if (onClose !== undefined) server.addHook('onClose', async () => onClose())
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err !== undefined) server.log.error({ err }, 'shutting down after an error')
    else server.log.info({ signal }, 'shutting down: draining in-flight requests')
    // keep-alive sockets that go idle after their last in-flight response would hold close() open
    const reaper = setInterval(() => server.server.closeIdleConnections(), 100)
    reaper.unref()
    try {
      await server.close()
    } finally {
      clearInterval(reaper)
    }
  })
  await server.listen({ host: config.host, port: config.port })
  return server
}

async function main(): Promise<void> {
  let config: Config
  try {
    config = load()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`)
      process.exit(78)
    }
    throw err
  }
  try {
    await start(config)
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : (err as Error).stack ?? String(err)}\n`)
    process.exit(1)
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
