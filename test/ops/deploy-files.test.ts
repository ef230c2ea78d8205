import { execFile } from 'node:child_process'
import { copyFile, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { parse } from 'yaml'
import { tempDir } from '../helpers/gateway.js'

const ROOT = path.resolve(import.meta.dirname, '..', '..')
const run = promisify(execFile)

/**
 * The value each `NAME=value` line of an env file means, read as docker compose reads it: a double-quoted value
 * is the text between the quotes, anything else is taken as written. Comment lines are skipped.
 */
function intendedValues(text: string): Map<string, string> {
  const values = new Map<string, string>()
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line)
    if (m === null) continue
    const [, name = '', raw = ''] = m
    const quoted = /^"([^"\\$`]*)"$/.exec(raw)
    values.set(name, quoted === null ? raw : (quoted[1] ?? ''))
  }
  return values
}

t.test('a copy of .env.example sources in bash (set -ae) and every value is the one written', async (t) => {
  const dir = await tempDir(t, 'env-')
  const copy = path.join(dir, '.env')
  await copyFile(path.join(ROOT, '.env.example'), copy)
  const intended = intendedValues(await readFile(copy, 'utf8'))
  t.ok(intended.size > 50, `${intended.size} settings read`)

  // a clean environment, so what `env -0` prints is what the file set; -e: any failing line fails the source
  const { stdout } = await run('env', ['-i', 'bash', '-c', 'set -ae; . "$1"; env -0', 'bash', copy])
  const sourced = new Map<string, string>()
  for (const entry of stdout.split('\0')) {
    const at = entry.indexOf('=')
    if (at > 0) sourced.set(entry.slice(0, at), entry.slice(at + 1))
  }
  for (const [name, value] of intended) t.equal(sourced.get(name), value, name)
  t.equal(sourced.get('GATEWAY_UPSTREAMS'), 'gateway-1:5000 gateway-2:5000')
  t.equal(sourced.get('SERVER_NAME'), 'Evercycle API Server')
})

t.test('an unquoted value with a space would fail that check (what the quoting prevents)', async (t) => {
  const dir = await tempDir(t, 'env-')
  const file = path.join(dir, '.env')
  await writeFile(file, 'SERVER_NAME=Evercycle API Server\n')
  await t.rejects(run('env', ['-i', 'bash', '-c', 'set -ae; . "$1"', 'bash', file]))
})

interface ComposeService {
  build?: unknown
  image?: string
  volumes?: string[]
}

t.test('docker-compose.yml builds the gateway image once and every replica runs it', async (t) => {
  const text = await readFile(path.join(ROOT, 'docker-compose.yml'), 'utf8')
  const compose = parse(text, { merge: true }) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> }
  const services = compose.services
  const gateways = Object.keys(services).filter((name) => name.startsWith('gateway-'))
  t.same(gateways.sort(), ['gateway-1', 'gateway-2'])
  const builders = Object.entries(services).filter(([, s]) => s.build !== undefined).map(([name]) => name)
  t.same(builders, ['gateway-1'], 'one service builds')
  for (const name of gateways) {
    t.equal(services[name]?.image, 'evercycle-gateway:local', `${name} runs the built image`)
    for (const volume of services[name]?.volumes ?? []) {
      const source = volume.split(':')[0] ?? ''
      if (!source.startsWith('.')) t.ok(source in compose.volumes, `${name}: volume ${source} is declared`)
    }
  }
})
