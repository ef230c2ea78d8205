import { isMap, isScalar, parseDocument, stringify } from 'yaml'

/**
 * The Name field is the definition's `metadata.name` (what the API lists the flow by), read from and written
 * into the YAML, so there is one name and the text stays the single source of what gets saved.
 */
export function nameIn(definition: string): string | undefined {
  const doc = parseDocument(definition)
  if (doc.errors.length > 0) return undefined
  const name = doc.getIn(['metadata', 'name'])
  return typeof name === 'string' ? name : undefined
}

/**
 * The definition with `metadata.name` set to `name`, or undefined when it cannot be done without rewriting the
 * text (the YAML does not parse, or has no `metadata` map). Only the name's own characters are replaced, so
 * comments and layout elsewhere stay as written.
 */
export function withName(definition: string, name: string): string | undefined {
  const doc = parseDocument(definition)
  if (doc.errors.length > 0) return undefined
  const metadata = doc.get('metadata', true)
  if (!isMap(metadata)) return undefined
  const scalar = stringify(name).trimEnd()
  const current = metadata.get('name', true)
  if (isScalar(current) && current.range !== undefined && current.range !== null) {
    const [start, end] = current.range
    // An empty `name:` has its (null) value right after the colon.
    const space = definition[start - 1] === ':' ? ' ' : ''
    return definition.slice(0, start) + space + scalar + definition.slice(end)
  }
  // No name yet: a block map gets a first line; anything else (a `{...}` flow map) is left to the YAML editor.
  const first = metadata.items[0]
  if (metadata.flow === true || first === undefined || !isScalar(first.key) || first.key.range == null) return undefined
  const at = first.key.range[0]
  const lineStart = definition.lastIndexOf('\n', at - 1) + 1
  const indent = definition.slice(lineStart, at)
  return `${definition.slice(0, at)}name: ${scalar}\n${indent}${definition.slice(at)}`
}
