import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Teardown } from './gateway.js'

export interface ReceivedRequest {
  method: string
  path: string
  /** The raw query string, without `?`. */
  query: string
  headers: http.IncomingHttpHeaders
  body: string
}

export interface Route {
  status?: number
  body?: unknown
  headers?: Record<string, string>
  /** Answer after this many ms (a slow endpoint). */
  delayMs?: number
  /** Never answer (until the client gives up). */
  hang?: boolean
  /** Answer only once this settles: a gate the test opens. */
  until?: Promise<unknown>
  /** Answer with what was received: `{method, path, query, headers, body}` (body parsed when JSON). */
  echo?: boolean
}

/**
 * A loopback HTTP endpoint for flow nodes to call: it records every request and answers per path, with a
 * queue of answers per path (the last one repeats) so a test can script "503, 503, then 200".
 */
export class Receiver {
  readonly requests: ReceivedRequest[] = []
  /** Requests whose client went away before they were answered. */
  aborted = 0
  private readonly routes = new Map<string, Route[]>()
  private readonly waiters: Array<{ path: string; count: number; resolve: () => void }> = []
  private readonly abortWaiters: Array<{ count: number; resolve: () => void }> = []
  private readonly server = http.createServer((req, res) => void this.handle(req, res))
  port = 0

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  on(path: string, ...answers: Route[]): this {
    this.routes.set(path, answers)
    return this
  }

  to(path: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.path === path)
  }

  /** Resolves once `count` requests for `path` have arrived. */
  arrival(path: string, count = 1): Promise<void> {
    if (this.to(path).length >= count) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({ path, count, resolve }))
  }

  /** Resolves once `count` requests in all have been torn down by their client before being answered. */
  abortion(count = 1): Promise<void> {
    if (this.aborted >= count) return Promise.resolve()
    return new Promise((resolve) => this.abortWaiters.push({ count, resolve }))
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
    return this
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const target = req.url ?? '/'
    const q = target.indexOf('?')
    const path = q === -1 ? target : target.slice(0, q)
    const received: ReceivedRequest = {
      method: req.method ?? 'GET',
      path,
      query: q === -1 ? '' : target.slice(q + 1),
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8')
    }
    this.requests.push(received)
    for (const w of this.waiters.splice(0)) {
      if (w.path === path && this.to(path).length >= w.count) w.resolve()
      else this.waiters.push(w)
    }
    const answers = this.routes.get(path) ?? [{ status: 404, body: { message: 'no route' } }]
    const route = (answers.length > 1 ? answers.shift() : answers[0]) as Route
    res.once('close', () => {
      if (res.writableFinished) return
      this.aborted++
      for (const w of this.abortWaiters.splice(0)) {
        if (this.aborted >= w.count) w.resolve()
        else this.abortWaiters.push(w)
      }
    })
    if (route.hang === true) return
    if (route.until !== undefined) await route.until
    if (route.delayMs !== undefined) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, route.delayMs)
        res.once('close', () => {
          clearTimeout(timer)
          resolve()
        })
      })
      if (res.destroyed) return
    }
    const payload = route.echo === true ? echoOf(received) : route.body
    const body = payload === undefined ? '' : typeof payload === 'string' ? payload : JSON.stringify(payload)
    res.writeHead(route.status ?? 200, { 'content-type': typeof payload === 'string' ? 'text/plain' : 'application/json', ...route.headers })
    res.end(body)
  }
}

function echoOf(r: ReceivedRequest): Record<string, unknown> {
  let body: unknown = r.body
  try {
    body = r.body === '' ? null : JSON.parse(r.body)
  } catch {
    // not JSON: echoed as text
  }
  return { method: r.method, path: r.path, query: r.query, headers: r.headers, body }
}

export async function startReceiver(t: Teardown): Promise<Receiver> {
  const r = await new Receiver().listen()
  t.teardown(() => r.close())
  return r
}
