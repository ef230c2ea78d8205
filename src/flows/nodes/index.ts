import { condition } from './condition.js'
import { delay } from './delay.js'
import { evercycle } from './evercycle.js'
import { flow } from './flow.js'
import { foreach } from './foreach.js'
import { httpRequest } from './http-request.js'
import type { NodeType } from './node-type.js'
import { transform } from './transform.js'
import { webhook } from './webhook.js'

/** Every node type a flow may use, by its `type` name. */
export const nodeTypes: ReadonlyMap<string, NodeType> = new Map(
  [httpRequest, webhook, evercycle, transform, condition, delay, flow, foreach].map((n) => [n.type, n as NodeType])
)
