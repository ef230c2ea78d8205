import type { Driver, Queryable } from './driver.js'

/** What one save writes: the flow's new state and the revision recording it. */
export interface FlowContent {
  name: string
  description: string
  version: string | null
  tags: string[]
  definition: string
  /** The validated definition as JSON, start node resolved: what the engine runs. */
  spec: unknown
}

export interface Flow extends Omit<FlowContent, 'spec'> {
  id: string
  accountId: string
  /** The number of the latest revision. */
  revision: number
  createdAt: Date
  updatedAt: Date
}

export interface FlowRevision extends FlowContent {
  flowId: string
  revision: number
  authorId: string | null
  createdAt: Date
}

interface FlowRow {
  id: string
  account_id: string
  name: string
  description: string
  version: string | null
  tags: string[]
  definition: string
  revision: number
  created_at: Date
  updated_at: Date
}

interface RevisionRow {
  flow_id: string
  revision: number
  name: string
  description: string
  version: string | null
  tags: string[]
  definition: string
  spec: unknown
  author_id: string | null
  created_at: Date
}

const FLOW_COLUMNS = 'id, account_id, name, description, version, tags, definition, revision, created_at, updated_at'
const REVISION_COLUMNS = 'flow_id, revision, name, description, version, tags, definition, spec, author_id, created_at'

function toFlow(r: FlowRow): Flow {
  return {
    id: r.id,
    accountId: r.account_id,
    name: r.name,
    description: r.description,
    version: r.version,
    tags: r.tags,
    definition: r.definition,
    revision: r.revision,
    createdAt: r.created_at,
    updatedAt: r.updated_at
  }
}

function toRevision(r: RevisionRow): FlowRevision {
  return {
    flowId: r.flow_id,
    revision: r.revision,
    name: r.name,
    description: r.description,
    version: r.version,
    tags: r.tags,
    definition: r.definition,
    spec: r.spec,
    authorId: r.author_id,
    createdAt: r.created_at
  }
}

/** More writes for a save's transaction, given the flow id. */
export type Also = (tx: Queryable, flowId: string) => Promise<void>

/** `null` means any owner (an admin's view); otherwise only that account's flows exist. */
export type Owner = string | null

async function insertRevision(tx: Queryable, flowId: string, revision: number, c: FlowContent, authorId: string): Promise<void> {
  await tx.query(
    `INSERT INTO flow_revisions (flow_id, revision, name, description, version, tags, definition, spec, author_id)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::jsonb, $9)`,
    [flowId, revision, c.name, c.description, c.version, JSON.stringify(c.tags), c.definition, JSON.stringify(c.spec), authorId]
  )
}

export class FlowsRepository {
  constructor(private readonly db: Driver) {}

  /** `also` writes what must commit with the flow (its triggers), on the transaction. */
  async create(id: string, accountId: string, content: FlowContent, also?: Also): Promise<Flow> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<FlowRow>(
        `INSERT INTO flows (id, account_id, name, description, version, tags, definition, revision)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, 1) RETURNING ${FLOW_COLUMNS}`,
        [id, accountId, content.name, content.description, content.version, JSON.stringify(content.tags), content.definition]
      )
      await insertRevision(tx, id, 1, content, accountId)
      await also?.(tx, id)
      return toFlow(rows[0] as FlowRow)
    })
  }

  /** Writes the new state and its revision together; the row lock orders concurrent saves of one flow. */
  async update(id: string, owner: Owner, content: FlowContent, authorId: string, also?: Also): Promise<Flow | undefined> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<FlowRow>(
        `UPDATE flows SET name = $3, description = $4, version = $5, tags = $6::jsonb, definition = $7,
                revision = revision + 1, updated_at = now()
          WHERE id = $1 AND ($2::text IS NULL OR account_id = $2)
          RETURNING ${FLOW_COLUMNS}`,
        [id, owner, content.name, content.description, content.version, JSON.stringify(content.tags), content.definition]
      )
      const row = rows[0]
      if (row === undefined) return undefined
      await insertRevision(tx, id, row.revision, content, authorId)
      await also?.(tx, id)
      return toFlow(row)
    })
  }

  async get(id: string, owner: Owner): Promise<Flow | undefined> {
    const { rows } = await this.db.query<FlowRow>(
      `SELECT ${FLOW_COLUMNS} FROM flows WHERE id = $1 AND ($2::text IS NULL OR account_id = $2)`,
      [id, owner]
    )
    return rows[0] === undefined ? undefined : toFlow(rows[0])
  }

  async list(filter: { owner: Owner; tag?: string | undefined; limit: number; offset: number }): Promise<{ flows: Flow[]; total: number }> {
    const where = `($1::text IS NULL OR account_id = $1) AND ($2::text IS NULL OR tags @> jsonb_build_array($2::text))`
    const params = [filter.owner, filter.tag ?? null]
    const [page, count] = await Promise.all([
      this.db.query<FlowRow>(`SELECT ${FLOW_COLUMNS} FROM flows WHERE ${where} ORDER BY created_at, id LIMIT $3 OFFSET $4`, [
        ...params,
        filter.limit,
        filter.offset
      ]),
      this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM flows WHERE ${where}`, params)
    ])
    return { flows: page.rows.map(toFlow), total: count.rows[0]?.total ?? 0 }
  }

  /** Its revisions go with it (ON DELETE CASCADE). */
  async delete(id: string, owner: Owner): Promise<boolean> {
    const { rowCount } = await this.db.query('DELETE FROM flows WHERE id = $1 AND ($2::text IS NULL OR account_id = $2)', [id, owner])
    return rowCount > 0
  }

  async listRevisions(flowId: string, page: { limit: number; offset: number }): Promise<{ revisions: FlowRevision[]; total: number }> {
    const [rows, count] = await Promise.all([
      this.db.query<RevisionRow>(
        `SELECT ${REVISION_COLUMNS} FROM flow_revisions WHERE flow_id = $1 ORDER BY revision DESC LIMIT $2 OFFSET $3`,
        [flowId, page.limit, page.offset]
      ),
      this.db.query<{ total: number }>('SELECT count(*)::int AS total FROM flow_revisions WHERE flow_id = $1', [flowId])
    ])
    return { revisions: rows.rows.map(toRevision), total: count.rows[0]?.total ?? 0 }
  }

  async getRevision(flowId: string, revision: number): Promise<FlowRevision | undefined> {
    const { rows } = await this.db.query<RevisionRow>(
      `SELECT ${REVISION_COLUMNS} FROM flow_revisions WHERE flow_id = $1 AND revision = $2`,
      [flowId, revision]
    )
    return rows[0] === undefined ? undefined : toRevision(rows[0])
  }
}
