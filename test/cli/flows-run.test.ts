import { once } from 'node:events'
import tap from 'tap'
import { createFlow, getExecution, waitFinal } from '../helpers/executions.js'
import { errorOf, flowsCli, flowsServer, loginAdmin, spawnCli } from './helpers/flows.js'

const { fr, url } = await flowsServer(tap)
const cli = await flowsCli(tap, url)
await loginAdmin(cli)
const token = fr.admin.token

const okFlow = await createFlow(fr, token, `
metadata: { name: Doubler }
nodes:
  start:
    type: transform
    params: { expression: "input.n * 2" }
    next: { default: done }
  done:
    type: transform
    params: { expression: "{ 'doubled': nodes.start }" }
`)
await createFlow(fr, token, `
metadata: { name: Breaker }
nodes:
  start:
    type: transform
    params: { expression: '$error("broken on purpose")' }
`)
await createFlow(fr, token, `
metadata: { name: Sleeper }
nodes:
  start:
    type: delay
    params: { duration: 10m }
`)

interface Execution {
  id: string
  status: string
  result: unknown
  error?: string
}

tap.test('run without --wait prints the new execution; --wait shows progress and exits 0 when it completes', async (t) => {
  const started = await cli.run(['run', 'Doubler', '--input', '{"n": 21}'])
  t.equal(started.code, 0, started.stderr)
  const reply = JSON.parse(started.stdout) as { execution_id: string; flow_id: string }
  t.equal(reply.flow_id, okFlow)
  t.equal((await waitFinal(fr, token, reply.execution_id)).status, 'completed')

  const waited = await cli.run(['run', okFlow, '--input', '{"n": 5}', '--wait'])
  t.equal(waited.code, 0, waited.stderr)
  const ended = JSON.parse(waited.stdout) as Execution
  t.match(ended, { status: 'completed', result: { doubled: 10 } })
  // piped: plain lines, no terminal escapes
  t.notMatch(waited.stderr, '\u001b[')
  t.match(waited.stderr, `execution ${ended.id} started\n`)
  t.match(waited.stderr, 'node start (transform) completed\n')
  t.match(waited.stderr, 'node done (transform) completed\n')
  t.match(waited.stderr, new RegExp(`execution ${ended.id} completed( \\d+ ms)?\\n$`))

  const badInput = await cli.run(['run', 'Doubler', '--input', '[1]'])
  t.equal(badInput.code, 2)
  t.match(errorOf(badInput.stderr).error, { code: 'usage_error', message: '--input must be a JSON object' })
})

tap.test('run --wait exits 1 when the execution fails', async (t) => {
  const res = await cli.run(['run', 'Breaker', '--wait'])
  t.equal(res.code, 1)
  const ended = JSON.parse(res.stdout) as Execution
  t.equal(ended.status, 'failed')
  t.match(res.stderr, `execution ${ended.id} failed at start`)
  t.match(errorOf(res.stderr).error, { code: 'execution_failed', message: /broken on purpose/ })
})

tap.test('Ctrl-C during run --wait (not a terminal): cancels the execution without asking, exit 130', async (t) => {
  const child = spawnCli({ env: cli.env }, ['flows', 'run', 'Sleeper', '--wait'])
  child.stdin.end()
  let stderr = ''
  let stdout = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')))
  const closed = once(child, 'close')
  // the delay is reached once the execution is waiting: then interrupt (waits on output, not on time)
  await new Promise<void>((resolve) => {
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8')
      if (/node start \(delay\) waiting/.test(stderr)) resolve()
    })
  })
  child.kill('SIGINT')
  const [code] = (await closed) as [number | null]
  t.equal(code, 130, stderr)
  const ended = JSON.parse(stdout) as Execution
  t.equal(ended.status, 'cancelled')
  t.equal((await getExecution(fr, token, ended.id)).status, 'cancelled', 'cancelled on the server')
  t.match(stderr, `cancelling ${ended.id}`)
  t.notMatch(stderr, 'Cancel the execution?', 'no question when stdin is not a terminal')
})

tap.test('executions, logs (and --follow), cancel', async (t) => {
  const list = await cli.run(['executions', '--flow', 'Doubler', '--status', 'completed'])
  t.equal(list.code, 0, list.stderr)
  const rows = list.stdout.trim().split('\n')
  t.match(rows[0], /^ID\s+FLOW\s+REV\s+STATUS/)
  t.equal(rows.length, 3, 'the two completed Doubler runs')
  t.ok(rows.slice(1).every((r) => r.includes(okFlow) && r.includes('completed')))
  const failed = JSON.parse((await cli.run(['executions', '--status', 'failed', '--json'])).stdout) as Execution[]
  t.equal(failed.length, 1)
  const badStatus = await cli.run(['executions', '--status', 'exploded'])
  t.equal(badStatus.code, 2)

  const logs = await cli.run(['logs', failed[0]?.id ?? ''])
  t.equal(logs.code, 0, logs.stderr)
  t.match(logs.stdout, /Z info {2}\[start transform\] Node started/)
  t.match(logs.stdout, /Z error/)
  const errorsOnly = await cli.run(['logs', failed[0]?.id ?? '', '--level', 'error', '--json'])
  const lines = errorsOnly.stdout.trim().split('\n').map((l) => JSON.parse(l) as { level: string })
  t.ok(lines.length > 0 && lines.every((l) => l.level === 'error'))

  // --follow on a running execution ends when it is cancelled
  const started = JSON.parse((await cli.run(['run', 'Sleeper'])).stdout) as { execution_id: string }
  const id = started.execution_id
  const follow = spawnCli({ env: cli.env }, ['flows', 'logs', id, '--follow'])
  follow.stdin.end()
  let followed = ''
  const followClosed = once(follow, 'close')
  await new Promise<void>((resolve) => {
    follow.stdout.on('data', (c: Buffer) => {
      followed += c.toString('utf8')
      if (followed.includes('Node started')) resolve()
    })
  })
  const cancelled = await cli.run(['cancel', id])
  t.equal(cancelled.code, 0, cancelled.stderr)
  t.equal(cancelled.stdout, `Cancelled ${id}.\n`)
  const [followCode] = (await followClosed) as [number | null]
  t.equal(followCode, 0)
  t.match(followed, 'Execution cancelled', 'the live line arrived before --follow ended')
  t.equal(followed.split('\n').filter((l) => l.includes('Node started')).length, 1, 'no line twice')

  const again = await cli.run(['cancel', id])
  t.equal(again.code, 1)
  t.equal(errorOf(again.stderr).error.code, 'conflict')
})
