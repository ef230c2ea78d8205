import type { UpstreamResponse, UpstreamSignal } from '../client.js'
import { toDomainError } from '../client.js'
import type { Operation } from '../operation.js'
import { Coalescer } from './coalescer.js'
import { cacheKey, ResponseCache, type CachedResponse } from './response-cache.js'

/** An upstream answer read whole, so several callers (or the cache) can each replay it. */
export type BufferedAnswer = CachedResponse

/** `x-cache` on the reply: served from the cache, fetched, or served stale while one refresh runs. */
export type CacheOutcome = 'HIT' | 'MISS' | 'STALE'

export interface SharedReadsOptions {
  maxEntries: number
  maxBytes: number
  /** Told when a write invalidated operations here, to tell the other replicas. */
  onInvalidate?: ((operations: string[]) => void) | undefined
  log: { warn(obj: object, msg: string): void }
}

export interface ReadRequest {
  op: Operation
  identity: string
  /** What makes two reads the same: the normalised query (path parameters included). */
  params: Record<string, unknown>
  /** Also part of the coalescing key: a flow's call may be deferred by the budget where a person's would wait. */
  lane: string
  signal?: UpstreamSignal | undefined
  /** `Cache-Control: no-cache`: fetch, whatever the cache holds (the answer is still stored). */
  bypassCache: boolean
  /** The upstream call, through the budget, aborted when every caller sharing it has gone. */
  fetch: (signal: UpstreamSignal) => Promise<UpstreamResponse>
}

const KEPT_HEADERS = ['content-type', 'retry-after']

/**
 * GETs that share: identical concurrent reads (same operation, identity, normalised parameters) make one
 * upstream call whose answer every caller receives, and an operation whose definition says `cache` is served
 * from a bounded LRU while fresh, and while stale (within `stale_while_revalidate`) as one background refresh
 * runs. Writes drop the entries of the operations they invalidate, here and, through `onInvalidate`, on the
 * other replicas. Never across identities: the identity is part of every key.
 */
export class SharedReads {
  readonly cache: ResponseCache
  private readonly coalescer = new Coalescer<BufferedAnswer>()

  constructor(private readonly options: SharedReadsOptions) {
    this.cache = new ResponseCache({ maxEntries: options.maxEntries, maxBytes: options.maxBytes })
  }

  /** Callers that shared another's upstream call. */
  get coalesced(): number {
    return this.coalescer.coalesced
  }

  async read(request: ReadRequest): Promise<{ response: UpstreamResponse; cache: CacheOutcome | undefined }> {
    const { op } = request
    const key = cacheKey(request.identity, op.name, request.params)
    const settings = op.cache
    if (settings !== undefined && !request.bypassCache) {
      const found = this.cache.get(key)
      if (found?.state === 'fresh') return { response: replay(found.entry, 'HIT'), cache: 'HIT' }
      if (found?.state === 'stale') {
        this.refresh(key, request)
        return { response: replay(found.entry, 'STALE'), cache: 'STALE' }
      }
    }
    const answer = await this.fetchShared(key, request)
    return { response: replay(answer, settings === undefined ? undefined : 'MISS'), cache: settings === undefined ? undefined : 'MISS' }
  }

  /** A successful write: the entries of the operations it invalidates go, here and on the other replicas. */
  wrote(op: Operation): void {
    if (op.invalidates.length === 0) return
    this.invalidate(op.invalidates)
    this.options.onInvalidate?.(op.invalidates)
  }

  /** Drops every entry of these operations (a write here, or another replica's). */
  invalidate(operations: readonly string[]): void {
    for (const name of operations) this.cache.invalidate(name)
  }

  private async fetchShared(key: string, request: ReadRequest): Promise<BufferedAnswer> {
    const generation = this.cache.generation(request.op.name)
    const { value } = await this.coalescer.run(`${request.lane}\u0000${key}`, (signal) => readWhole(request.fetch(signal)), request.signal)
    const settings = request.op.cache
    if (settings !== undefined && value.statusCode === 200) this.cache.set(key, request.op.name, value, settings.ttlMs, settings.staleMs, generation)
    return value
  }

  /** One background refresh per stale entry; a failure leaves the stale entry to expire. */
  private refresh(key: string, request: ReadRequest): void {
    if (!this.cache.claimRefresh(key)) return
    const background: ReadRequest = { ...request, signal: undefined, bypassCache: true }
    void this.fetchShared(key, background)
      .catch((err: unknown) => this.options.log.warn({ err, operation: request.op.name }, 'a stale cache entry could not be refreshed'))
      .finally(() => this.cache.endRefresh(key))
  }
}

async function readWhole(pending: Promise<UpstreamResponse>): Promise<BufferedAnswer> {
  const res = await pending
  let body: Buffer
  try {
    body = Buffer.from(await res.body.bytes())
  } catch (err) {
    throw toDomainError(err)
  }
  const headers: Record<string, string> = { 'content-length': String(body.length) }
  for (const name of KEPT_HEADERS) {
    const value = res.headers[name]
    const first = Array.isArray(value) ? value[0] : value
    if (first !== undefined) headers[name] = first
  }
  return { statusCode: res.statusCode, headers, body }
}

/**
 * A buffered answer as a response each caller reads on its own: the body methods the gateway and the flow
 * adapter use (bytes, text, json, dump, destroy, async iteration) over the one buffer, copy-free. No stream is
 * made: every reader of ours takes the bytes whole or iterates, and a Readable per request was a measurable
 * part of a read's cost.
 */
export function replay(answer: BufferedAnswer, cache: CacheOutcome | undefined): UpstreamResponse {
  const bytes = answer.body
  const body = {
    bytes: async () => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    text: async () => bytes.toString('utf8'),
    json: async () => JSON.parse(bytes.toString('utf8')) as unknown,
    dump: async () => undefined,
    destroy: () => undefined,
    async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
      if (bytes.length > 0) yield bytes
    }
  }
  const headers = cache === undefined ? { ...answer.headers } : { ...answer.headers, 'x-cache': cache }
  // undici's ResponseData, as far as any reader of ours goes: its body's methods and its chunks
  return { statusCode: answer.statusCode, headers, body, trailers: {}, opaque: null, context: {} } as unknown as UpstreamResponse
}
