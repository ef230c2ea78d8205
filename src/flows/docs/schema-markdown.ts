import { KindGuard, type TSchema } from '@sinclair/typebox'

/**
 * TypeBox schemas as Markdown tables, for docs/flows.md: a schema's own words (`description`, `default`,
 * bounds) are the documentation, so a param added or changed in code shows up the next time the docs are made.
 */

/** One documented field: a param, a key of the flow's YAML or a field of a node's result. */
export interface FieldRow {
  /** Dotted from the top (`errors[].index` for a field of a list's entries). */
  name: string
  type: string
  default: string
  required: boolean
  description: string
}

function describedBy(schema: TSchema): string {
  return typeof schema.description === 'string' ? schema.description : ''
}

function bounds(min: unknown, max: unknown): string {
  if (typeof min === 'number' && typeof max === 'number') return ` (${min} to ${max})`
  if (typeof min === 'number' && min > 0) return ` (at least ${min})`
  if (typeof max === 'number') return ` (at most ${max})`
  return ''
}

/** The type as a YAML author reads it: `integer (1 to 100)`, `one of "GET", "POST"`, `object of string`. */
export function typeName(schema: TSchema): string {
  if (KindGuard.IsLiteral(schema)) return JSON.stringify(schema.const)
  if (KindGuard.IsUnion(schema)) {
    const members = schema.anyOf
    if (members.every((m) => KindGuard.IsLiteral(m))) return `one of ${members.map(typeName).join(', ')}`
    return members.map(typeName).join(' or ')
  }
  if (KindGuard.IsInteger(schema)) return `integer${bounds(schema.minimum, schema.maximum)}`
  if (KindGuard.IsString(schema)) return schema.maxLength !== undefined && schema.maxLength <= 200 ? `string (at most ${schema.maxLength} characters)` : 'string'
  if (KindGuard.IsRecord(schema)) {
    const value = Object.values(schema.patternProperties)[0] as TSchema | undefined
    if (value === undefined || KindGuard.IsUnknown(value)) return 'object'
    return `object of ${KindGuard.IsObject(value) ? 'objects' : typeName(value)}`
  }
  if (KindGuard.IsArray(schema)) {
    const items = schema.items
    const of = KindGuard.IsUnknown(items) ? '' : ` of ${KindGuard.IsObject(items) ? 'objects' : typeName(items)}`
    return `list${of}${bounds(schema.minItems, schema.maxItems)}`
  }
  if (KindGuard.IsObject(schema)) return 'object'
  if (KindGuard.IsBoolean(schema)) return 'boolean'
  if (KindGuard.IsNull(schema)) return 'null'
  if (KindGuard.IsNumber(schema)) return `number${bounds(schema.minimum, schema.maximum)}`
  return 'any'
}

/**
 * The fields of an object schema, in the schema's order; an object or a list of objects inside is listed
 * after its parent field with a dotted name, so a result's nested shape reads as one table.
 */
export function fieldRows(schema: TSchema, prefix = ''): FieldRow[] {
  if (!KindGuard.IsObject(schema)) return []
  const required = new Set(schema.required ?? [])
  return Object.entries(schema.properties).flatMap(([key, field]) => {
    const name = `${prefix}${key}`
    const row: FieldRow = {
      name,
      type: typeName(field),
      default: field.default === undefined ? '' : JSON.stringify(field.default),
      required: required.has(key),
      description: describedBy(field)
    }
    const nested = KindGuard.IsArray(field) ? fieldRows(field.items, `${name}[].`) : fieldRows(field, `${name}.`)
    return [row, ...nested]
  })
}

/** A table cell: one line, pipes escaped. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|')
}

function code(text: string): string {
  return text === '' ? '' : `\`${text}\``
}

/** Params and keys: name, type, default, required, description. */
export function paramsTable(rows: readonly FieldRow[]): string {
  const lines = ['| Name | Type | Default | Required | Description |', '|---|---|---|---|---|']
  for (const r of rows) lines.push(`| ${code(r.name)} | ${cell(r.type)} | ${cell(code(r.default))} | ${r.required ? 'yes' : 'no'} | ${cell(r.description)} |`)
  return lines.join('\n')
}

/** A result's fields: what a later node reads under `nodes.<id>`. */
export function resultTable(rows: readonly FieldRow[]): string {
  const lines = ['| Field | Type | Description |', '|---|---|---|']
  for (const r of rows) lines.push(`| ${code(r.name)}${r.required ? '' : ' (optional)'} | ${cell(r.type)} | ${cell(r.description)} |`)
  return lines.join('\n')
}

/** A node's result: a field table for an object, else the type and what it holds in one line. */
export function resultSection(schema: TSchema): string {
  const rows = fieldRows(schema)
  if (rows.length > 0) return resultTable(rows)
  return `${cell(typeName(schema))}: ${cell(describedBy(schema))}`
}

export { describedBy }
