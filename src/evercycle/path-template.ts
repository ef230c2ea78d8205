import { domainError } from '../errors.js'

/** A `{name}` placeholder in a path template; the one pattern for the registry, the spec parser and the CLI. */
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g

export function templateParams(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string)
}

/** The template with each `{name}` replaced by what `replace` returns for it (given the name and the placeholder). */
export function replacePlaceholders(template: string, replace: (name: string, placeholder: string) => string): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => replace(name, whole))
}

/** Dot segments would be normalised away by URL parsers upstream; control characters have no business here. */
// eslint-disable-next-line no-control-regex
const UNSAFE_VALUE = /^\.{1,2}$|[\u0000-\u001f\u007f]/

/**
 * Substitutes each `{name}` with its value, percent-encoded as one path segment. A value can never add a
 * segment, a query or a fragment: `/`, `?` and `#` are encoded, and `.`/`..` are refused outright.
 */
export function renderPath(template: string, values: Record<string, string>): string {
  if (!template.includes('{')) return template
  return replacePlaceholders(template, (name) => {
    const value = values[name]
    if (value === undefined || value === '') {
      throw domainError('validation_error', `Path parameter "${name}" is required`, {
        details: [{ field: name, message: 'is required' }]
      })
    }
    if (UNSAFE_VALUE.test(value)) {
      throw domainError('validation_error', `Path parameter "${name}" has an invalid value`, {
        details: [{ field: name, message: 'must not be "." or ".." or contain control characters' }]
      })
    }
    return encodeURIComponent(value)
  })
}

interface ParsedBase {
  origin: string
  /** The base URL's path without its trailing slash, prepended to every rendered path. */
  prefix: string
}

/** Base URLs parsed once: one per configured upstream, so the map stays tiny (bounded anyway). */
const parsedBases = new Map<string, ParsedBase>()
/**
 * Templates without placeholders already checked, per base URL: their result never varies. Two lookups
 * rather than one on a `base + template` key, which would build and hash a new string on every call.
 */
const checkedStatic = new Map<string, Set<string>>()
const CACHE_LIMIT = 1000

function parseBase(baseUrl: string): ParsedBase {
  let base = parsedBases.get(baseUrl)
  if (base === undefined) {
    const url = new URL(baseUrl)
    base = { origin: url.origin, prefix: url.pathname.replace(/\/$/, '') }
    if (parsedBases.size >= CACHE_LIMIT) parsedBases.clear()
    parsedBases.set(baseUrl, base)
  }
  return base
}

/**
 * Final check before a request leaves: the URL built from base + path must keep the base's origin, start with
 * the template's static prefix, and survive URL normalisation unchanged. Anything else is a bug or an attack.
 * A template without placeholders renders to itself, so its verdict is computed once per base URL; a rendered
 * one carries client values and is parsed every time.
 */
export function assertSafeUpstreamPath(baseUrl: string, template: string, rendered: string): void {
  const isStatic = rendered === template && !template.includes('{')
  if (isStatic && checkedStatic.get(baseUrl)?.has(template) === true) return
  const base = parseBase(baseUrl)
  const full = base.prefix + rendered
  const staticPrefix = template.split('{')[0] ?? ''
  const url = new URL(full, base.origin)
  if (url.origin !== base.origin || url.pathname !== full || !rendered.startsWith(staticPrefix) || url.search !== '' || url.hash !== '') {
    throw domainError('validation_error', 'Path parameters produce an invalid upstream path', {
      details: [{ field: 'path', message: 'path parameters may not change the upstream path' }]
    })
  }
  if (isStatic) {
    let templates = checkedStatic.get(baseUrl)
    if (templates === undefined) {
      if (checkedStatic.size >= CACHE_LIMIT) checkedStatic.clear()
      templates = new Set()
      checkedStatic.set(baseUrl, templates)
    }
    if (templates.size >= CACHE_LIMIT) templates.clear()
    templates.add(template)
  }
}
