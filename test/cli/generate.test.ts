import { cp, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { loadEndpoints } from '../../src/evercycle/load-endpoints.js'
import { buildRegistry, readOperationConfigs } from '../../src/evercycle/registry.js'
import { startSimulator, tempDir } from '../helpers/gateway.js'
import { parseJson, REPO, runCli, signedIn, workspace } from './helpers/cli.js'

const SPECS = path.join(REPO, 'test', 'fixtures', 'specs')
const EXPECTED = path.join(SPECS, 'expected')
const BASE = { EVERCYCLE_BASE_URL: 'https://api.evercycle.io' }

interface Report {
  outDir: string
  dryRun: boolean
  files: Array<{ spec: string; config: string | null; result: string; reason: string | null; warnings: string[]; fieldsWithoutDefault: string[] }>
}

t.test('generate turns the fixture specs into exactly the expected configs and explains each skip', async (t) => {
  const ws = await workspace(t, undefined, BASE)
  const out = path.join(ws.dir, 'generated')
  const res = await runCli(ws, ['generate', SPECS, '--out', out, '--json'])
  t.equal(res.code, 1, 'some specs are unparseable on purpose')
  const report = parseJson<Report>(res.stdout)
  t.equal(report.outDir, out)

  const expected = (await readdir(EXPECTED)).sort()
  t.same((await readdir(out)).sort(), ['.evercycle-generated', ...expected])
  for (const file of expected) {
    t.equal(await readFile(path.join(out, file), 'utf8'), await readFile(path.join(EXPECTED, file), 'utf8'), `${file} matches exactly`)
  }

  const byResult = (result: string): string[] => report.files.filter((f) => f.result === result).map((f) => f.spec)
  t.same(byResult('created'), [
    'Asset Export.md',
    'cancel-request.md',
    'create.md',
    'edit-asset-id.md',
    'get-all.md',
    'get-asset-id.md',
    'grade.md',
    'rename-asset.md'
  ])
  const skipped = Object.fromEntries(report.files.filter((f) => f.result === 'skipped').map((f) => [f.spec, f.reason]))
  t.same(skipped, {
    'auth-signin.md':
      'auth-signin is not an operation: sign in with `evercycle auth` (tokens go to auth.properties, and config/auth-signin.json holds credentials)',
    'bad-path.md': 'path "/v1/asset/../admin" must not contain dot segments',
    'notes.md': 'no HTTP method found (expected a request line such as "GET https://api.evercycle.io/v1/asset")',
    'several-methods.md': 'several methods (GET, PUT) in one spec: write one file per operation'
  })
  const entry = (spec: string): Report['files'][number] | undefined => report.files.find((f) => f.spec === spec)
  t.same(entry('create.md')?.fieldsWithoutDefault, ['name', 'serialNumber'])
  t.same(entry('edit-asset-id.md')?.warnings, [
    'path parameter "assetId" is not in /v1/asset/{id}: ignored',
    'body field "price": "abc" is not a number; kept as text'
  ])
  t.same(entry('cancel-request.md')?.warnings, ['DELETE sends no body: the body parameters are ignored'])
  t.equal(entry('Asset Export.md')?.config, 'asset-export.json')

  // what was generated is what the gateway boots with
  const registry = buildRegistry(await loadEndpoints(), await readOperationConfigs(out))
  t.match(registry.get('rename-asset'), { method: 'PATCH', path: '/v1/asset/{id}/name', defaultBody: { name: 'Unnamed' }, headers: { 'X-Audit': 'cli' } })
  t.match(registry.get('grade'), { pathParams: { id: { from: 'body', default: 'PB-1' }, grade: { from: 'body', default: 'A' } }, defaultQuery: { currency: 'USD' } })
  t.same(registry.get('get-all')?.headers, { 'X-Client': 'evercycle-cli' })

  const table = await runCli(ws, ['generate', SPECS, '--out', out])
  t.equal(table.code, 1)
  t.match(table.stdout, /^SPEC\s+CONFIG\s+RESULT\s+NOTES\n/)
  t.match(table.stdout, /get-all\.md\s+get-all\.json\s+unchanged/)
  t.match(table.stdout, /notes\.md\s+-\s+skipped\s+no HTTP method found/)
  t.match(table.stdout, /Wrote 0 config\(s\) to .*; 0 kept, 4 skipped\./)
})

t.test('generate keeps user-edited configs unless --force, and updates untouched ones', async (t) => {
  const ws = await workspace(t, undefined, BASE)
  const specs = await tempDir(t, 'specs-')
  for (const file of ['get-all.md', 'grade.md']) await cp(path.join(SPECS, file), path.join(specs, file))
  await writeFile(path.join(ws.configDir, 'auth-signin.json'), '{"body":{"username":"u","password":"p"}}\n')

  const first = await runCli(ws, ['generate', specs, '--json'])
  t.equal(first.code, 0, first.stderr)
  t.same(parseJson<Report>(first.stdout).files.map((f) => [f.config, f.result]), [['get-all.json', 'created'], ['grade.json', 'created']])
  t.equal(parseJson<Report>(first.stdout).outDir, ws.configDir, 'EVERCYCLE_CONFIG_DIR is the default output')

  // the user sets a default; the spec changes too
  const edited = (await readFile(path.join(ws.configDir, 'get-all.json'), 'utf8')).replace('"status": ""', '"status": "active"')
  await writeFile(path.join(ws.configDir, 'get-all.json'), edited)
  for (const file of ['get-all.md', 'grade.md']) {
    const text = await readFile(path.join(specs, file), 'utf8')
    await writeFile(path.join(specs, file), text.replace(/^(.*\n)(.*)\n/, '$1$2 (v2)\n'))
  }

  const second = await runCli(ws, ['generate', specs, '--json'])
  t.equal(second.code, 0)
  t.match(parseJson<Report>(second.stdout).files, [
    { config: 'get-all.json', result: 'kept', reason: 'edited since it was generated (or written by hand): --force overwrites it' },
    { config: 'grade.json', result: 'updated' }
  ])
  t.equal(await readFile(path.join(ws.configDir, 'get-all.json'), 'utf8'), edited, 'the edit survives')
  t.match(await readFile(path.join(ws.configDir, 'grade.json'), 'utf8'), '"description": "Update the price of a grade in a pricebook (v2)"')

  const dry = await runCli(ws, ['generate', specs, '--force', '--dry-run', '--json'])
  t.match(parseJson<Report>(dry.stdout), { dryRun: true, files: [{ config: 'get-all.json', result: 'updated' }, { result: 'unchanged' }] })
  t.equal(await readFile(path.join(ws.configDir, 'get-all.json'), 'utf8'), edited, 'a dry run writes nothing')

  const forced = await runCli(ws, ['generate', specs, '--force'])
  t.equal(forced.code, 0)
  t.match(forced.stdout, /get-all\.md\s+get-all\.json\s+updated/)
  t.match(await readFile(path.join(ws.configDir, 'get-all.json'), 'utf8'), '"status": ""')
  t.equal(await readFile(path.join(ws.configDir, 'auth-signin.json'), 'utf8'), '{"body":{"username":"u","password":"p"}}\n', 'credentials untouched')
})

t.test('a generated config drives calls: its defaults reach Evercycle', async (t) => {
  const sim = await startSimulator(t)
  const ws = await signedIn(t, sim)
  const specs = await tempDir(t, 'specs-')
  await cp(path.join(SPECS, 'get-asset-id.md'), path.join(specs, 'get-asset-id.md'))
  t.equal((await runCli(ws, ['generate', specs])).code, 0)
  const res = await runCli(ws, ['call', 'get-asset-id', '--param', 'id=1003'])
  t.equal(res.code, 0, res.stderr)
  t.match(sim.callsTo('GET', '/v1/asset/1003'), [{ query: 'include=history' }])
})

t.test('generate refuses a missing or empty specs directory', async (t) => {
  const ws = await workspace(t, undefined)
  const missing = await runCli(ws, ['generate', path.join(ws.dir, 'nope')])
  t.equal(missing.code, 1)
  t.match(parseJson<{ error: { code: string; message: string } }>(missing.stderr).error, { code: 'not_found', message: /Cannot read the specs directory/ })
  const empty = await runCli(ws, ['generate', ws.configDir])
  t.equal(empty.code, 1)
  t.match(parseJson<{ error: { message: string } }>(empty.stderr).error.message, /No markdown specs/)
})
