/**
 * The one storage seam: everything above it (repositories, migrations, later the engine and pg-boss) speaks
 * plain PostgreSQL through these few calls, so the embedded PGlite and a real server stay interchangeable.
 */
export interface QueryResult<R> {
  rows: R[]
  /** Rows changed by INSERT/UPDATE/DELETE, or rows returned by a SELECT (pg's meaning). */
  rowCount: number
}

export interface Queryable {
  /** One statement with `$1..$n` parameters. Objects are not serialised for you: pass JSON text and cast `::jsonb`. */
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>
  /** Several statements, no parameters (migration scripts). */
  exec(sql: string): Promise<void>
}

export type DriverKind = 'pglite' | 'postgres'

export interface Driver extends Queryable {
  readonly kind: DriverKind
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. Inside `fn` use only
   * `tx`: on PGlite the driver's own methods wait for the transaction to end, so calling them would deadlock.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  close(): Promise<void>
}

/**
 * A database error stripped to what callers branch on. PGlite attaches the query text and its parameters to
 * its errors, and a logged parameter could be a password hash or a ciphertext, so drivers rethrow this instead.
 */
export class DatabaseError extends Error {
  override name = 'DatabaseError'
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly constraint: string | undefined
  ) {
    super(message)
  }
}

interface PgLikeError {
  message?: unknown
  code?: unknown
  constraint?: unknown
}

export function toDatabaseError(err: unknown): Error {
  if (err instanceof DatabaseError || !(err instanceof Error)) return err instanceof Error ? err : new Error(String(err))
  const e = err as PgLikeError
  if (typeof e.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) return err
  return new DatabaseError(
    typeof e.message === 'string' ? e.message : 'database error',
    e.code,
    typeof e.constraint === 'string' ? e.constraint : undefined
  )
}

export const UNIQUE_VIOLATION = '23505'

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  return (
    err instanceof DatabaseError &&
    err.code === UNIQUE_VIOLATION &&
    (constraint === undefined || err.constraint === constraint)
  )
}
