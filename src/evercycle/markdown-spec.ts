import { methodHasBody } from './operation.js'
import { templateParams } from './path-template.js'
import { applyTable, type GeneratedConfig } from './markdown/fields.js'
import { FENCE, HEADING, headingText, splitLines, stripMarkup, type Line } from './markdown/lines.js'
import { collectRequests, matchRequestLine, METHOD_LABEL, normalizePath, originOf, pathOf, pathProblem, URL_LABEL } from './markdown/request-line.js'
import { collectTables, sectionOf } from './markdown/tables.js'

/**
 * The old tool's markdown API specs (`evercycle-api/*.md`) turned into the JSON configs the gateway loads.
 * Layout, as the old `parse_markdown_file()` read it: first line the path, second line the description, the
 * method and URL found by pattern anywhere in the file, and tables under "Headers", "Parameters" and "Body
 * Parameters" sections. Real spec files drift from that layout, so the parser is lenient about markup (headings,
 * backticks, bold, code fences, short or long table rows) and strict about meaning: a file whose method, path
 * or request lines are ambiguous is refused with a reason instead of guessed at.
 */

export type { GeneratedConfig } from './markdown/fields.js'

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
  const placeholders = templateParams(path)
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

