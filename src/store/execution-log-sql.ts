import { SEVERITY, type NewLog } from './execution-rows.js'

/** Log lines as one JSON array parameter, so any number of them is one statement. */
export function logsParam(logs: readonly NewLog[]): string {
  const now = new Date()
  return JSON.stringify(
    logs.map((l) => ({
      ts: (l.at ?? now).toISOString(),
      level: l.level,
      severity: SEVERITY[l.level],
      message: l.message,
      node_id: l.nodeId ?? null,
      node_type: l.nodeType ?? null,
      data: l.data ?? null
    }))
  )
}

/**
 * Inserts the lines of JSON array parameter `$param` for the execution id `idExpr`, in array order (the log's
 * order is its id). Used alone and as a CTE next to the state change the lines describe: one round trip,
 * one atomic statement.
 */
function insertLogs(idExpr: string, from: string, param: string): string {
  return `INSERT INTO execution_logs (execution_id, ts, level, severity, message, node_id, node_type, data)
    SELECT ${idExpr}, (l.e->>'ts')::timestamptz, l.e->>'level', (l.e->>'severity')::smallint, l.e->>'message',
           l.e->>'node_id', l.e->>'node_type', NULLIF(l.e->'data', 'null'::jsonb)
      FROM ${from}jsonb_array_elements(${param}::jsonb) WITH ORDINALITY AS l(e, ord)
     ORDER BY l.ord`
}

/** `changed` (an UPDATE ... RETURNING id) and the log lines in `$param` for it, as one statement; `other`, a
 * further data-modifying statement, runs in it too. */
export function withLogs(changed: string, param: string, other?: string): string {
  return `WITH changed AS (${changed} RETURNING id),
        logged AS (${insertLogs('changed.id', 'changed CROSS JOIN ', param)} RETURNING 1)${other === undefined ? '' : `,
        other AS (${other})`}
   SELECT count(*)::int AS n FROM changed`
}

/** Another statement to run inside one of this repository's, given the number of its first parameter. */
export type AlsoStatement = (first: number) => { sql: string; params: unknown[] }
