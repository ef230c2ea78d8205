import { createHmac } from 'node:crypto'
import { once } from 'node:events'
import path from 'node:path'
import pg from 'pg'
import t from 'tap'
import { ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET, SECRETS_KEY, testSchema, type Tap } from '../helpers/flowrunner.js'
import { MISSED_TICKS_MESSAGE } from '../../src/flows/triggers/scheduler.js'
import { tempDir } from '../helpers/gateway.js'
import { startRecordedServer, type RecordedServer } from '../helpers/spawn-server.js'

/**
 * The cluster rules of flow triggers (issue #21, "Must show") with real server processes on one PostgreSQL:
 * a schedule fires once per tick across three replicas and loses no tick when one is SIGKILLed; after a
 * server's downtime `catch_up` decides what the missed ticks run; 50 concurrent webhook requests with one
 * Idempotency-Key over three replicas create one execution; a bad signature starts nothing anywhere.
 */

const POLL_MS = 200
/** What the scheduler counts as on time (plugins/flow-triggers.ts: the poll interval + 1 s). */
const GRACE_MS = POLL_MS + 1000
const SECOND = 1000

type Replica = RecordedServer

interface LogLine {
  level: number
  msg: string
  triggerId?: string
  skipped?: number
  ran?: number
}

interface TickRow {
  id: string
  trigger: string
  tick: string
  created_at: Date
}

function serverEnv(db: { url: string; schema: string }, dir: string): NodeJS.ProcessEnv {
  return {
    PORT: '0',
    DATABASE_URL: db.url,
    DATABASE_POOL_SIZE: '4',
    FLOWRUNNER_QUEUE_SCHEMA: `${db.schema}_q`,
    // no gateway call is made: an address nothing listens on
    EVERCYCLE_BASE_URL: 'http://127.0.0.1:9',
    EVERCYCLE_CONFIG_DIR: path.join(dir, 'config'),
    DATA_DIR: path.join(dir, 'data'),
    SESSION_SECRET: 'triggers-cluster-session-secret-0123456789',
    FLOWRUNNER_ADMIN_EMAIL: ADMIN_EMAIL,
    FLOWRUNNER_ADMIN_PASSWORD: ADMIN_PASSWORD,
    FLOWRUNNER_JWT_SECRET: JWT_SECRET,
    FLOWRUNNER_SECRETS_KEY: SECRETS_KEY,
    FLOWRUNNER_WORKER: 'true',
    FLOWRUNNER_POLL_MS: String(POLL_MS),
    LOG_LEVEL: 'info'
  }
}


function logLines(replica: Replica): LogLine[] {
  const lines: LogLine[] = []
  for (const line of replica.output().split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      lines.push(JSON.parse(line) as LogLine)
    } catch {
      // a line cut by a SIGKILL
    }
  }
  return lines
}

function schedulerFailures(replica: Replica): LogLine[] {
  return logLines(replica).filter((l) => l.msg === 'flowrunner scheduler pass failed')
}

function missedTickWarnings(replica: Replica): LogLine[] {
  return logLines(replica).filter((l) => l.msg === MISSED_TICKS_MESSAGE)
}

async function sqlClient(t: Tap, url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  t.teardown(() => client.end())
  return client
}

async function call(base: string, method: string, url: string, token: string | undefined, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await res.text()
  return { status: res.status, json: text === '' ? null : (JSON.parse(text) as unknown) }
}

async function login(base: string): Promise<{ token: string; accountId: string }> {
  const res = await call(base, 'POST', '/api/v1/auth/login', undefined, { username: ADMIN_EMAIL, password: ADMIN_PASSWORD })
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.json)}`)
  const token = (res.json as { token: string }).token
  const accountId = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sub: string }).sub
  return { token, accountId }
}

/** A flow whose one node returns its trigger, with these triggers (YAML list items). */
function triggeredFlow(name: string, triggers: string): string {
  return `metadata:
  name: ${name}
nodes:
  start:
    type: transform
    params:
      expression: '{"trigger": execution.trigger}'
triggers:
${triggers}`
}

async function createFlow(base: string, token: string, definition: string): Promise<string> {
  const res = await call(base, 'POST', '/api/v1/flows', token, { definition })
  if (res.status !== 201) throw new Error(`flow create failed: ${res.status} ${JSON.stringify(res.json)}`)
  return (res.json as { id: string }).id
}

async function hookPath(base: string, token: string, flowId: string, triggerId: string): Promise<string> {
  const res = await call(base, 'GET', `/api/v1/flows/${flowId}/triggers`, token)
  const url = (res.json as { triggers: Array<{ id: string; url: string | null }> }).triggers.find((x) => x.id === triggerId)?.url
  if (url == null) throw new Error(`flow ${flowId} has no webhook ${triggerId}: ${res.status} ${JSON.stringify(res.json)}`)
  return url
}

async function scheduleTicks(db: pg.Client, flowId: string): Promise<TickRow[]> {
  const { rows } = await db.query<TickRow>(
    `SELECT id, triggered_by->>'id' AS trigger, triggered_by->>'tick' AS tick, created_at FROM executions
      WHERE flow_id = $1 AND triggered_by->>'type' = 'schedule' ORDER BY triggered_by->>'tick', id`,
    [flowId]
  )
  return rows
}

/** The ticks (ms since the epoch) of one trigger, oldest first. */
function ticksOf(rows: TickRow[], trigger: string): number[] {
  return rows.filter((r) => r.trigger === trigger).map((r) => Date.parse(r.tick))
}

/** Every whole second from `from` to `to`, both included. */
function seconds(from: number, to: number): number[] {
  const out: number[] = []
  for (let s = from; s <= to; s += SECOND) out.push(s)
  return out
}

const iso = (ms: number): string => new Date(ms).toISOString()
const isos = (list: number[]): string[] => list.map(iso)

function sleepUntil(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())))
}

/** Polls `check` every 100 ms until it is true; fails with `what` past `deadlineMs`. */
async function until(what: string, deadlineMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + deadlineMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const sign = (secret: string, body: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`

t.test('three replicas, each with a worker, on one PostgreSQL', async (t) => {
  const db = await testSchema(t)
  const sql = await sqlClient(t, db.url)
  const dir = await tempDir(t, 'triggers-cluster-')
  const env = serverEnv(db, dir)
  // the first replica migrates the schema and creates the admin; the others join it
  const first = await startRecordedServer(t, { ...env, TOKEN_FILE: path.join(dir, 'auth-0.properties') })
  const others = await Promise.all([1, 2].map((i) => startRecordedServer(t, { ...env, TOKEN_FILE: path.join(dir, `auth-${i}.properties`) })))
  const replicas = [first, ...others]
  const urls = replicas.map((r) => r.url)
  const { token, accountId } = await login(first.url)

  t.test('50 concurrent webhook requests with one Idempotency-Key over the three replicas: one execution', async (t) => {
    const flowId = await createFlow(urls[1] ?? '', token, triggeredFlow('intake', '  - id: intake\n    type: webhook'))
    const hook = await hookPath(urls[2] ?? '', token, flowId, 'intake')
    const body = '{"order":"A-1","lines":[1,2,3]}'
    const replies = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const res = await fetch(`${urls[i % 3]}${hook}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': 'order-A-1' },
          body
        })
        return { status: res.status, replayed: res.headers.get('idempotent-replayed'), json: (await res.json()) as { execution_id?: string } }
      })
    )
    t.same([...new Set(replies.map((r) => r.status))], [202], 'every request is answered 202')
    const ids = new Set(replies.map((r) => r.json.execution_id))
    t.equal(ids.size, 1, `one execution id in all 50 replies: ${[...ids].join(', ')}`)
    const created = replies.filter((r) => r.replayed !== 'true')
    t.equal(created.length, 1, 'exactly one reply is not Idempotent-Replayed: true (the request that created it)')
    t.same([...new Set(replies.filter((r) => r.replayed !== null).map((r) => r.replayed))], ['true'])
    const { rows } = await sql.query<{ id: string; trigger: unknown }>('SELECT id, triggered_by AS trigger FROM executions WHERE flow_id = $1', [flowId])
    t.same(rows, [{ id: [...ids][0], trigger: { type: 'webhook', id: 'intake' } }], 'exactly one execution in the database, the one replied')
    const keys = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM idempotency_keys WHERE flow_id = $1', [flowId])
    t.equal(keys.rows[0]?.n, 1)
  })

  t.test('a bad signature starts nothing on any replica', async (t) => {
    const secret = 'intake-signing-key-0123456789'
    const set = await call(first.url, 'POST', `/api/v1/accounts/${accountId}/secrets`, token, { key: 'INTAKE_KEY', value: secret })
    t.equal(set.status, 201, JSON.stringify(set.json))
    const flowId = await createFlow(first.url, token, triggeredFlow('signed', '  - id: signed\n    type: webhook\n    secret: "${secrets.INTAKE_KEY}"'))
    const hook = await hookPath(first.url, token, flowId, 'signed')
    const body = '{"asset":"A-2"}'
    const bad: Array<[string, Record<string, string>]> = [
      ['no signature', {}],
      ['signed with another key', { 'x-flowrunner-signature': sign('another-key-0123456789', body) }],
      ['the signature of another body', { 'x-flowrunner-signature': sign(secret, '{"asset":"A-3"}') }],
      ['not a signature', { 'x-flowrunner-signature': 'sha256=zz' }]
    ]
    const replies = await Promise.all(
      urls.flatMap((url) =>
        bad.map(async ([why, headers]) => {
          const res = await fetch(`${url}${hook}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
          return { why, url, status: res.status, json: (await res.json()) as { error?: { code?: string } } }
        })
      )
    )
    for (const r of replies) {
      t.equal(r.status, 401, `${r.why} on ${r.url}`)
      t.equal(r.json.error?.code, 'invalid_signature')
    }
    const count = async (): Promise<number> =>
      (await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM executions WHERE flow_id = $1', [flowId])).rows[0]?.n ?? -1
    t.equal(await count(), 0, 'no execution on any replica')
    t.equal((await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM idempotency_keys WHERE flow_id = $1', [flowId])).rows[0]?.n, 0)
    // the control: the same request signed with the secret starts the flow (the 401s were the signature's)
    const good = await fetch(`${urls[2]}${hook}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-flowrunner-signature': sign(secret, body) }, body })
    t.equal(good.status, 202, await good.text())
    t.equal(await count(), 1)
  })

  t.test('a schedule every second fires each tick once across the replicas; SIGKILL of one loses none', async (t) => {
    // catch_up: once, not all. With `all` a tick fired late would still run, so "no tick lost" would hold even
    // if the surviving replicas took over late; with `once` a tick that no live replica fires within the grace
    // (poll + 1 s) is folded into the next one and shows as a gap. So this also shows they fire on time.
    const flowId = await createFlow(urls[0] ?? '', token, triggeredFlow('every-second', '  - id: tick\n    type: schedule\n    cron: "* * * * * *"\n    catch_up: once'))
    await until('the schedule to fire its first tick', 10_000, async () => (await scheduleTicks(sql, flowId)).length > 0)
    // a 10-second window from a whole second at least 1 s ahead: its ticks are start, start + 1 s ... start + 9 s
    const start = Math.ceil((Date.now() + SECOND) / SECOND) * SECOND
    const end = start + 10 * SECOND
    const expected = seconds(start, end - SECOND)

    // 4 s in, just after a tick falls due (when a replica may be inside its firing transaction), kill one
    await sleepUntil(start + 4 * SECOND + 20)
    const victim = replicas[1]
    if (victim === undefined) throw new Error('replicas')
    const gone = once(victim.child, 'exit')
    victim.child.kill('SIGKILL')
    const [, signal] = (await gone) as [number | null, NodeJS.Signals | null]
    t.equal(signal, 'SIGKILL', `replica ${victim.url} killed at ${iso(Date.now())}`)

    // the first tick after the window fired: every tick of the window has fired or been passed over for good
    await until(`the tick at ${iso(end)}`, 15_000 + end - Date.now(), async () => ticksOf(await scheduleTicks(sql, flowId), 'tick').includes(end))
    const rows = await scheduleTicks(sql, flowId)
    const all = ticksOf(rows, 'tick')
    const inWindow = all.filter((x) => x >= start && x < end)
    t.ok(inWindow.length >= 9 && inWindow.length <= 11, `10 ± 1 executions in the 10 s window: ${inWindow.length}`)
    t.same(isos(inWindow), isos(expected), 'every second of the window exactly once: none lost, none twice')
    t.equal(new Set(all).size, all.length, `no tick twice over the whole run (${all.length} ticks)`)
    t.same(isos(all), isos(seconds(all[0] ?? 0, all.at(-1) ?? 0)), 'no gap anywhere from the first tick to the last')
    const lateness = rows.filter((r) => inWindow.includes(Date.parse(r.tick))).map((r) => new Date(r.created_at).getTime() - Date.parse(r.tick))
    t.comment(`execution created after its tick: max ${Math.max(...lateness)} ms, median ${lateness.sort((x, y) => x - y)[Math.floor(lateness.length / 2)]} ms`)
    for (const r of replicas) {
      t.same(schedulerFailures(r), [], `no failed scheduler pass on ${r.url} (a tick fired twice would fail on the unique index)`)
      t.same(missedTickWarnings(r), [], `no tick counted as missed on ${r.url}`)
    }
  })
})

t.test('after a server is down, catch_up decides what the missed ticks run: all each, skip none, once one', async (t) => {
  const db = await testSchema(t)
  const sql = await sqlClient(t, db.url)
  const dir = await tempDir(t, 'triggers-downtime-')
  const env = serverEnv(db, dir)
  const server = await startRecordedServer(t, env)
  const { token } = await login(server.url)
  const modes = ['all', 'skip', 'once'] as const
  const flowId = await createFlow(
    server.url,
    token,
    triggeredFlow('catch-up', modes.map((m) => `  - id: ${m}\n    type: schedule\n    cron: "* * * * * *"\n    catch_up: ${m}`).join('\n'))
  )
  await until('each schedule to fire', 10_000, async () => {
    const rows = await scheduleTicks(sql, flowId)
    return modes.every((m) => ticksOf(rows, m).length >= 2)
  })

  // stop: SIGTERM, and the process gone
  const gone = once(server.child, 'exit')
  server.child.kill('SIGTERM')
  const [code] = (await gone) as [number | null, NodeJS.Signals | null]
  const stopAt = Date.now()
  t.equal(code, 0, 'the server shut down cleanly')
  const before = await scheduleTicks(sql, flowId)
  const lastBefore = new Map(modes.map((m) => [m, Math.max(...ticksOf(before, m))]))
  for (const m of modes) t.ok((lastBefore.get(m) ?? Infinity) <= stopAt, `${m}: nothing fired after the stop`)

  // Down for 5 s, or a little longer when needed for the asserted window to hold 3 ticks: the ticks strictly
  // between stopAt + 1 s and restartAt - grace - 1 s (restartAt: when the new process is spawned, before its
  // scheduler can have looked). Those are missed in every mode: past the grace when the scheduler first looks.
  const firstInWindow = Math.floor((stopAt + SECOND) / SECOND) * SECOND + SECOND
  await sleepUntil(Math.max(stopAt + 5 * SECOND, firstInWindow + 2 * SECOND + GRACE_MS + SECOND + 1))
  const restartAt = Date.now()
  const restarted = await startRecordedServer(t, env)
  const downWindow = seconds(firstInWindow, restartAt - GRACE_MS - SECOND).filter((x) => x < restartAt - GRACE_MS - SECOND)
  t.ok(downWindow.length >= 3, `the window holds ${downWindow.length} ticks (${iso(downWindow[0] ?? 0)} .. ${iso(downWindow.at(-1) ?? 0)}), down ${restartAt - stopAt} ms`)

  // on-time firing has resumed for all three: observe up to a tick 2 s after the restarted server listens
  const horizon = Math.ceil(Date.now() / SECOND) * SECOND + 2 * SECOND
  await until(`each schedule's tick at ${iso(horizon)}`, 15_000 + horizon - Date.now(), async () => {
    const rows = await scheduleTicks(sql, flowId)
    return modes.every((m) => ticksOf(rows, m).includes(horizon))
  })
  const rows = await scheduleTicks(sql, flowId)
  const ticks = new Map(modes.map((m) => [m, ticksOf(rows, m).filter((x) => x <= horizon)]))
  const after = new Map(modes.map((m) => [m, (ticks.get(m) ?? []).filter((x) => x > (lastBefore.get(m) ?? Infinity))]))
  for (const m of modes) {
    const list = ticks.get(m) ?? []
    t.equal(new Set(list).size, list.length, `${m}: no tick twice`)
  }
  const inWindow = (m: (typeof modes)[number]): number[] => (ticks.get(m) ?? []).filter((x) => downWindow.includes(x))

  // all: each tick, missed or not: no gap from the first tick to the last
  const all = ticks.get('all') ?? []
  t.same(isos(all), isos(seconds(all[0] ?? 0, horizon)), '`all` ran every tick, the downtime included')
  t.same(isos(inWindow('all')), isos(downWindow), '`all` ran each tick of the window')

  // skip: none of the window's; after the restart only on-time ticks, consecutive from the first of them
  t.same(isos(inWindow('skip')), [], '`skip` ran no tick of the window')
  const skipAfter = after.get('skip') ?? []
  const firstOnTime = skipAfter[0] ?? 0
  t.same(isos(skipAfter), isos(seconds(firstOnTime, horizon)), '`skip`: after the restart, only consecutive on-time ticks')
  // the restarted scheduler looked no earlier than restartAt: nothing older than restartAt - grace is on time
  t.ok(firstOnTime >= restartAt - GRACE_MS, `\`skip\` resumed at ${iso(firstOnTime)}, on time for a scheduler started after ${iso(restartAt)}`)
  const missed = seconds((lastBefore.get('skip') ?? 0) + SECOND, firstOnTime - SECOND)
  t.ok(missed.length >= downWindow.length, `${missed.length} ticks missed (${iso(missed[0] ?? 0)} .. ${iso(missed.at(-1) ?? 0)})`)

  // once: the one missed tick it runs is the latest, the second before the first on-time tick, so it always lies
  // past the window (whose end keeps 1 s from restartAt - grace): the window shows none of `once`'s ticks, and
  // "exactly one" is asserted over all the missed ticks, their end taken from `skip` (the restarted server's
  // first pass fires the three schedules in one transaction with one clock, so their on-time ticks are the same)
  t.same(isos(inWindow('once')), [], '`once` ran no older tick of the window')
  const onceAfter = after.get('once') ?? []
  const onceMissed = onceAfter.filter((x) => x < firstOnTime)
  t.equal(onceMissed.length, 1, `\`once\` ran exactly one of the ${missed.length} missed ticks: ${isos(onceMissed).join(', ')}`)
  t.same(isos(onceMissed), isos([firstOnTime - SECOND]), 'the latest missed tick')
  t.same(isos(onceAfter.filter((x) => x >= firstOnTime)), isos(skipAfter), '`once`: then the same on-time ticks as `skip`')
  t.same(isos((after.get('all') ?? []).filter((x) => x >= firstOnTime)), isos(skipAfter), '`all`: the same on-time ticks')
  t.equal((after.get('all') ?? []).filter((x) => x < firstOnTime).length, missed.length, '`all` ran each missed tick')

  for (const w of missedTickWarnings(restarted)) t.comment(`restarted server: ${w.triggerId}: ran ${w.ran}, skipped ${w.skipped}`)
  t.same(schedulerFailures(server), [])
  t.same(schedulerFailures(restarted), [])
})
