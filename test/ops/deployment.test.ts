import { readFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { startScriptNodeFlags } from '../../bench/lib/server-flags.js'

const ROOT = path.resolve(import.meta.dirname, '..', '..')

t.test('npm start and the Docker image run the server with the same node flags, the benches with them too', async (t) => {
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  const start = pkg.scripts.start ?? ''
  const flags = startScriptNodeFlags(start)
  t.ok(flags.includes('--max-semi-space-size=32'), 'a young generation sized for requests waiting on the upstream')
  t.match(start, /dist\/app\/server\.js$/)

  const dockerfile = await readFile(path.join(ROOT, 'Dockerfile'), 'utf8')
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1]
  t.ok(cmd !== undefined, 'the Dockerfile has an exec-form CMD')
  t.same(JSON.parse(cmd ?? '[]'), ['node', ...flags, 'dist/app/server.js'])
})

t.test('start script flags: what sits between node and the script', async (t) => {
  t.same(startScriptNodeFlags('node --a --b=1 dist/app/server.js'), ['--a', '--b=1'])
  t.same(startScriptNodeFlags('node dist/app/server.js'), [])
  t.throws(() => startScriptNodeFlags('tsx app/server.ts'), /should run node directly/)
})
