import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'

const ROOT = path.resolve(import.meta.dirname, '..', '..')
const run = promisify(execFile)

t.test('without a reachable test database the PostgreSQL helpers fail with one message naming the URL and the fix', async (t) => {
  // nothing listens on port 1; the password must not be shown
  const url = 'postgres://postgres:hunter2-not-shown@127.0.0.1:1/test'
  const script = "const m = await import('./test/helpers/flowrunner.ts'); await m.testSchema({ teardown() {} })"
  const failed = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', FLOWRUNNER_TEST_DATABASE_URL: url }
  }).then(
    () => undefined,
    (err: { stderr: string }) => err.stderr
  )
  t.ok(failed !== undefined, 'the helper threw')
  t.match(failed, 'The PostgreSQL-backed tests need a database at postgres://postgres:***@127.0.0.1:1/test, which failed (ECONNREFUSED)')
  t.match(failed, 'FLOWRUNNER_TEST_DATABASE_URL')
  t.match(failed, 'docs/testing.md')
  t.notMatch(failed, 'hunter2')
})
