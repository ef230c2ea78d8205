import type { OutStream } from '../output.js'
import type { ExecutionEvent } from './types.js'

const CLEAR_LINE = '\r\u001b[2K'

function node(e: ExecutionEvent): string {
  return e.node_type === undefined ? (e.node_id ?? '') : `${e.node_id ?? ''} (${e.node_type})`
}

function since(start: number, at: string): string {
  const ms = Date.parse(at) - start
  return Number.isFinite(ms) && ms >= 0 ? ` ${ms} ms` : ''
}

/**
 * Node progress of one execution on stderr. On a terminal: a line per finished node, and the node running now
 * on a last line rewritten in place. Piped: one plain line per change, for logs and CI.
 */
export class ProgressView {
  private current = ''
  private lastLine = ''
  private readonly started = Date.now()

  constructor(
    private readonly stream: OutStream,
    private readonly tty: boolean
  ) {}

  event(e: ExecutionEvent): void {
    switch (e.type) {
      case 'execution_update':
        if (e.node_id !== undefined) this.status(`${this.tty ? '…' : 'node'} ${node(e)} ${e.status ?? ''}`.trimEnd())
        else this.status(`execution ${e.status ?? ''}`.trimEnd())
        break
      case 'node_completed':
        this.current = ''
        this.line(`${this.tty ? '✔' : 'node'} ${node(e)} completed`)
        break
      case 'log':
        if (e.level === 'warn' || e.level === 'error') this.line(`${e.level}: ${e.node_id === undefined ? '' : `[${e.node_id}] `}${e.message ?? ''}`)
        break
      case 'execution_completed':
        this.current = ''
        this.line(`execution ${e.execution_id} completed${since(this.started, e.timestamp)}`)
        break
      case 'execution_failed':
        this.current = ''
        this.line(`execution ${e.execution_id} failed${e.node_id === undefined ? '' : ` at ${node(e)}`}: ${e.error ?? 'unknown error'}`)
        break
      case 'execution_cancelled':
        this.current = ''
        this.line(`execution ${e.execution_id} cancelled`)
        break
    }
  }

  /** Note a message (a prompt's answer, a cancel) without losing the status line. */
  note(text: string): void {
    this.line(text)
  }

  /** Leaves the terminal on a clean line. */
  close(): void {
    if (this.tty && this.current !== '') this.stream.write(CLEAR_LINE)
    this.current = ''
  }

  private status(text: string): void {
    if (!this.tty) {
      this.line(text)
      return
    }
    this.current = text
    this.stream.write(`${CLEAR_LINE}${text}`)
  }

  private line(text: string): void {
    if (!this.tty) {
      if (text !== this.lastLine) this.stream.write(`${text}\n`)
      this.lastLine = text
      return
    }
    this.stream.write(`${CLEAR_LINE}${text}\n${this.current}`)
  }
}
