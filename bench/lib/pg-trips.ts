import { createServer, connect, type Server, type Socket } from 'node:net'

/**
 * A TCP relay between a server and PostgreSQL that counts what crosses it, reading the wire protocol's message
 * headers only: round trips (each ReadyForQuery the database sends ends one, and `pg` waits for it before its
 * next query), statements (each Bind of the extended protocol, each simple Query), transactions (ReadyForQuery
 * back at "idle": an autocommit statement, a COMMIT or a ROLLBACK), and statements by their SQL text (named
 * prepared statements are mapped back to the text they were parsed from). Bench only: the relay adds a hop to
 * every query, so timed rounds never go through it.
 */

export interface TripCounts {
  /** ReadyForQuery messages, i.e. queries waited for (the one that ends each connection's start-up excluded). */
  trips: number
  /** Bind + simple Query messages. */
  statements: number
  /** ReadyForQuery with status idle: transactions that ended (commit or rollback, explicit or not). */
  transactions: number
  /** Connections opened through the relay. */
  connections: number
  /** Statements by SQL text (whitespace folded). */
  bySql: Map<string, number>
}

const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104
/** Bytes of a message's body kept for reading: Parse and Query carry SQL; Bind only its two names. */
const SQL_CAP = 64 * 1024
const BIND_CAP = 256

/** Splits one direction of the protocol into messages, keeping the first `cap(type)` bytes of each body. */
class MessageReader {
  private header: Buffer = Buffer.alloc(0)
  private inBody = false
  private type = 0
  private remaining = 0
  private cap = 0
  private head: Buffer[] = []
  private headLength = 0
  /** Raw bytes to pass over before the next message (the one-byte answer to an SSLRequest). */
  skipRaw = 0

  constructor(
    /** The frontend's first message (and one after an SSLRequest) has a length but no type byte. */
    public startup: boolean,
    private readonly capOf: (type: number) => number,
    private readonly onMessage: (type: number, head: Buffer) => void
  ) {}

  push(chunk: Buffer): void {
    let i = 0
    while (i < chunk.length) {
      if (this.skipRaw > 0) {
        const n = Math.min(this.skipRaw, chunk.length - i)
        this.skipRaw -= n
        i += n
        continue
      }
      if (!this.inBody) {
        const size = this.startup ? 4 : 5
        const take = Math.min(size - this.header.length, chunk.length - i)
        this.header = Buffer.concat([this.header, chunk.subarray(i, i + take)])
        i += take
        if (this.header.length < size) continue
        this.type = this.startup ? 0 : (this.header[0] ?? 0)
        this.remaining = this.header.readInt32BE(this.startup ? 0 : 1) - 4
        this.header = Buffer.alloc(0)
        this.cap = this.capOf(this.type)
        this.head = []
        this.headLength = 0
        this.inBody = true
        if (this.remaining <= 0) this.end()
        continue
      }
      const take = Math.min(this.remaining, chunk.length - i)
      if (this.headLength < this.cap) {
        const keep = Math.min(take, this.cap - this.headLength)
        this.head.push(chunk.subarray(i, i + keep))
        this.headLength += keep
      }
      this.remaining -= take
      i += take
      if (this.remaining === 0) this.end()
    }
  }

  private end(): void {
    this.inBody = false
    const type = this.type
    const head = Buffer.concat(this.head)
    this.head = []
    if (this.startup) {
      const code = head.length >= 4 ? head.readInt32BE(0) : 0
      // an SSL or GSS request is answered with one byte, and is followed by the real start-up message
      if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) this.startup = false
    }
    this.onMessage(type, head)
  }
}

/** The NUL-terminated string at `offset`, and where the next field starts. */
function cstring(buf: Buffer, offset: number): [string, number] {
  const end = buf.indexOf(0, offset)
  if (end < 0) return [buf.toString('utf8', offset), buf.length]
  return [buf.toString('utf8', offset, end), end + 1]
}

const fold = (sql: string): string => sql.replace(/\s+/g, ' ').trim()

const code = (c: string): number => c.charCodeAt(0)
const PARSE = code('P')
const BIND = code('B')
const QUERY = code('Q')
const READY = code('Z')
const IDLE = code('I')

export class PgTripCounter {
  private counts: TripCounts = { trips: 0, statements: 0, transactions: 0, connections: 0, bySql: new Map() }
  private readonly sockets = new Set<Socket>()

  private constructor(
    private readonly server: Server,
    readonly port: number
  ) {}

  /** Listens on a free loopback port and relays every connection to `upstream`. */
  static async start(upstream: { host: string; port: number }): Promise<PgTripCounter> {
    const ready: { counter?: PgTripCounter } = {}
    const server = createServer((client) => ready.counter?.relay(client, upstream))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('relay has no port')
    ready.counter = new PgTripCounter(server, address.port)
    return ready.counter
  }

  /** The counts so far (a copy). */
  snapshot(): TripCounts {
    return { ...this.counts, bySql: new Map(this.counts.bySql) }
  }

  /** `after` minus `before`. */
  static delta(before: TripCounts, after: TripCounts): TripCounts {
    const bySql = new Map<string, number>()
    for (const [sql, n] of after.bySql) {
      const d = n - (before.bySql.get(sql) ?? 0)
      if (d > 0) bySql.set(sql, d)
    }
    return {
      trips: after.trips - before.trips,
      statements: after.statements - before.statements,
      transactions: after.transactions - before.transactions,
      connections: after.connections - before.connections,
      bySql
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private relay(client: Socket, upstream: { host: string; port: number }): void {
    const counts = this.counts
    counts.connections++
    const db = connect(upstream.port, upstream.host)
    this.sockets.add(client)
    this.sockets.add(db)
    client.setNoDelay(true)
    db.setNoDelay(true)
    /** Prepared statements of this connection: name → SQL ('' is the unnamed one). */
    const statements = new Map<string, string>()
    let started = false
    const count = (sql: string | undefined): void => {
      const key = sql === undefined ? '(unknown statement)' : fold(sql)
      counts.bySql.set(key, (counts.bySql.get(key) ?? 0) + 1)
    }
    const backend = new MessageReader(
      false,
      (type) => (type === READY ? 1 : 0),
      (type, head) => {
        if (type !== READY) return
        // the first ReadyForQuery ends the connection's start-up, not a query
        if (!started) {
          started = true
          return
        }
        counts.trips++
        if (head[0] === IDLE) counts.transactions++
      }
    )
    const frontend = new MessageReader(
      true,
      (type) => (type === PARSE || type === QUERY ? SQL_CAP : type === BIND ? BIND_CAP : type === 0 ? 8 : 0),
      (type, head) => {
        if (type === 0) {
          const c = head.length >= 4 ? head.readInt32BE(0) : 0
          if (c === SSL_REQUEST || c === GSSENC_REQUEST) backend.skipRaw++
        } else if (type === PARSE) {
          const [name, at] = cstring(head, 0)
          statements.set(name, cstring(head, at)[0])
        } else if (type === BIND) {
          const [, at] = cstring(head, 0)
          counts.statements++
          count(statements.get(cstring(head, at)[0]))
        } else if (type === QUERY) {
          counts.statements++
          count(cstring(head, 0)[0])
        }
      }
    )
    client.on('data', (chunk: Buffer) => frontend.push(chunk))
    db.on('data', (chunk: Buffer) => backend.push(chunk))
    client.pipe(db)
    db.pipe(client)
    const close = (): void => {
      client.destroy()
      db.destroy()
      this.sockets.delete(client)
      this.sockets.delete(db)
    }
    client.on('error', close)
    db.on('error', close)
    client.on('close', close)
    db.on('close', close)
  }
}

/** The statements of a delta with the most executions, per unit of work: `[count per unit, sql]`. */
export function topStatements(d: TripCounts, units: number, n: number): Array<[number, string]> {
  return [...d.bySql]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([sql, c]) => [c / Math.max(1, units), sql])
}
