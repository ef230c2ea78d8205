import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Child } from './children.js'
import { ADMIN_EMAIL, ADMIN_PASSWORD, createSchemas, type PgSchemas } from './flow-server.js'
import { freePort, waitFor200 } from './http.js'
import { serverNodeFlags } from './server-flags.js'
import { BENCH_API_KEY, baseEnv, SIM_PASSWORD, SIM_USERNAME } from './targets.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const SERVER_JS = path.resolve(here, '..', '..', 'app', 'server.js')
const CADDY = process.env.CADDY_PATH ?? '/usr/bin/caddy'
export const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export interface Cluster {
  /** Caddy's address: what clients use. */
  front: string
  replicas: Child[]
  stop(): Promise<void>
}

export interface ClusterOptions {
  replicas: number
  simulatorUrl: string
  /** Extra settings for every replica (e.g. FLOWRUNNER_ALLOW_HOSTS). */
  env?: NodeJS.ProcessEnv
}

const caddies = new Set<ChildProcess>()
process.once('exit', () => {
  for (const c of caddies) c.kill('SIGKILL')
})

/**
 * The production topology on loopback: N gateway processes (built dist) on one fresh PostgreSQL schema, with
 * Debian's Caddy in front balancing them and health-checking /api/ready, as docker-compose.yml runs it.
 */
export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  const schemas: PgSchemas = await createSchemas(DATABASE_URL)
  const dir = await mkdtemp(path.join(tmpdir(), 'evercycle-cluster-'))
  const replicas: Child[] = []
  const ports: number[] = []
  for (let i = 0; i < o.replicas; i++) {
    const port = await freePort()
    ports.push(port)
    replicas.push(
      new Child(`gateway ${i + 1}`, [...serverNodeFlags(), SERVER_JS], {
        ...baseEnv(),
        NODE_ENV: 'production',
        PORT: String(port),
        LOG_LEVEL: 'warn',
        DATABASE_URL: schemas.url,
        FLOWRUNNER_QUEUE_SCHEMA: schemas.queueSchema,
        EVERCYCLE_BASE_URL: o.simulatorUrl,
        EVERCYCLE_USERNAME: SIM_USERNAME,
        EVERCYCLE_PASSWORD: SIM_PASSWORD,
        EVERCYCLE_CONFIG_DIR: path.join(dir, 'config'),
        TOKEN_FILE: path.join(dir, `auth-${i}.properties`),
        DATA_DIR: path.join(dir, `data-${i}`),
        GATEWAY_API_KEYS: BENCH_API_KEY,
        SESSION_SECRET: 'bench-session-secret-0123456789abcdef0123',
        FLOWRUNNER_JWT_SECRET: 'bench-jwt-secret-0123456789abcdef0123456',
        FLOWRUNNER_SECRETS_KEY: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
        FLOWRUNNER_ADMIN_EMAIL: ADMIN_EMAIL,
        FLOWRUNNER_ADMIN_PASSWORD: ADMIN_PASSWORD,
        TRUST_PROXY: '127.0.0.1',
        // a load test is not an attack: keep the per-client login limit out of the way
        AUTH_RATE_LIMIT: '100000',
        FLOWRUNNER_LOGIN_RATE_LIMIT: '100000',
        ...o.env
      })
    )
  }
  for (const [i, replica] of replicas.entries()) {
    await waitFor200(`http://127.0.0.1:${ports[i]}/api/health`, 60_000, () => replica.exited)
  }
  const frontPort = await freePort()
  const caddyfile = path.join(dir, 'Caddyfile')
  await writeFile(
    caddyfile,
    `{
  admin off
  auto_https off
}
http://127.0.0.1:${frontPort} {
  reverse_proxy ${ports.map((p) => `127.0.0.1:${p}`).join(' ')} {
    lb_policy least_conn
    lb_try_duration 5s
    health_uri /api/ready
    health_interval 2s
  }
}
`
  )
  const caddy = spawn(CADDY, ['run', '--config', caddyfile, '--adapter', 'caddyfile'], {
    env: { PATH: process.env.PATH, HOME: dir, XDG_DATA_HOME: path.join(dir, 'caddy'), XDG_CONFIG_HOME: path.join(dir, 'caddy') },
    stdio: 'ignore'
  })
  caddies.add(caddy)
  const front = `http://127.0.0.1:${frontPort}`
  await waitFor200(`${front}/api/health`, 30_000, () => caddy.exitCode !== null)
  return {
    front,
    replicas,
    async stop() {
      caddy.kill('SIGTERM')
      caddies.delete(caddy)
      await Promise.all(replicas.map((r) => r.stop()))
      await schemas.drop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}
