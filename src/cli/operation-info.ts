import type { TObject } from '@sinclair/typebox'
import { HTTP_METHODS, methodHasBody, type HttpMethod, type Operation } from '../evercycle/operation.js'
import { replacePlaceholders, templateParams } from '../evercycle/path-template.js'
import type { ListedOperation } from '../evercycle/operation-listing.js'
import type { FieldInfo, OperationInfo, PathParamInfo } from './backend.js'

function describeSchema(schema: unknown): string {
  const description = (schema as { description?: unknown } | undefined)?.description
  return typeof description === 'string' ? description : ''
}

/** Named fields of a schema plus the config defaults, path parameters left out (they are asked for apart). */
function fields(schema: TObject | undefined, defaults: Record<string, unknown>, skip: Set<string>): FieldInfo[] {
  const names = new Set([...Object.keys(schema?.properties ?? {}), ...Object.keys(defaults)])
  return [...names]
    .filter((name) => !skip.has(name))
    .map((name) => ({
      name,
      description: describeSchema(schema?.properties[name]),
      required: schema?.required?.includes(name) ?? false,
      ...(Object.hasOwn(defaults, name) ? { default: defaults[name] } : {})
    }))
}

/** Direct mode: everything the registry resolved, config defaults included. */
export function infoFromOperation(op: Operation): OperationInfo {
  const pathParams: PathParamInfo[] = Object.entries(op.pathParams).map(([name, p]) => ({
    name,
    in: p.from,
    description: p.description ?? '',
    required: p.default === undefined,
    ...(p.default === undefined ? {} : { default: p.default })
  }))
  const skip = new Set(Object.keys(op.pathParams))
  return {
    name: op.name,
    method: op.method,
    path: op.path,
    description: op.description,
    pathParams,
    queryFields: fields(op.querySchema, op.defaultQuery, skip),
    bodyFields: methodHasBody(op.method) ? fields(op.bodySchema, op.defaultBody, skip) : [],
    headers: { ...op.headers },
    hasBody: methodHasBody(op.method)
  }
}

/** Gateway mode: what `/api/list` tells; defaults stay on the gateway. */
export function infoFromListing(entry: ListedOperation): OperationInfo | undefined {
  const method = entry.method.toUpperCase()
  if (!(HTTP_METHODS as readonly string[]).includes(method)) return undefined
  const placeholders = new Set(templateParams(entry.path))
  const pathParams: PathParamInfo[] = []
  const queryFields: FieldInfo[] = []
  for (const p of entry.parameters) {
    if (placeholders.has(p.name) && (p.in === 'query' || p.in === 'body')) {
      pathParams.push({ name: p.name, in: p.in, required: p.required, description: p.description })
    } else if (p.in === 'query') {
      queryFields.push({ name: p.name, required: p.required, description: p.description })
    }
  }
  return {
    name: entry.name,
    method: method as HttpMethod,
    path: entry.path,
    description: entry.description,
    pathParams,
    queryFields,
    bodyFields: [],
    headers: {},
    hasBody: methodHasBody(method as HttpMethod)
  }
}

/** The Evercycle path a call goes to, for progress lines and the history (values encoded like the core does). */
export function displayPath(info: OperationInfo, values: Record<string, unknown>): string {
  return replacePlaceholders(info.path, (name, whole) => {
    const value = values[name]
    return typeof value === 'string' || typeof value === 'number' ? encodeURIComponent(String(value)) : whole
  })
}
