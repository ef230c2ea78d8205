import { Agent, request, type Dispatcher } from 'undici'
import { CliError } from '../cli-error.js'

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE'

const TIMEOUT_MS = 30_000
/** `run --wait` asks the server to hold the reply up to 60 s. */
const LONG_TIMEOUT_MS = 75_000

interface FlowRunnerError {
  error?: { code?: unknown; message?: unknown; details?: unknown }
}

/**
 * FlowRunner's HTTP API as the CLI uses it: JSON in and out, the bearer token on every call, and every error
 * reply turned into a CliError carrying FlowRunner's own code, message and details (printed in the CLI's
 * error shape, exit 1). The token is only ever sent in the Authorization header.
 */
export class FlowRunnerClient {
  private readonly dispatcher: Agent
  /** Called on a 401 (the login is gone or revoked): the message says what to do. */
  unauthorizedHint = ''

  constructor(
    readonly server: string,
    public token: string | undefined = undefined
  ) {
    this.dispatcher = new Agent({ connections: 4, headersTimeout: LONG_TIMEOUT_MS, bodyTimeout: LONG_TIMEOUT_MS })
  }

  async call<T>(method: Method, path: string, body?: unknown, options: { timeoutMs?: number } = {}): Promise<T> {
    const { status, text } = await this.send(method, path, body, options.timeoutMs ?? TIMEOUT_MS)
    if (status >= 200 && status < 300) return (text === '' ? {} : JSON.parse(text)) as T
    throw this.errorFrom(method, path, status, text)
  }

  /** Like `call`, but a reply with one of `statuses` comes back as `undefined` instead of an error. */
  async maybe<T>(method: Method, path: string, statuses: number[], body?: unknown): Promise<T | undefined> {
    const { status, text } = await this.send(method, path, body, TIMEOUT_MS)
    if (status >= 200 && status < 300) return (text === '' ? {} : JSON.parse(text)) as T
    if (statuses.includes(status)) return undefined
    throw this.errorFrom(method, path, status, text)
  }

  async close(): Promise<void> {
    await this.dispatcher.close()
  }

  private async send(method: Method, path: string, body: unknown, timeoutMs: number): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    let res: Dispatcher.ResponseData
    try {
      res = await request(`${this.server}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        dispatcher: this.dispatcher,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs
      })
    } catch (err) {
      const code = (err as { code?: string }).code
      throw new CliError('unreachable', `Could not reach FlowRunner at ${this.server} (${code ?? (err as Error).message})`, { server: this.server })
    }
    return { status: res.statusCode, text: await res.body.text() }
  }

  private errorFrom(method: Method, path: string, status: number, text: string): CliError {
    let parsed: FlowRunnerError | undefined
    try {
      parsed = JSON.parse(text) as FlowRunnerError
    } catch {
      parsed = undefined
    }
    const e = parsed?.error
    const code = typeof e?.code === 'string' ? e.code : status === 404 ? 'not_found' : 'server_error'
    let message = typeof e?.message === 'string' ? e.message : `${method} ${path} answered ${status}`
    if (status === 401 && this.unauthorizedHint !== '') message = `${message}. ${this.unauthorizedHint}`
    return new CliError(code, message, e?.details ?? null, status)
  }
}

/** A path segment, escaped. */
export function seg(value: string): string {
  return encodeURIComponent(value)
}
