import { randomUUID } from 'node:crypto'
import type { Principal } from '../accounts/account-service.js'
import { domainError } from '../errors.js'
import { AccountsRepository, type Role } from '../store/accounts-repository.js'
import type { Driver } from '../store/driver.js'
import { FlowsRepository, type Also, type Flow, type FlowContent, type FlowRevision, type Owner } from '../store/flows-repository.js'
import type { FlowSpec } from './definition-schema.js'
import { syncTriggers } from './triggers/trigger-sync.js'
import { validateDefinition, type ValidationContext } from './validate-definition.js'

/** What the routes shape replies from. */
export type { Flow, FlowRevision } from '../store/flows-repository.js'

export interface FlowInput {
  name?: string | undefined
  description?: string | undefined
  definition: string
  tags?: string[] | undefined
}

export interface FlowUpdate {
  name?: string | undefined
  description?: string | undefined
  definition?: string | undefined
  tags?: string[] | undefined
}

/** What saving a flow checks against: the gateway's operations, and which of them an owner's role may call. */
export interface FlowServiceContext {
  hasOperation(name: string): boolean
  /** Asked only for operations the registry knows (evercycle-policy.ts). */
  mayCallOperation(role: Role, name: string): boolean
}

export interface Page {
  limit: number
  offset: number
}

/** The save's trigger rows become the spec's, in the save's transaction. */
function withTriggers(spec: FlowSpec): Also {
  return (tx, flowId) => syncTriggers(tx, flowId, spec.triggers ?? [], new Date())
}

function owner(actor: Principal): Owner {
  return actor.role === 'admin' ? null : actor.id
}

function notFound(): Error {
  return domainError('not_found', 'Flow not found')
}

/** Validates a definition or throws the 422 the API documents, every problem listed in details. */
function parse(definition: string, ctx: ValidationContext): FlowSpec {
  const result = validateDefinition(definition, ctx)
  if (result.ok) return result.spec
  const first = result.issues[0]
  throw domainError('validation_error', `Invalid flow definition: ${first?.field ?? 'definition'} ${first?.reason ?? 'is invalid'}`, {
    statusCode: 422,
    details: { ...first, errors: result.issues }
  })
}

/**
 * Flows belong to the account that created it: other users see a 404, as if it didn't exist; admins see and
 * manage all. Each create and update records an immutable revision with the spec, validated as its owner's.
 */
export class FlowService {
  private readonly repo: FlowsRepository

  constructor(
    private readonly db: Driver,
    private readonly ctx: FlowServiceContext
  ) {
    this.repo = new FlowsRepository(db)
  }

  async list(actor: Principal, filter: Page & { tag?: string | undefined }): Promise<{ flows: Flow[]; total: number }> {
    return this.repo.list({ owner: owner(actor), ...filter })
  }

  async get(actor: Principal, id: string): Promise<Flow> {
    const flow = await this.repo.get(id, owner(actor))
    if (flow === undefined) throw notFound()
    return flow
  }

  /** Validation as the flow's owner: what its nodes may call depends on the owner's role, not the editor's. */
  private validationFor(role: Role, flowId?: string): ValidationContext {
    return { hasOperation: (name) => this.ctx.hasOperation(name), mayCallOperation: (name) => this.ctx.mayCallOperation(role, name), flowId }
  }

  private async ownerRole(actor: Principal, flow: Flow): Promise<Role> {
    if (flow.accountId === actor.id) return actor.role
    return (await new AccountsRepository(this.db).findById(flow.accountId))?.role ?? 'user'
  }

  /**
   * What create would make of a definition, saving nothing: the same checks as the actor's own create, so
   * an editor's verdict and the save's never differ (the same 422 when invalid).
   */
  validate(actor: Principal, definition: string): FlowSpec {
    return parse(definition, this.validationFor(actor.role))
  }

  async create(actor: Principal, input: FlowInput): Promise<Flow> {
    const spec = parse(input.definition, this.validationFor(actor.role))
    return this.repo.create(`flow-${randomUUID()}`, actor.id, {
      name: input.name ?? spec.metadata.name,
      description: input.description ?? spec.metadata.description ?? '',
      version: spec.metadata.version ?? null,
      tags: [...new Set(input.tags ?? [])],
      definition: input.definition,
      spec
    }, withTriggers(spec))
  }

  /**
   * Fields not given keep their value, except that a new definition brings its metadata (name, description,
   * version) unless the request sets them too. A definition left as it is isn't re-validated, so a change of
   * tags never fails on, say, an operation removed from the registry since.
   */
  async update(actor: Principal, id: string, update: FlowUpdate): Promise<Flow> {
    const current = await this.get(actor, id)
    let content: FlowContent
    if (update.definition !== undefined) {
      const spec = parse(update.definition, this.validationFor(await this.ownerRole(actor, current), id))
      content = {
        name: update.name ?? spec.metadata.name,
        description: update.description ?? spec.metadata.description ?? '',
        version: spec.metadata.version ?? null,
        tags: [...new Set(update.tags ?? current.tags)],
        definition: update.definition,
        spec
      }
    } else {
      const revision = await this.repo.getRevision(id, current.revision)
      if (revision === undefined) throw notFound()
      content = {
        name: update.name ?? current.name,
        description: update.description ?? current.description,
        version: current.version,
        tags: [...new Set(update.tags ?? current.tags)],
        definition: current.definition,
        spec: revision.spec
      }
    }
    const updated = await this.repo.update(id, owner(actor), content, actor.id, withTriggers(content.spec as FlowSpec))
    if (updated === undefined) throw notFound()
    return updated
  }

  async delete(actor: Principal, id: string): Promise<void> {
    if (!(await this.repo.delete(id, owner(actor)))) throw notFound()
  }

  async revisions(actor: Principal, id: string, page: Page): Promise<{ revisions: FlowRevision[]; total: number }> {
    await this.get(actor, id)
    return this.repo.listRevisions(id, page)
  }

  async revision(actor: Principal, id: string, revision: number): Promise<FlowRevision> {
    await this.get(actor, id)
    const found = await this.repo.getRevision(id, revision)
    if (found === undefined) throw domainError('not_found', `Flow ${id} has no version ${revision}`)
    return found
  }

  /**
   * For the engine: the revision a run should execute (the latest unless one is named), with its spec,
   * checked against the caller's access like every other read.
   */
  async runnable(actor: Principal, id: string, revision?: number): Promise<{ flow: Flow; revision: FlowRevision; spec: FlowSpec }> {
    const flow = await this.get(actor, id)
    const found = await this.repo.getRevision(id, revision ?? flow.revision)
    if (found === undefined) throw domainError('not_found', `Flow ${id} has no version ${revision ?? flow.revision}`)
    return { flow, revision: found, spec: found.spec as FlowSpec }
  }
}
