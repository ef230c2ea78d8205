import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import tap from 'tap'
import { tempDir } from '../helpers/gateway.js'
import { errorOf, flowsCli, flowsServer, loginAdmin } from './helpers/flows.js'

const { fr, url } = await flowsServer(tap)
const cli = await flowsCli(tap, url)
await loginAdmin(cli)
const dir = await tempDir(tap, 'flows-yaml-')

function definition(name: string, expression: string): string {
  return `metadata:
  name: ${name}
  description: adds one
  version: "1.0.0"
nodes:
  start:
    type: transform
    params:
      expression: "${expression}"
    next:
      default: finish
  finish:
    type: transform
    params:
      expression: "nodes.start"
`
}

async function versions(id: string): Promise<number> {
  return (await fr.request('GET', `/api/v1/flows/${id}/versions`, { token: fr.admin.token })).json<{ total: number }>().total
}

async function flowId(name: string): Promise<string> {
  const flows = (await fr.request('GET', '/api/v1/flows?limit=100', { token: fr.admin.token })).json<{ flows: Array<{ id: string; name: string }> }>().flows
  return flows.find((f) => f.name === name)?.id ?? ''
}

tap.test('apply creates, then is idempotent, then updates with a diff; list and get read it back', async (t) => {
  const file = path.join(dir, 'adder.yaml')
  await writeFile(file, definition('Adder', 'input.n + 1'))
  const created = await cli.run(['apply', file])
  t.equal(created.code, 0, created.stderr)
  t.match(created.stdout, new RegExp(`${file}: "Adder" created \\(flow-[0-9a-f-]+, revision 1\\)`))
  const id = await flowId('Adder')

  const again = await cli.run(['apply', file])
  t.equal(again.code, 0, again.stderr)
  t.equal(again.stdout, `${file}: "Adder" unchanged (${id}, revision 1)\n`)
  t.equal(await versions(id), 1, 'the second apply saved no new version')

  await writeFile(file, definition('Adder', 'input.n + 2'))
  const dry = await cli.run(['apply', file, '--dry-run'])
  t.equal(dry.code, 0, dry.stderr)
  t.match(dry.stdout, 'would be updated')
  t.equal(await versions(id), 1, '--dry-run saves nothing')

  const updated = await cli.run(['apply', file])
  t.equal(updated.code, 0, updated.stderr)
  t.match(updated.stdout, `${file}: "Adder" updated to revision 2 (${id})`)
  t.match(updated.stdout, `--- Adder (revision 1)\n+++ ${file}\n@@ -6,7 +6,7 @@\n`)
  t.match(updated.stdout, '-      expression: "input.n + 1"\n+      expression: "input.n + 2"\n')
  t.equal(await versions(id), 2)

  const list = await cli.run(['list'])
  t.match(list.stdout, new RegExp(`${id}\\s+Adder\\s+1\\.0\\.0`))
  const json = await cli.run(['list', '--json'])
  t.match(JSON.parse(json.stdout), [{ id, name: 'Adder' }])

  for (const ref of ['Adder', id]) {
    const got = await cli.run(['get', ref])
    t.equal(got.code, 0, got.stderr)
    t.equal(got.stdout, definition('Adder', 'input.n + 2'), `get ${ref} prints the YAML as stored`)
  }
  const missing = await cli.run(['get', 'No Such Flow'])
  t.equal(missing.code, 1)
  t.equal(errorOf(missing.stderr).error.code, 'not_found')
})

tap.test('apply validates every file first: file:line:column for each problem, nothing saved', async (t) => {
  const sub = path.join(dir, 'set')
  await mkdir(sub)
  await writeFile(path.join(sub, 'a-good.yaml'), definition('Good One', '1'))
  await writeFile(
    path.join(sub, 'b-bad.yml'),
    `metadata:
  name: Bad One
nodes:
  start:
    type: transform
    params:
      expression: "1 +"
    next:
      default: nowhere
  other:
    type: no.such.type
`
  )
  await writeFile(path.join(sub, 'c-syntax.yaml'), 'metadata:\n  name: [unclosed\nnodes: {}\n')
  await writeFile(path.join(sub, 'notes.txt'), 'not a flow')
  const res = await cli.run(['apply', sub])
  t.equal(res.code, 1)
  t.equal(res.stdout, '')
  const lines = res.stderr.trim().split('\n')
  const bad = path.join(sub, 'b-bad.yml')
  t.ok(lines.some((l) => l.startsWith(`${bad}:7:19: nodes.start.params.expression `)), res.stderr)
  t.ok(lines.some((l) => l.startsWith(`${bad}:9:16: nodes.start.next.default points to "nowhere"`)), res.stderr)
  t.ok(lines.some((l) => l.startsWith(`${bad}:11:11: nodes.other.type unknown node type "no.such.type"`)), res.stderr)
  t.ok(lines.some((l) => new RegExp(`^${path.join(sub, 'c-syntax.yaml')}:\\d+:\\d+: YAML syntax error`).test(l)), res.stderr)
  t.match(errorOf(res.stderr), { status: 'error', error: { code: 'validation_error', message: /problems in 2 of 3 files: nothing was applied/ } })
  t.equal(await flowId('Good One'), '', 'the valid file was not applied either')

  const twice = path.join(dir, 'twice')
  await mkdir(twice)
  await writeFile(path.join(twice, 'one.yaml'), definition('Same Name', '1'))
  await writeFile(path.join(twice, 'two.yaml'), definition('Same Name', '2'))
  const dup = await cli.run(['apply', twice])
  t.equal(dup.code, 1)
  t.match(dup.stderr, `${path.join(twice, 'two.yaml')}:1:1: metadata.name "Same Name" is also the name in ${path.join(twice, 'one.yaml')}`)

  const none = await cli.run(['apply', path.join(dir, 'missing.yaml')])
  t.equal(none.code, 2, 'a path that is not there is a usage error')
})

tap.test('a directory applies each file; a problem only the server sees is located the same way', async (t) => {
  const sub = path.join(dir, 'mixed')
  await mkdir(sub)
  await writeFile(path.join(sub, 'one.yaml'), definition('Dir One', '1'))
  await writeFile(
    path.join(sub, 'two.yaml'),
    'metadata:\n  name: Dir Two\nnodes:\n  start:\n    type: evercycle\n    params:\n      operation: no-such-operation\n'
  )
  const res = await cli.run(['apply', sub])
  t.equal(res.code, 1)
  t.match(res.stdout, `${path.join(sub, 'one.yaml')}: "Dir One" created`)
  t.match(res.stdout, '2 files: 1 created, 0 updated, 0 unchanged, 1 refused')
  t.match(res.stderr, new RegExp(`${path.join(sub, 'two.yaml')}:7:18: nodes\\.start\\.params\\.operation `))
  t.equal(errorOf(res.stderr).error.code, 'validation_error')

  const again = await cli.run(['apply', path.join(sub, 'one.yaml')])
  t.match(again.stdout, 'unchanged')
})
