import { createWriteStream } from 'node:fs'
import WebSocket from 'ws'
import { getText } from './http.js'

/**
 * The bench's line into the server's V8 inspector (the server child runs with `--inspect=127.0.0.1:<port>`,
 * bench only): a full garbage collection before "RSS at rest" is read, so the number is the memory the
 * process keeps rather than how far the heap had grown since its last major GC, and the heap used after that
 * GC (what is really live). Heap snapshots, for finding what a growing heap holds.
 */
export class Inspector {
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  private onChunk: ((chunk: string) => void) | undefined

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: { chunk?: string } }
      if (m.method === 'HeapProfiler.addHeapSnapshotChunk' && typeof m.params?.chunk === 'string') {
        this.onChunk?.(m.params.chunk)
        return
      }
      if (m.id === undefined) return
      const waiter = this.pending.get(m.id)
      if (waiter === undefined) return
      this.pending.delete(m.id)
      if (m.error !== undefined) waiter.reject(new Error(`inspector: ${m.error.message}`))
      else waiter.resolve(m.result)
    })
    ws.on('close', () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error('inspector connection closed'))
      this.pending.clear()
    })
  }

  /** Connects to the inspector listening on `port` (its first target). */
  static async connect(port: number, timeoutMs = 10_000): Promise<Inspector> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      try {
        const res = await getText(`http://127.0.0.1:${port}/json/list`)
        const targets = JSON.parse(res.body) as Array<{ webSocketDebuggerUrl?: string }>
        const url = targets[0]?.webSocketDebuggerUrl
        if (url === undefined) throw new Error('no inspector target')
        const ws = new WebSocket(url, { perMessageDeflate: false })
        await new Promise<void>((resolve, reject) => {
          ws.once('open', resolve)
          ws.once('error', reject)
        })
        return new Inspector(ws)
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`inspector on port ${port} unreachable: ${(err as Error).message}`)
        await new Promise((r) => setTimeout(r, 200))
      }
    }
  }

  private call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.ws.send(JSON.stringify({ id, method, params }))
    })
  }

  /** A full, compacting garbage collection in the server (V8 runs it as for a heap snapshot). */
  async collectGarbage(): Promise<void> {
    await this.call('HeapProfiler.collectGarbage')
  }

  /** The server's `process.memoryUsage()`. */
  async memoryUsage(): Promise<NodeJS.MemoryUsage> {
    const result = (await this.call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true })) as {
      result: { value: string }
    }
    return JSON.parse(result.result.value) as NodeJS.MemoryUsage
  }

  /** Writes a heap snapshot of the server to `file` (for Chrome DevTools' Memory tab). */
  async heapSnapshot(file: string): Promise<void> {
    const out = createWriteStream(file)
    this.onChunk = (chunk) => out.write(chunk)
    try {
      await this.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false })
    } finally {
      this.onChunk = undefined
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())))
    }
  }

  /** Closes the session and waits until the server has seen it go. */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return
    const closed = new Promise((r) => this.ws.once('close', r))
    this.ws.close()
    await closed
  }
}
