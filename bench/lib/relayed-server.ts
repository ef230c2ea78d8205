import { createSchemas, startFlowServer, type FlowServer, type FlowServerOptions, type PgSchemas } from './flow-server.js'
import { PgTripCounter, topStatements, type TripCounts } from './pg-trips.js'

/** A server on fresh PostgreSQL schemas whose every database connection goes through a counting relay. */
export interface RelayedServer {
  server: FlowServer
  relay: PgTripCounter
  /** Stops the server, closes the relay and drops the schemas. */
  close(): Promise<void>
}

export async function startRelayedServer(
  databaseUrl: string,
  options: Omit<FlowServerOptions, 'backend' | 'schemas'>,
  live: Set<PgSchemas>
): Promise<RelayedServer> {
  const schemas = await createSchemas(databaseUrl)
  live.add(schemas)
  const db = new URL(databaseUrl)
  const relay = await PgTripCounter.start({ host: db.hostname, port: Number(db.port || 5432) })
  const relayed = new URL(schemas.url)
  relayed.hostname = '127.0.0.1'
  relayed.port = String(relay.port)
  const close = async (): Promise<void> => {
    await relay.close()
    await schemas.drop()
    live.delete(schemas)
  }
  let server: FlowServer
  try {
    server = await startFlowServer({ ...options, backend: 'postgres', schemas: { ...schemas, url: relayed.href } })
  } catch (err) {
    await close()
    throw err
  }
  return {
    server,
    relay,
    async close() {
      await server.child.stop()
      await server.cleanup()
      await close()
    }
  }
}

/** The counts of a relay delta per unit of work (execution, item), and the most frequent statements. */
export function printTrips(log: (line?: string) => void, what: string, d: TripCounts, units: number, unit: string, top: number): void {
  const per = (n: number): string => (n / Math.max(1, units)).toFixed(2)
  log()
  log(`database work per ${unit}, ${what}:`)
  log(`  ${per(d.trips)} round trips, ${per(d.statements)} statements, ${per(d.transactions)} transactions per ${unit}`)
  if (top <= 0) return
  log(`  statements per ${unit}, most frequent first:`)
  // statements often share a long column list: their start and their end tell them apart
  const short = (sql: string): string => (sql.length > 150 ? `${sql.slice(0, 95)} ... ${sql.slice(-50)}` : sql)
  for (const [n, sql] of topStatements(d, units, top)) log(`    ${n.toFixed(2).padStart(6)}  ${short(sql)}`)
}
