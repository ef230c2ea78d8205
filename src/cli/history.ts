import { appendFile, mkdir, readFile, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '../util/atomic-write.js'
import { redact } from './redact.js'

export interface HistoryEntry {
  at: string
  operation: string
  method: string
  /** The Evercycle path (path parameters filled in). */
  path: string
  status: number | null
  ok: boolean
  ms: number
  /** `evercycle` (direct) or the gateway's URL. */
  via: string
  error?: { code: string; message: string }
  request: { query?: unknown; body?: unknown }
  response?: unknown
}

export const DEFAULT_HISTORY_MAX_BYTES = 1024 * 1024
const MIN_HISTORY_MAX_BYTES = 4096

/**
 * Request/response history as JSON lines (mode 0600: responses are business data). Secrets are redacted before
 * anything is written; bodies are cut to a share of the cap; when the file would pass the cap, the oldest
 * entries go and the newest half is kept, rewritten atomically.
 */
export class HistoryFile {
  readonly maxBytes: number
  private readonly bodyLimit: number

  constructor(
    readonly file: string,
    maxBytes: number = DEFAULT_HISTORY_MAX_BYTES,
    private readonly secrets: () => readonly string[] = () => [],
    /** Makes the file's directory (the state directory's own, 0700, when the file is there). */
    private readonly prepareDir: () => Promise<unknown> = () => mkdir(path.dirname(file), { recursive: true })
  ) {
    this.maxBytes = Math.max(MIN_HISTORY_MAX_BYTES, maxBytes)
    this.bodyLimit = Math.min(16 * 1024, Math.floor(this.maxBytes / 8))
  }

  async append(entry: HistoryEntry): Promise<void> {
    const known = this.secrets()
    const clean: HistoryEntry = {
      ...entry,
      error: entry.error === undefined ? undefined : { code: entry.error.code, message: String(redact(entry.error.message, known)) },
      request: { query: this.cap(redact(entry.request.query, known)), body: this.cap(redact(entry.request.body, known)) },
      response: entry.response === undefined ? undefined : this.cap(redact(entry.response, known))
    }
    const line = `${JSON.stringify(clean)}\n`
    await this.prepareDir()
    const size = await stat(this.file).then((s) => s.size, () => 0)
    if (size + Buffer.byteLength(line) <= this.maxBytes) {
      await appendFile(this.file, line, { mode: 0o600 })
      return
    }
    const kept = await this.newest(Math.floor(this.maxBytes / 2) - Buffer.byteLength(line))
    await writeFileAtomic(this.file, kept.join('') + line, 0o600)
  }

  /** Entries oldest first; lines that do not parse (a torn write) are skipped. */
  async read(): Promise<HistoryEntry[]> {
    const text = await readFile(this.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return ''
      throw err
    })
    const entries: HistoryEntry[] = []
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue
      try {
        entries.push(JSON.parse(line) as HistoryEntry)
      } catch {
        // skipped
      }
    }
    return entries
  }

  async clear(): Promise<void> {
    await rm(this.file, { force: true })
  }

  private async newest(budget: number): Promise<string[]> {
    const text = await readFile(this.file, 'utf8').catch(() => '')
    const lines = text.split('\n').filter((l) => l.trim() !== '').map((l) => `${l}\n`)
    const kept: string[] = []
    let used = 0
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i] as string
      used += Buffer.byteLength(line)
      if (used > budget) break
      kept.unshift(line)
    }
    return kept
  }

  /** A body over the per-entry limit is kept as the start of its JSON text. */
  private cap(value: unknown): unknown {
    if (value === undefined) return undefined
    const text = JSON.stringify(value)
    if (text === undefined || Buffer.byteLength(text) <= this.bodyLimit) return value
    return { truncated: true, bytes: Buffer.byteLength(text), preview: text.slice(0, this.bodyLimit) }
  }
}
