import type { Queryable } from './driver.js'

/** Failed logins counted in fixed windows per key, in the database so every replica sees the same count. */
export class LoginFailuresRepository {
  constructor(private readonly db: Queryable) {}

  /** The failures in the current window and when it ends; none once the window has passed. */
  async current(key: string, windowMs: number): Promise<{ failures: number; resetsAt: Date } | undefined> {
    const { rows } = await this.db.query<{ failures: number; resets_at: Date }>(
      `SELECT failures, window_start + make_interval(secs => $2::double precision / 1000) AS resets_at
         FROM login_failures
        WHERE key = $1 AND window_start + make_interval(secs => $2::double precision / 1000) > now()`,
      [key, windowMs]
    )
    const row = rows[0]
    return row === undefined ? undefined : { failures: row.failures, resetsAt: row.resets_at }
  }

  /** Counts one failure, opening a new window when the previous one has passed. */
  async record(key: string, windowMs: number): Promise<void> {
    await this.db.query(
      `INSERT INTO login_failures AS f (key, window_start, failures) VALUES ($1, now(), 1)
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN f.window_start + make_interval(secs => $2::double precision / 1000) > now() THEN f.failures + 1 ELSE 1 END,
         window_start = CASE WHEN f.window_start + make_interval(secs => $2::double precision / 1000) > now() THEN f.window_start ELSE now() END`,
      [key, windowMs]
    )
  }

  async clear(key: string): Promise<void> {
    await this.db.query('DELETE FROM login_failures WHERE key = $1', [key])
  }

  async purgeOlderThan(windowMs: number): Promise<void> {
    await this.db.query(
      'DELETE FROM login_failures WHERE window_start + make_interval(secs => $1::double precision / 1000) < now()',
      [windowMs]
    )
  }
}
