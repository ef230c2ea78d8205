import pg from 'pg'
import type { Logger } from '../util/logger.js'
import type { ClusterMessage } from './cluster-message.js'

/** NOTIFY payloads are limited to 8000 bytes; anything larger travels by reference through a table. */
const INLINE_LIMIT = 7500

interface Envelope {
  /** The replica that published it: replicas skip their own. */
  o: string
  e?: ClusterMessage
  /** Several events, in order (what one tick published). */
  es?: ClusterMessage[]
  /** execution_events.id holding an event too large to inline. */
  ref?: string
}

export interface BridgeOptions {
  connectionString: string
  channel: string
  origin: string
  log: Logger
  deliver: (message: ClusterMessage) => void
}

/**
 * Carries execution events between replicas through PostgreSQL LISTEN/NOTIFY: every replica publishes what its
 * engine emits and delivers what the others emit to its own WebSocket subscribers (and its engine, for
 * cancels); the other cluster messages (an upstream 429's pause) travel the same way. One connection listens;
 * one publishes, in order, so a subscriber sees an execution's events in the order they happened. What is
 * published in one tick (or while the previous send was in flight) travels together: events are packed into as
 * few notifications as fit, and all of them go out in one statement.
 */
export class NotifyBridge {
  private listener: pg.Client | undefined
  private publisher: pg.Client | undefined
  /** The send in flight, if any: one at a time, so replicas see an execution's events in order. */
  private inFlight: Promise<void> | undefined
  /** Events published and not sent yet: flushed at the next tick, or, while a send is in flight, after it. */
  private batch: ClusterMessage[] = []
  private scheduled = false
  private stopped = false
  private pruneTimer: NodeJS.Timeout | undefined

  constructor(private readonly options: BridgeOptions) {}

  async start(): Promise<void> {
    this.publisher = await this.connect()
    await this.listen()
    this.pruneTimer = setInterval(() => void this.prune(), 60_000)
    this.pruneTimer.unref()
  }

  publish(event: ClusterMessage): void {
    this.batch.push(event)
    if (!this.scheduled && this.inFlight === undefined) {
      this.scheduled = true
      setImmediate(() => this.flush())
    }
  }

  /**
   * Sends what was published, and then, if more came meanwhile, that too: under load a send carries what
   * accumulated while the one before was in flight, so there are as few round trips as the database allows.
   */
  private flush(): void {
    this.scheduled = false
    const events = this.batch
    if (events.length === 0 || this.inFlight !== undefined) return
    this.batch = []
    this.inFlight = this.send(events)
      .catch((err: unknown) => this.options.log.warn({ err }, 'cluster: event publish failed'))
      .finally(() => {
        this.inFlight = undefined
        if (this.batch.length > 0) this.flush()
      })
  }

  async stop(): Promise<void> {
    this.flush()
    // every send queued before this one has gone out once the last one has
    while (this.inFlight !== undefined) await this.inFlight
    this.stopped = true
    clearInterval(this.pruneTimer)
    await Promise.all([this.listener?.end().catch(() => undefined), this.publisher?.end().catch(() => undefined)])
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.options.connectionString })
    client.on('error', (err) => this.options.log.warn({ err }, 'cluster: notify connection error'))
    await client.connect()
    return client
  }

  private async listen(): Promise<void> {
    const client = await this.connect()
    this.listener = client
    client.on('notification', (msg) => void this.receive(msg.payload))
    client.on('end', () => {
      if (!this.stopped) setTimeout(() => void this.listen().catch((err: unknown) => this.options.log.error({ err }, 'cluster: re-listen failed')), 1000).unref()
    })
    await client.query(`LISTEN ${pg.escapeIdentifier(this.options.channel)}`)
  }

  private async send(events: readonly ClusterMessage[]): Promise<void> {
    const publisher = this.publisher
    if (publisher === undefined || this.stopped) return
    const payloads: string[] = []
    let packed: string[] = []
    let packedBytes = 0
    const seal = (): void => {
      if (packed.length === 0) return
      payloads.push(`{"o":${JSON.stringify(this.options.origin)},"es":[${packed.join(',')}]}`)
      packed = []
      packedBytes = 0
    }
    const overhead = Buffer.byteLength(JSON.stringify({ o: this.options.origin, es: [] }))
    for (const event of events) {
      const json = JSON.stringify(event)
      const bytes = Buffer.byteLength(json)
      if (overhead + bytes > INLINE_LIMIT) {
        seal()
        const { rows } = await publisher.query<{ id: string }>('INSERT INTO execution_events (payload) VALUES ($1::jsonb) RETURNING id::text AS id', [json])
        payloads.push(JSON.stringify({ o: this.options.origin, ref: rows[0]?.id } satisfies Envelope))
        continue
      }
      if (overhead + packedBytes + bytes + 1 > INLINE_LIMIT) seal()
      packed.push(json)
      packedBytes += bytes + 1
    }
    seal()
    // one round trip for the lot; notifications of one statement are delivered in the order they were sent
    await publisher.query('SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS u(p, n) ORDER BY n', [this.options.channel, payloads])
  }

  private async receive(payload: string | undefined): Promise<void> {
    if (payload === undefined) return
    try {
      const envelope = JSON.parse(payload) as Envelope
      if (envelope.o === this.options.origin) return
      if (envelope.es !== undefined) {
        for (const e of envelope.es) this.options.deliver(e)
        return
      }
      let event = envelope.e
      if (event === undefined && envelope.ref !== undefined && this.publisher !== undefined) {
        const { rows } = await this.publisher.query<{ payload: ClusterMessage }>('SELECT payload FROM execution_events WHERE id = $1', [envelope.ref])
        event = rows[0]?.payload
      }
      if (event !== undefined) this.options.deliver(event)
    } catch (err) {
      this.options.log.warn({ err }, 'cluster: bad notification')
    }
  }

  private async prune(): Promise<void> {
    await this.publisher?.query("DELETE FROM execution_events WHERE created_at < now() - interval '10 minutes'").catch(() => undefined)
  }
}
