import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { Type, type TObject, type TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { ConfigError } from '../config.js'
import { HTTP_METHODS, methodHasBody, type EndpointDefinition, type HttpMethod, type Operation } from './operation.js'
import { templateParams } from './path-template.js'
import { POISON_KEYS } from '../util/poison-keys.js'
import { parseCacheSettings } from './upstream/response-cache.js'

/** The old tool's per-operation JSON config (`config/<name>.json`). Unknown keys are tolerated. */
export const OperationConfigSchema = Type.Object({
  path: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  method: Type.Optional(Type.String()),
  url: Type.Optional(Type.String()),
  headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  path_params: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]))),
  query_params: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]))),
  body: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  /** Overrides the definition's `cache` ({ttl, stale_while_revalidate}); `false` turns it off. */
  cache: Type.Optional(Type.Union([Type.Literal(false), Type.Object({ ttl: Type.Union([Type.String(), Type.Number()]), stale_while_revalidate: Type.Optional(Type.Union([Type.String(), Type.Number()])) })])),
  invalidates: Type.Optional(Type.Array(Type.String()))
})

export type OperationConfig = typeof OperationConfigSchema.static

/** A path parameter: one non-empty segment, not a dot segment, no control characters. */
export const PathParamValueSchema = Type.Union([
  Type.String({ minLength: 1, maxLength: 256, pattern: '^(?!\\.{1,2}$)[^\\u0000-\\u001f\\u007f]+$' }),
  Type.Integer()
])

const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/
/** Names the gateway's own routes use, and the sign-in that `/api/auth` replaces. */
export const RESERVED_NAMES = new Set(['auth', 'auth-signin', 'logout', 'list', 'health', 'ready', 'docs', 'v1', 'metrics'])
const AUTH_HEADERS = new Set(['access-token', 'authorization', 'cookie', 'x-api-key'])

export class Registry {
  private readonly byName: Map<string, Operation>

  constructor(operations: Operation[]) {
    this.byName = new Map(operations.map((op) => [op.name, op]))
  }

  get(name: string): Operation | undefined {
    return this.byName.get(name)
  }

  list(): Operation[] {
    return [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name))
  }
}

/** Reads `config/*.json` (except `auth-signin.json`, the credential file). */
export async function readOperationConfigs(configDir: string): Promise<Map<string, { file: string; value: unknown }>> {
  const configs = new Map<string, { file: string; value: unknown }>()
  let entries: string[]
  try {
    entries = await readdir(configDir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return configs
    throw err
  }
  for (const entry of entries.sort()) {
    if (!entry.endsWith('.json') || entry === 'auth-signin.json') continue
    const file = path.join(configDir, entry)
    const text = await readFile(file, 'utf8')
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (err) {
      throw new ConfigError(`${file}: not valid JSON (${(err as Error).message})`)
    }
    configs.set(entry.slice(0, -'.json'.length), { file, value })
  }
  return configs
}

/**
 * Builds the registry from the typed definitions plus config overrides, validating everything at once so boot
 * fails with the full list of problems rather than the first.
 */
export function buildRegistry(
  definitions: readonly EndpointDefinition[],
  configs: Map<string, { file: string; value: unknown }>
): Registry {
  const problems: string[] = []
  const operations: Operation[] = []
  const seen = new Set<string>()

  for (const def of definitions) {
    const where = `endpoints/${def.name}`
    if (seen.has(def.name)) problems.push(`${where}: defined twice`)
    seen.add(def.name)
    const entry = configs.get(def.name)
    const config = entry === undefined ? undefined : checkConfig(entry.file, entry.value, problems)
    const op = resolve(def, config, entry?.file ?? where, problems)
    if (op !== undefined) operations.push(op)
  }
  for (const [name, entry] of configs) {
    if (seen.has(name)) continue
    const config = checkConfig(entry.file, entry.value, problems)
    if (config === undefined) continue
    const method = (config.method ?? '').toUpperCase()
    const upstreamPath = configPath(config)
    if (!isMethod(method)) {
      problems.push(`${entry.file}: "method" must be one of ${HTTP_METHODS.join(', ')} (got ${JSON.stringify(config.method)})`)
      continue
    }
    if (upstreamPath === undefined) {
      problems.push(`${entry.file}: a new operation needs "path" or "url"`)
      continue
    }
    const def: EndpointDefinition = {
      name,
      method,
      path: upstreamPath,
      description: config.description ?? `${method} ${upstreamPath}`,
      query: Type.Object({}, { additionalProperties: Type.Union([Type.String(), Type.Array(Type.String())]) }),
      body: methodHasBody(method) ? Type.Object({}, { additionalProperties: true }) : undefined
    }
    const op = resolve(def, config, entry.file, problems)
    if (op !== undefined) operations.push(op)
  }
  const names = new Set(operations.map((op) => op.name))
  for (const op of operations) {
    for (const target of op.invalidates) {
      if (!names.has(target)) problems.push(`${op.source}: "invalidates" names ${JSON.stringify(target)}, which is not an operation`)
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(`Invalid operation definitions:\n  ${problems.join('\n  ')}`)
  }
  return new Registry(operations)
}

function checkConfig(file: string, value: unknown, problems: string[]): OperationConfig | undefined {
  if (!Value.Check(OperationConfigSchema, value)) {
    const first = [...Value.Errors(OperationConfigSchema, value)][0]
    problems.push(`${file}: ${first ? `${first.path || '/'} ${first.message}` : 'invalid'}`)
    return undefined
  }
  for (const key of Object.keys(value.body ?? {})) {
    if (POISON_KEYS.has(key)) problems.push(`${file}: forbidden key "${key}" in body`)
  }
  return value
}

/** The old format has `path` (relative) and `url` (absolute): prefer `path`, else the URL's pathname. */
function configPath(config: OperationConfig): string | undefined {
  if (config.path !== undefined && config.path.startsWith('/')) return config.path
  if (config.url !== undefined) {
    try {
      return decodeURI(new URL(config.url).pathname)
    } catch {
      return undefined
    }
  }
  return undefined
}

function isMethod(value: string): value is HttpMethod {
  return (HTTP_METHODS as readonly string[]).includes(value)
}

function resolve(
  def: EndpointDefinition,
  config: OperationConfig | undefined,
  source: string,
  problems: string[]
): Operation | undefined {
  const before = problems.length
  if (!NAME.test(def.name)) problems.push(`${source}: name "${def.name}" must be lowercase letters, digits and dashes`)
  if (RESERVED_NAMES.has(def.name)) problems.push(`${source}: name "${def.name}" is reserved by the gateway`)

  const method = (config?.method?.toUpperCase() ?? def.method)
  if (!isMethod(method)) {
    problems.push(`${source}: "method" must be one of ${HTTP_METHODS.join(', ')} (got ${JSON.stringify(config?.method)})`)
    return undefined
  }
  const upstreamPath = (config === undefined ? undefined : configPath(config)) ?? def.path
  if (!upstreamPath.startsWith('/') || upstreamPath.includes('?') || upstreamPath.includes('#') || /(^|\/)\.\.?(\/|$)/.test(upstreamPath)) {
    problems.push(`${source}: path ${JSON.stringify(upstreamPath)} must be an absolute path without query, fragment or dot segments`)
  }

  const placeholders = templateParams(upstreamPath)
  const pathParams: Operation['pathParams'] = {}
  for (const name of placeholders) {
    const declared = def.pathParams?.[name]
    const fallback = config?.path_params?.[name]
    pathParams[name] = {
      from: declared?.from ?? (methodHasBody(method) ? 'body' : 'query'),
      schema: declared?.schema ?? PathParamValueSchema,
      description: declared?.description ?? `Evercycle path parameter {${name}}`,
      ...(fallback === undefined || fallback === '' ? {} : { default: String(fallback) })
    }
  }
  for (const name of Object.keys(def.pathParams ?? {})) {
    if (!placeholders.includes(name)) problems.push(`${source}: path parameter "${name}" is not in path ${upstreamPath}`)
  }
  if (Object.values(pathParams).some((p) => p.from === 'body') && !methodHasBody(method)) {
    problems.push(`${source}: ${method} has no body to take path parameters from`)
  }

  const headers: Record<string, string> = {}
  for (const [key, value] of Object.entries(config?.headers ?? {})) {
    // the old tool copied tokens into every config; ours are injected per call, never from a file
    if (AUTH_HEADERS.has(key.toLowerCase()) || key.toLowerCase() === 'content-type') continue
    headers[key] = value
  }
  const defaultQuery: Record<string, string> = { ...def.defaultQuery }
  for (const [key, value] of Object.entries(config?.query_params ?? {})) {
    if (value !== '') defaultQuery[key] = String(value)
  }
  const defaultBody: Record<string, unknown> = { ...def.defaultBody, ...config?.body }
  const cacheValue = config?.cache ?? def.cache
  let cache: Operation['cache']
  if (cacheValue !== undefined && cacheValue !== false) {
    const parsed = parseCacheSettings(cacheValue)
    if ('error' in parsed) problems.push(`${source}: "cache" ${parsed.error}`)
    else if (method !== 'GET') problems.push(`${source}: "cache" is for GET operations only (this one is ${method})`)
    else cache = parsed
  }

  if (problems.length > before) return undefined
  return {
    name: def.name,
    method,
    path: upstreamPath,
    description: config?.description ?? def.description,
    pathParams,
    querySchema: withParams(def.query ?? Type.Object({}, { additionalProperties: false }), pathParams, 'query'),
    bodySchema: methodHasBody(method)
      ? withParams(def.body ?? Type.Object({}, { additionalProperties: true }), pathParams, 'body')
      : undefined,
    defaultBody,
    defaultQuery,
    headers,
    source,
    ...(cache === undefined ? {} : { cache }),
    invalidates: [...new Set(config?.invalidates ?? def.invalidates ?? [])]
  }
}

/** Adds the path parameters taken from this part of the request to its schema (required unless defaulted). */
function withParams(schema: TObject, params: Operation['pathParams'], from: 'query' | 'body'): TObject {
  const properties: Record<string, TSchema> = { ...schema.properties }
  for (const [name, param] of Object.entries(params)) {
    if (param.from !== from) continue
    properties[name] = param.default === undefined ? param.schema : Type.Optional(param.schema)
  }
  const { properties: _p, required: _r, type: _t, ...options } = schema
  return Type.Object(properties, options)
}
