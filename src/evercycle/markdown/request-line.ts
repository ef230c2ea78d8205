import { HTTP_METHODS, type HttpMethod } from '../operation.js'
import { replacePlaceholders } from '../path-template.js'
import { headingText, stripMarkup, type Line } from './lines.js'

/* Where a spec names its method and URL: request lines, curl commands, `Method:` and `URL:` labels. */

const METHOD_ALT = HTTP_METHODS.join('|')
/** `GET https://api.evercycle.io/v1/asset` or `PUT /v1/asset/{id}`, optionally followed by `HTTP/1.1`. */
export const REQUEST_LINE = new RegExp(`^(${METHOD_ALT})\\s+(https?://\\S+|/\\S*)(?:\\s+HTTP/[\\d.]+)?$`)
export const METHOD_LABEL = new RegExp(`^(?:http\\s+)?(?:method|verb)\\s*[:=]\\s*(${METHOD_ALT})$`, 'i')
export const URL_LABEL = /^(?:url|endpoint|uri|path)\s*[:=]\s*(https?:\/\/\S+|\/\S*)$/i
const CURL = new RegExp(`^curl\\b.*?(?:-X|--request)\\s*['"]?(${METHOD_ALT})['"]?\\b.*?['"]?(https?://[^\\s'"]+)`, 'i')
/** Request-line labels people put in front: `Endpoint: GET /v1/asset`, `**Request:** POST ...`. */
const LEADING_LABEL = /^(?:endpoint|request|url|http request|route)\s*[:=]\s*/i

export function matchRequestLine(text: string): { method: HttpMethod; target: string } | undefined {
  const m = REQUEST_LINE.exec(text.replace(LEADING_LABEL, '').trim())
  return m === null ? undefined : { method: m[1] as HttpMethod, target: trimTarget(m[2] as string) }
}

export function trimTarget(target: string): string {
  return target.replace(/[),.;:'"]+$/, '')
}

export function collectRequests(lines: Line[]): { methods: HttpMethod[]; targets: string[] } {
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
export function pathOf(target: string): string {
  const withoutOrigin = target.replace(/^https?:\/\/[^/?#]+/i, '')
  const path = withoutOrigin.split(/[?#]/)[0] ?? ''
  return path === '' ? '/' : path
}

export function originOf(url: string): string {
  return /^https?:\/\/[^/?#]+/i.exec(url)?.[0] ?? ''
}

/** `{id}` is the gateway's template syntax; specs also write `:id`, `<id>` or percent-encoded braces. */
export function normalizePath(path: string): string {
  return path
    .replace(/%7B/gi, '{')
    .replace(/%7D/gi, '}')
    .replace(/\/:([A-Za-z_][A-Za-z0-9_]*)/g, '/{$1}')
    .replace(/<([A-Za-z_][A-Za-z0-9_]*)>/g, '{$1}')
}

export function pathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must start with /'
  if (/\s/.test(path)) return 'must not contain spaces'
  if (/(^|\/)\.\.?(\/|$)/.test(path)) return 'must not contain dot segments'
  const leftover = replacePlaceholders(path, () => '')
  if (/[{}]/.test(leftover)) return 'has a malformed {placeholder}'
  return undefined
}

