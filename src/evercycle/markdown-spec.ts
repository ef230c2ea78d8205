import { HTTP_METHODS, methodHasBody, type HttpMethod } from './operation.js'

/**
 * The old tool's markdown API specs (`evercycle-api/*.md`) turned into the JSON configs the gateway loads.
 * Layout, as the old `parse_markdown_file()` read it: first line the path, second line the description, the
 * method and URL found by pattern anywhere in the file, and tables under "Headers", "Parameters" and "Body
 * Parameters" sections. Real spec files drift from that layout, so the parser is lenient about markup (headings,
 * backticks, bold, code fences, short or long table rows) and strict about meaning: a file whose method, path
 * or request lines are ambiguous is refused with a reason instead of guessed at.
 */

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

export interface ParsedSpec {
  config: GeneratedConfig
  /** Body fields the spec documents without a default: left out of `body` (see `bodyField`). */
  fieldsWithoutDefault: string[]
  /** Things the parser dropped or doubted, for the report. */
  warnings: string[]
}

export type SpecResult = { ok: true; spec: ParsedSpec } | { ok: false; reason: string }

export interface SpecOptions {
  /** Base URL used to write `url` when the spec gives only a path. */
  baseUrl: string
}

interface Line {
  text: string
  /** Inside a ``` or ~~~ fence: searched for request lines, never for tables or sections. */
  fenced: boolean
}

type Section = 'headers' | 'body' | 'path' | 'query' | 'params' | 'ignore' | undefined

interface Table {
  section: Section
  columns: string[]
  rows: string[][]
}

const METHOD_ALT = HTTP_METHODS.join('|')
/** `GET https://api.evercycle.io/v1/asset` or `PUT /v1/asset/{id}`, optionally followed by `HTTP/1.1`. */
const REQUEST_LINE = new RegExp(`^(${METHOD_ALT})\\s+(https?://\\S+|/\\S*)(?:\\s+HTTP/[\\d.]+)?$`)
const METHOD_LABEL = new RegExp(`^(?:http\\s+)?(?:method|verb)\\s*[:=]\\s*(${METHOD_ALT})$`, 'i')
const URL_LABEL = /^(?:url|endpoint|uri|path)\s*[:=]\s*(https?:\/\/\S+|\/\S*)$/i
const CURL = new RegExp(`^curl\\b.*?(?:-X|--request)\\s*['"]?(${METHOD_ALT})['"]?\\b.*?['"]?(https?://[^\\s'"]+)`, 'i')
/** Request-line labels people put in front: `Endpoint: GET /v1/asset`, `**Request:** POST ...`. */
const LEADING_LABEL = /^(?:endpoint|request|url|http request|route)\s*[:=]\s*/i
const FENCE = /^\s*(`{3,}|~{3,})/
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/
const SEPARATOR_ROW = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g
const EMPTY_CELL = new Set(['', '-', '–', '—', 'n/a', 'none given'])
/** Injected per call from auth.properties, or set by the client itself: never written into a config file. */
const MANAGED_HEADERS = new Set(['access-token', 'authorization', 'cookie', 'x-api-key', 'accept', 'content-type', 'content-length', 'host'])
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/
const POISON_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

export function parseMarkdownSpec(text: string, options: SpecOptions): SpecResult {
  const lines = splitLines(text)
  const warnings: string[] = []
  const prose = lines.filter((l) => !l.fenced && l.text.trim() !== '')
  const firstLine = lines.find((l) => l.text.trim() !== '')
  if (firstLine === undefined) return { ok: false, reason: 'the file is empty' }
  if (firstLine.fenced || FENCE.test(firstLine.text)) return { ok: false, reason: 'the first line must be the path, not a code fence' }

  const first = stripMarkup(headingText(firstLine.text))
  const firstRequest = matchRequestLine(first)
  const requests = collectRequests(lines)
  const methods = [...new Set(requests.methods)]
  if (methods.length > 1) {
    return {
      ok: false,
      reason: `several methods (${methods.join(', ')}) in one spec: write one file per operation`
    }
  }
  const method = methods[0]
  if (method === undefined) {
    return { ok: false, reason: 'no HTTP method found (expected a request line such as "GET https://api.evercycle.io/v1/asset")' }
  }
  const targets = [...new Set(requests.targets.map((t) => normalizePath(pathOf(t))))]
  if (targets.length > 1) {
    return { ok: false, reason: `several request paths (${targets.join(', ')}) in one spec: write one file per operation` }
  }

  // The first line is the path (the old layout); a title there falls back to the request line's path.
  let path: string | undefined
  if (firstRequest !== undefined) path = normalizePath(pathOf(firstRequest.target))
  else if (first.startsWith('/') || /^https?:\/\//.test(first)) path = normalizePath(pathOf(first.split(/\s+/)[0] ?? ''))
  else path = targets[0]
  if (path === undefined) {
    return { ok: false, reason: 'no path: the first line is not a path and no request line gives one' }
  }
  const problem = pathProblem(path)
  if (problem !== undefined) return { ok: false, reason: `path ${JSON.stringify(path)} ${problem}` }
  if (targets[0] !== undefined && targets[0] !== path) {
    warnings.push(`the first line's path ${path} differs from the request line's ${targets[0]}; using ${path}`)
  }

  const absolute = requests.targets.find((t) => /^https?:\/\//.test(t))
  const url = absolute === undefined ? options.baseUrl.replace(/\/$/, '') + path : originOf(absolute) + path

  const description = describe(prose, firstLine) ?? `${method} ${path}`
  const placeholders = [...path.matchAll(PLACEHOLDER)].map((m) => m[1] as string)
  const config: GeneratedConfig = {
    path,
    description,
    method,
    url,
    headers: {},
    path_params: {},
    query_params: {},
    body: {}
  }
  for (const name of placeholders) config.path_params[name] = ''
  const fieldsWithoutDefault: string[] = []

  for (const table of collectTables(lines)) {
    applyTable(table, config, placeholders, fieldsWithoutDefault, warnings)
  }
  if (!methodHasBody(method) && (Object.keys(config.body).length > 0 || fieldsWithoutDefault.length > 0)) {
    warnings.push(`${method} sends no body: the body parameters are ignored`)
    config.body = {}
    fieldsWithoutDefault.length = 0
  }
  return { ok: true, spec: { config, fieldsWithoutDefault, warnings } }
}

/** The config file's text: two-space JSON with a final newline, stable so a content hash means something. */
export function formatConfig(config: GeneratedConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`
}

function splitLines(text: string): Line[] {
  const lines: Line[] = []
  let fence: string | undefined
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n|\r/)) {
    const marker = FENCE.exec(raw)?.[1]
    if (fence === undefined && marker !== undefined) {
      fence = marker
      lines.push({ text: raw, fenced: true })
      continue
    }
    if (fence !== undefined) {
      // a fence closes with the same character, at least as long, and nothing after it
      const closes = marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length && raw.trim() === marker
      lines.push({ text: raw, fenced: true })
      if (closes) fence = undefined
      continue
    }
    lines.push({ text: raw, fenced: false })
  }
  return lines
}

function headingText(line: string): string {
  return HEADING.exec(line)?.[2] ?? line.trim()
}

/**
 * Drops inline markup that does not change meaning: emphasis, code-span backticks, blockquote and list markers.
 * Code spans are literal (`` `__proto__` `` keeps its underscores); emphasis is removed outside them only.
 */
function stripMarkup(text: string): string {
  const plain = text
    .trim()
    .replace(/^>\s*/, '')
    .replace(/^(?:[-*+]|\d+\.)\s+/, '')
  return plain
    .split(/(`[^`]*`)/)
    .map((part) =>
      part.startsWith('`') && part.endsWith('`') && part.length >= 2
        ? part.slice(1, -1)
        : part
            .replace(/\*\*(.+?)\*\*/g, '$1')
            .replace(/(^|[^\w])__(.+?)__(?=[^\w]|$)/g, '$1$2')
            .replace(/(^|[^\w*])\*([^*\s][^*]*)\*(?=[^\w*]|$)/g, '$1$2')
            .replace(/\*\*|`/g, '')
    )
    .join('')
    .trim()
}

function matchRequestLine(text: string): { method: HttpMethod; target: string } | undefined {
  const m = REQUEST_LINE.exec(text.replace(LEADING_LABEL, '').trim())
  return m === null ? undefined : { method: m[1] as HttpMethod, target: trimTarget(m[2] as string) }
}

function trimTarget(target: string): string {
  return target.replace(/[),.;:'"]+$/, '')
}

function collectRequests(lines: Line[]): { methods: HttpMethod[]; targets: string[] } {
  const methods: HttpMethod[] = []
  const targets: string[] = []
  for (const line of lines) {
    const text = stripMarkup(line.fenced ? line.text : headingText(line.text))
    if (text === '') continue
    const request = matchRequestLine(text)
    if (request !== undefined) {
      methods.push(request.method)
      targets.push(request.target)
      continue
    }
    const curl = CURL.exec(text)
    if (curl !== null) {
      methods.push((curl[1] as string).toUpperCase() as HttpMethod)
      targets.push(trimTarget(curl[2] as string))
      continue
    }
    // labels are prose; inside a fence the same words are usually an example payload
    if (line.fenced) continue
    const label = METHOD_LABEL.exec(text)
    if (label !== null) methods.push((label[1] as string).toUpperCase() as HttpMethod)
    const url = URL_LABEL.exec(text)
    if (url !== null) targets.push(trimTarget(url[1] as string))
  }
  return { methods, targets }
}

/** The path part of an absolute URL or a path, without query or fragment. */
function pathOf(target: string): string {
  const withoutOrigin = target.replace(/^https?:\/\/[^/?#]+/i, '')
  const path = withoutOrigin.split(/[?#]/)[0] ?? ''
  return path === '' ? '/' : path
}

function originOf(url: string): string {
  return /^https?:\/\/[^/?#]+/i.exec(url)?.[0] ?? ''
}

/** `{id}` is the gateway's template syntax; specs also write `:id`, `<id>` or percent-encoded braces. */
function normalizePath(path: string): string {
  return path
    .replace(/%7B/gi, '{')
    .replace(/%7D/gi, '}')
    .replace(/\/:([A-Za-z_][A-Za-z0-9_]*)/g, '/{$1}')
    .replace(/<([A-Za-z_][A-Za-z0-9_]*)>/g, '{$1}')
}

function pathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must start with /'
  if (/\s/.test(path)) return 'must not contain spaces'
  if (/(^|\/)\.\.?(\/|$)/.test(path)) return 'must not contain dot segments'
  const leftover = path.replace(PLACEHOLDER, '')
  if (/[{}]/.test(leftover)) return 'has a malformed {placeholder}'
  return undefined
}

/** The second line, unless it is structure (a table, a fence, a request line) rather than a sentence. */
function describe(prose: Line[], firstLine: Line): string | undefined {
  const index = prose.indexOf(firstLine)
  let candidate = prose[index + 1]
  if (candidate === undefined) return undefined
  let text = stripMarkup(headingText(candidate.text))
  // `## Description` followed by the sentence: take the sentence
  if (/^(description|summary|overview)\s*:?$/i.test(text)) {
    candidate = prose[index + 2]
    if (candidate === undefined) return undefined
    text = stripMarkup(headingText(candidate.text))
  }
  text = text.replace(/^(description|summary)\s*:\s*/i, '')
  if (text === '' || text.includes('|') || matchRequestLine(text) !== undefined || METHOD_LABEL.test(text) || URL_LABEL.test(text)) {
    return undefined
  }
  if (sectionOf(text) !== undefined && HEADING.test(candidate.text)) return undefined
  return text
}

function sectionOf(title: string): Section {
  const t = title.toLowerCase()
  if (/respon|return|output|error|status code/.test(t)) return 'ignore'
  if (/header/.test(t)) return 'headers'
  if (/body|payload|request field|form field/.test(t)) return 'body'
  if (/path/.test(t) && /param|variable|segment/.test(t)) return 'path'
  if (/query/.test(t)) return 'query'
  if (/param|argument|input/.test(t)) return 'params'
  return undefined
}

/**
 * A heading, a bold-only line or a `Label:` line names the section the tables below it belong to. A heading
 * always starts a new section; a bold or label line only when it names one (a "Note:" inside a Headers
 * section leaves the section as it was).
 */
function sectionTitle(line: string): { title: string; heading: boolean } | undefined {
  const heading = HEADING.exec(line)
  if (heading !== null) return { title: heading[2] ?? '', heading: true }
  const trimmed = line.trim()
  const bold = /^(\*\*|__)(.+?)\1:?$/.exec(trimmed)
  if (bold !== null) return { title: bold[2] ?? '', heading: false }
  if (/^[A-Za-z][A-Za-z ()/-]{0,60}:$/.test(trimmed)) return { title: trimmed.slice(0, -1), heading: false }
  return undefined
}

function isTableLine(text: string): boolean {
  return text.includes('|') && text.trim() !== ''
}

function collectTables(lines: Line[]): Table[] {
  const tables: Table[] = []
  let section: Section
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as Line
    if (line.fenced) continue
    const title = sectionTitle(line.text)
    if (title !== undefined) {
      const named = sectionOf(stripMarkup(title.title))
      if (title.heading || named !== undefined) section = named
      continue
    }
    const next = lines[i + 1]
    if (!isTableLine(line.text) || next === undefined || next.fenced || !SEPARATOR_ROW.test(next.text) || !next.text.includes('-')) continue
    const columns = splitRow(line.text).map((c) => stripMarkup(c).toLowerCase())
    const rows: string[][] = []
    let j = i + 2
    for (; j < lines.length; j++) {
      const row = lines[j] as Line
      if (row.fenced || !isTableLine(row.text)) break
      rows.push(splitRow(row.text))
    }
    tables.push({ section, columns, rows })
    i = j - 1
  }
  return tables
}

/** Cells of one table row; `\|` is a literal pipe. Leading and trailing pipes are optional. */
function splitRow(text: string): string[] {
  let body = text.trim()
  if (body.startsWith('|')) body = body.slice(1)
  if (body.endsWith('|') && !body.endsWith('\\|')) body = body.slice(0, -1)
  const cells: string[] = []
  let cell = ''
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string
    if (ch === '\\' && body[i + 1] === '|') {
      cell += '|'
      i++
    } else if (ch === '|') {
      cells.push(cell.trim())
      cell = ''
    } else {
      cell += ch
    }
  }
  cells.push(cell.trim())
  return cells
}

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

function applyTable(table: Table, config: GeneratedConfig, placeholders: string[], withoutDefault: string[], warnings: string[]): void {
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

function hasPoisonKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasPoisonKey)
  if (typeof value !== 'object' || value === null) return false
  return Object.keys(value).some((k) => POISON_KEYS.has(k) || hasPoisonKey((value as Record<string, unknown>)[k]))
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
