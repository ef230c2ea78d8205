import { domainError } from '../../errors.js'
import type { FlowSpec } from '../definition-schema.js'

/** More revisions than this and the cache starts over (revisions never change, so nothing goes stale). */
const MAX_SPECS = 1000

/** Flow revisions as parsed specs, read once per process. */
export class SpecCache {
  private readonly specs = new Map<string, FlowSpec>()

  constructor(private readonly load: (flowId: string, revision: number) => Promise<FlowSpec | undefined>) {}

  async get(flowId: string, revision: number): Promise<FlowSpec> {
    const key = `${flowId}@${revision}`
    let spec = this.specs.get(key)
    if (spec === undefined) {
      spec = await this.load(flowId, revision)
      if (spec === undefined) throw domainError('not_found', 'Flow revision not found')
      if (this.specs.size > MAX_SPECS) this.specs.clear()
      this.specs.set(key, spec)
    }
    return spec
  }

  /** The type of a node in a flow revision (undefined when either is gone). */
  async nodeType(flowId: string, revision: number, nodeId: string): Promise<string | undefined> {
    try {
      return (await this.get(flowId, revision)).nodes[nodeId]?.type
    } catch {
      return undefined
    }
  }
}
