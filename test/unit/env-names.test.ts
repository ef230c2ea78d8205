import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { load, type ConfigError } from '../../src/config.js'
import { closestName, editDistance, READ_ELSEWHERE, unknownVariables } from '../../src/env-names.js'
import { settingNames } from '../../src/env-schema.js'

const ROOT = path.resolve(import.meta.dirname, '..', '..')

t.test('edit distance counts inserts, deletes, substitutions and swapped neighbours', async (t) => {
  t.equal(editDistance('', ''), 0)
  t.equal(editDistance('', 'abc'), 3)
  t.equal(editDistance('kitten', 'sitting'), 3)
  t.equal(editDistance('SESSION_SECRET', 'SESSION_SECRET'), 0)
  t.equal(editDistance('SESSION_SECERT', 'SESSION_SECRET'), 1, 'a swap is one edit')
  t.equal(editDistance('SESION_SECRET', 'SESSION_SECRET'), 1)
  t.equal(editDistance('UPSTREAM_TIMEOUT', 'UPSTREAM_TIMEOUT_MS'), 3)
})

t.test('the closest setting to a misspelled name', async (t) => {
  const names = settingNames()
  t.same(closestName('FLOWRUNNER_JWT_SECERT', names), { name: 'FLOWRUNNER_JWT_SECRET', distance: 1 })
  t.same(closestName('UPSTREAM_TIMEOUT', names), { name: 'UPSTREAM_TIMEOUT_MS', distance: 3 })
  t.same(closestName('MAX_HEAP_USED_BYTE', names), { name: 'MAX_HEAP_USED_BYTES', distance: 1 })
  t.equal(closestName('X', []), undefined)
})

t.test('unknown variables: every unknown name under our own prefixes, a typo of a setting under the others', async (t) => {
  const env = {
    FLOWRUNNER_JWT_SECERT: 'a-secret-value',
    UPSTREAM_TIMEOUT: '5000',
    EVERCYCLE_SOMETHING_NEW: '1',
    MAX_HEAP_USED_BYTE: '1',
    SESSION_SECRT: 'x',
    // settings, and ours read elsewhere (CLI, Caddy, tests)
    FLOWRUNNER_JWT_SECRET: 'x',
    GATEWAY_UPSTREAMS: 'gateway-1:5000',
    EVERCYCLE_HISTORY_FILE: '/tmp/h',
    FLOWRUNNER_TEST_DATABASE_URL: 'postgres://x',
    // other software's, under prefixes the settings share, and far from any setting
    SESSION_MANAGER: 'local/host:@/tmp/.ICE-unix/1',
    NODE_OPTIONS: '--max-old-space-size=512',
    MAX_RETRIES: '3',
    PATH: '/usr/bin',
    HOSTNAME: 'box'
  }
  t.same(unknownVariables(env, settingNames()), [
    { name: 'EVERCYCLE_SOMETHING_NEW', suggestion: closestName('EVERCYCLE_SOMETHING_NEW', settingNames())?.name },
    { name: 'FLOWRUNNER_JWT_SECERT', suggestion: 'FLOWRUNNER_JWT_SECRET' },
    { name: 'MAX_HEAP_USED_BYTE', suggestion: 'MAX_HEAP_USED_BYTES' },
    { name: 'SESSION_SECRT', suggestion: 'SESSION_SECRET' },
    { name: 'UPSTREAM_TIMEOUT', suggestion: 'UPSTREAM_TIMEOUT_MS' }
  ])
})

/** Every variable name the repository reads or sets for the gateway, by the ways it spells a read. */
async function namesRead(): Promise<Set<string>> {
  const files: string[] = ['Caddyfile', 'docker-compose.yml', 'Dockerfile', '.env.example']
  for (const dir of ['app', 'bin', 'dev', 'plugins', 'routes', 'src', 'test']) {
    for (const entry of await readdir(path.join(ROOT, dir), { recursive: true })) {
      if (/\.(ts|js)$/.test(entry)) files.push(path.join(dir, entry))
    }
  }
  const names = new Set<string>()
  const patterns = [/process\.env\.([A-Z][A-Z0-9_]+)/g, /\benv\.([A-Z][A-Z0-9_]+)/g, /env\['([A-Z][A-Z0-9_]+)'\]/g, /\{\$([A-Z][A-Z0-9_]+)/g, /\$\{([A-Z][A-Z0-9_]+)/g, /^#? ?([A-Z][A-Z0-9_]+)=/gm]
  for (const file of files) {
    const text = await readFile(path.join(ROOT, file), 'utf8')
    for (const pattern of patterns) for (const m of text.matchAll(pattern)) if (m[1] !== undefined) names.add(m[1])
  }
  return names
}

t.test('no name the repository reads under our prefixes is reported as unknown (READ_ELSEWHERE is complete)', async (t) => {
  const read = await namesRead()
  t.ok(read.has('GATEWAY_UPSTREAMS') && read.has('EVERCYCLE_STATE_DIR') && read.has('FLOWRUNNER_TEST_DATABASE_URL'), 'the scan finds reads')
  const env = Object.fromEntries([...read].map((name) => [name, 'x']))
  t.same(unknownVariables(env, settingNames()), [])
  for (const name of READ_ELSEWHERE) t.ok(read.has(name), `${name} is read somewhere`)
})

t.test('a secret with a bad value is named, never quoted; in production every missing secret is in the same error', async (t) => {
  const err = t.throws(() =>
    load({ NODE_ENV: 'production', SESSION_SECRET: 'short-secret-value', FLOWRUNNER_SECRETS_KEY: 'not-a-key-but-long-enough-0123456789', PORT: 'x' })
  ) as ConfigError
  t.equal(err.name, 'ConfigError')
  t.equal(
    err.message,
    [
      'Invalid configuration:',
      '  PORT: expected integer (got "x")',
      '  SESSION_SECRET: expected string length greater or equal to 32 (value not shown: it is a secret)',
      '  FLOWRUNNER_SECRETS_KEY must be 32 bytes, written as 64 hex digits or as base64',
      '  FLOWRUNNER_JWT_SECRET is required when NODE_ENV=production'
    ].join('\n')
  )
  t.notMatch(err.message, /short-secret-value|not-a-key/)

  const ok = load({ NODE_ENV: 'production' })
  t.same(ok.diagnostics.missingProductionSecrets, ['SESSION_SECRET', 'FLOWRUNNER_JWT_SECRET', 'FLOWRUNNER_SECRETS_KEY'])
  t.same(load({}).diagnostics.missingProductionSecrets, [], 'outside production they are generated')
})
