import type { HttpMethod } from '../operation.js'
import { hasPoisonKey, POISON_KEYS } from '../../util/poison-keys.js'
import { stripMarkup } from './lines.js'
import type { Section, Table } from './tables.js'

/* What a table row means for the generated config: a header, a path, query or body parameter and its default. */

/** The shape `config/<name>.json` has (OperationConfigSchema in registry.ts), with keys in the old tool's order. */
export interface GeneratedConfig {
  path: string
  description: string
  method: HttpMethod
  url: string
  headers: Record<string, string>
  path_params: Record<string, string>
  query_params: Record<string, string>
  body: Record<string, unknown>
}

const EMPTY_CELL = new Set(['', '-', '–', '—', 'n/a', 'none given'])
/** Injected per call from auth.properties, or set by the client itself: never written into a config file. */
const MANAGED_HEADERS = new Set(['access-token', 'authorization', 'cookie', 'x-api-key', 'accept', 'content-type', 'content-length', 'host'])
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/

interface Columns {
  name: number
  value: number | undefined
  in: number | undefined
  type: number | undefined
}

function findColumns(columns: string[]): Columns {
  const find = (names: string[]): number | undefined => {
    for (const n of names) {
      const i = columns.indexOf(n)
      if (i !== -1) return i
    }
    return undefined
  }
  return {
    name: find(['name', 'key', 'field', 'parameter', 'param', 'header', 'property', 'attribute', 'field name', 'parameter name', 'header name']) ?? 0,
    // examples document; only a value or default changes what is sent
    value: find(['value', 'default', 'default value', 'defaults']),
    in: find(['in', 'location', 'where', 'source', 'param type', 'parameter type']),
    type: find(['type', 'data type', 'datatype', 'format'])
  }
}

function cellValue(row: string[], index: number | undefined): string {
  if (index === undefined) return ''
  const raw = stripMarkup(row[index] ?? '')
  return EMPTY_CELL.has(raw.toLowerCase()) ? '' : raw
}

function cleanName(raw: string): string {
  return stripMarkup(raw).replace(/^\{(.*)\}$/, '$1').trim()
}

export function applyTable(table: Table, config: GeneratedConfig, placeholders: string[], withoutDefault: string[], warnings: string[]): void {
  const cols = findColumns(table.columns)
  // a table outside a known section still counts when it says where each parameter goes
  const section: Section = table.section ?? (cols.in !== undefined ? 'params' : undefined)
  if (section === undefined || section === 'ignore') return
  for (const row of table.rows) {
    const name = cleanName(row[cols.name] ?? '')
    if (name === '') continue
    const value = cellValue(row, cols.value)
    let target = section
    if (section === 'params') {
      const where = cellValue(row, cols.in).toLowerCase()
      if (where.includes('path') || where.includes('url')) target = 'path'
      else if (where.includes('query')) target = 'query'
      else if (where.includes('header')) target = 'headers'
      else if (where.includes('body')) target = 'body'
      else target = placeholders.includes(name) ? 'path' : 'query'
    }
    switch (target) {
      case 'headers':
        addHeader(config, name, value, warnings)
        break
      case 'path':
        if (placeholders.includes(name)) config.path_params[name] = value
        else warnings.push(`path parameter "${name}" is not in ${config.path}: ignored`)
        break
      case 'query':
        if (placeholders.includes(name)) config.path_params[name] = value
        else config.query_params[name] = value
        break
      case 'body':
        bodyField(config, name, value, cellValue(row, cols.type), withoutDefault, warnings)
        break
    }
  }
}

function addHeader(config: GeneratedConfig, name: string, value: string, warnings: string[]): void {
  if (MANAGED_HEADERS.has(name.toLowerCase())) return
  if (!HEADER_NAME.test(name)) {
    warnings.push(`header "${name}" is not a valid header name: ignored`)
    return
  }
  // an empty header would be sent as such on every call; only headers with a value are kept
  if (value !== '') config.headers[name] = value
}

/**
 * The gateway merges `body` under every request, so a field written with an empty placeholder would be sent
 * to Evercycle as a real value. Only fields with a value or default are written; the rest are reported.
 */
function bodyField(config: GeneratedConfig, name: string, value: string, type: string, withoutDefault: string[], warnings: string[]): void {
  if (POISON_KEYS.has(name)) {
    warnings.push(`body field "${name}" is a forbidden key: ignored`)
    return
  }
  if (value === '') {
    if (!withoutDefault.includes(name)) withoutDefault.push(name)
    return
  }
  const typed = typedValue(value, type.toLowerCase())
  if (typed.warning !== undefined) warnings.push(`body field "${name}": ${typed.warning}`)
  if (hasPoisonKey(typed.value)) {
    warnings.push(`body field "${name}" has a forbidden key in its default: ignored`)
    return
  }
  config.body[name] = typed.value
}

function typedValue(value: string, type: string): { value: unknown; warning?: string } {
  if (/^(number|integer|int|float|double|decimal|long)/.test(type)) {
    const n = Number(value)
    return Number.isFinite(n) ? { value: n } : { value, warning: `"${value}" is not a ${type}; kept as text` }
  }
  if (/^bool/.test(type)) {
    if (/^(true|yes)$/i.test(value)) return { value: true }
    if (/^(false|no)$/i.test(value)) return { value: false }
    return { value, warning: `"${value}" is not a boolean; kept as text` }
  }
  if (/^(object|array|json)/.test(type) || /^\[|^\{/.test(value)) {
    try {
      return { value: JSON.parse(value) as unknown }
    } catch {
      return { value, warning: `"${value}" is not valid JSON; kept as text` }
    }
  }
  // a quoted default is a JSON string literal
  if (/^".*"$/.test(value)) {
    try {
      return { value: JSON.parse(value) as unknown }
    } catch {
      return { value }
    }
  }
  return { value }
}
