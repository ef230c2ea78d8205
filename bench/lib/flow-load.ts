import WebSocket from 'ws'
import { ApiError, type ExecutionReply, type FlowRunnerApi, type LogLine } from '../../dev/demo/flowrunner-api.js'

/**
 * The flows bench's load: a closed loop that keeps `inflight` executions going. Each lane POSTs a run, watches
 * that execution over its own WebSocket (as a UI would) until the final message, and starts the next one. So
 * the server never has more executions than its workers can take at once, and "created → first node started"
 * measures how fast an idle worker picks new work up, not how long a backlog is.
 *
 * A request the server sheds (503 `overloaded`, its load-shedding answer) is counted and retried after a pause
 * rather than failing the round: the pauses then show in the rate, and the count is reported beside it.
 */

const FINAL = new Set(['execution_completed', 'execution_failed', 'execution_cancelled'])
const TERMINAL_STATUS = new Set(['completed', 'failed', 'cancelled'])

export interface ExecutionSample {
  id: string
  /** The server's created_at (ms since the epoch). */
  createdAt: number
  /** Client clock, ms since the epoch: just before the POST, and when the final message arrived. */
  postedAt: number
  finalAt: number
  finalType: string
}

export interface LoadResult {
  samples: ExecutionSample[]
  /** Receipt time minus the message's `timestamp`, for every message sent live (not replays of a past end). */
  wsLagsMs: number[]
  wallSeconds: number
  errors: string[]
  /** Requests (runs or WebSocket upgrades) refused with 503 and retried. */
  shed: number
}

export interface LoadOptions {
  api: FlowRunnerApi
  wsBase: string
  flowId: string
  input: Record<string, unknown>
  total: number
  inflight: number
  /** An execution not over by then is an error (and its socket is dropped), so a round always ends. */
  executionTimeoutMs: number
}

/** How long a lane waits before retrying a shed request (shorter than Retry-After, to keep rounds bounded). */
const SHED_PAUSE_MS = 1000
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

class ShedError extends Error {
  override name = 'ShedError'
}

function isShed(err: unknown): boolean {
  return err instanceof ShedError || (err instanceof ApiError && err.status === 503)
}

interface Message {
  type?: unknown
  status?: unknown
  timestamp?: unknown
}

/** Resolves with the final message's type and arrival time; rejects if the socket ends without one. */
function watch(url: string, token: string, timeoutMs: number, lags: number[]): Promise<{ finalType: string; finalAt: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } })
    // refused before the upgrade: the status tells a shed (retry) from a real refusal
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer)
      res.resume()
      ws.terminate()
      const status = res.statusCode ?? 0
      reject(status === 503 ? new ShedError('upgrade shed (503)') : new Error(`upgrade refused with ${status}`))
    })
    let first = true
    let replay = false
    let final: { finalType: string; finalAt: number } | undefined
    const timer = setTimeout(() => {
      ws.terminate()
      reject(new Error(`no final message within ${timeoutMs} ms`))
    }, timeoutMs)
    ws.on('message', (data) => {
      const at = Date.now()
      let m: Message
      try {
        m = JSON.parse(String(data)) as Message
      } catch {
        return
      }
      // a subscriber that joined after the end gets the status and then the stored final message: not live
      if (first && m.type === 'execution_update' && typeof m.status === 'string' && TERMINAL_STATUS.has(m.status)) replay = true
      first = false
      if (!replay && typeof m.timestamp === 'string') lags.push(at - Date.parse(m.timestamp))
      if (typeof m.type === 'string' && FINAL.has(m.type)) final = { finalType: m.type, finalAt: at }
    })
    ws.on('close', (code) => {
      clearTimeout(timer)
      if (final !== undefined) resolve(final)
      else reject(new Error(`socket closed (${code}) before a final message`))
    })
    ws.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
  })
}

/** Runs `fn` again while the server sheds it (up to `limitMs`); for setup and read-back calls. */
export async function retryShed<T>(fn: () => Promise<T>, limitMs = 60_000): Promise<T> {
  const deadline = Date.now() + limitMs
  for (;;) {
    try {
      return await fn()
    } catch (err) {
      if (!isShed(err) || Date.now() > deadline) throw err
      await sleep(SHED_PAUSE_MS)
    }
  }
}

export async function closedLoop(o: LoadOptions): Promise<LoadResult> {
  const token = o.api.token
  if (token === undefined) throw new Error('log in first')
  const samples: ExecutionSample[] = []
  const wsLagsMs: number[] = []
  const errors: string[] = []
  let started = 0
  let shed = 0
  /** `fn`, retried while the server sheds it; other failures pass through. */
  const unshed = async <T>(fn: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        return await fn()
      } catch (err) {
        if (!isShed(err)) throw err
        shed++
        await sleep(SHED_PAUSE_MS)
      }
    }
  }
  const lane = async (): Promise<void> => {
    while (started < o.total) {
      started++
      const postedAt = Date.now()
      try {
        const run = await unshed(() => o.api.run(o.flowId, o.input))
        const url = `${o.wsBase}/ws/executions/${run.execution_id}`
        const { finalType, finalAt } = await unshed(() => watch(url, token, o.executionTimeoutMs, wsLagsMs))
        samples.push({ id: run.execution_id, createdAt: Date.parse(run.created_at), postedAt, finalAt, finalType })
      } catch (err) {
        errors.push((err as Error).message)
      }
    }
  }
  const t0 = process.hrtime.bigint()
  await Promise.all(Array.from({ length: o.inflight }, () => lane()))
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9
  return { samples, wsLagsMs, wallSeconds, errors, shed }
}

export interface ServerTimes {
  /** created → the "Execution started" log row, written as the first node begins. */
  queueToStartMs: number[]
  /** created → completed_at. */
  endToEndMs: number[]
  /** Executions that did not complete, or whose first log line was not "Execution started". */
  problems: string[]
}

/**
 * The server's own timestamps, read back through the API after the round (not timed): created_at from the run
 * reply, the first log line's timestamp, and completed_at.
 */
export async function serverTimes(api: FlowRunnerApi, samples: readonly ExecutionSample[], parallel = 8): Promise<ServerTimes> {
  const out: ServerTimes = { queueToStartMs: [], endToEndMs: [], problems: [] }
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < samples.length) {
      const s = samples[next++]
      if (s === undefined) return
      let execution: ExecutionReply
      let first: LogLine | undefined
      try {
        const [e, logs] = await Promise.all([retryShed(() => api.execution(s.id)), retryShed(() => api.logs(s.id, '?limit=1'))])
        execution = e
        first = logs.logs[0]
      } catch (err) {
        out.problems.push(`${s.id}: reading it back failed: ${(err as Error).message}`)
        continue
      }
      if (execution.status !== 'completed' || execution.completed_at === null) {
        out.problems.push(`${s.id}: ${execution.status}${execution.error === undefined ? '' : ` (${execution.error})`}`)
        continue
      }
      if (first?.message !== 'Execution started') {
        out.problems.push(`${s.id}: first log line is ${JSON.stringify(first?.message)}`)
        continue
      }
      out.queueToStartMs.push(Date.parse(first.timestamp) - s.createdAt)
      out.endToEndMs.push(Date.parse(execution.completed_at) - s.createdAt)
    }
  }
  await Promise.all(Array.from({ length: parallel }, () => worker()))
  return out
}
