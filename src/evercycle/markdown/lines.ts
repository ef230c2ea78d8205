/** Markdown at the line level: code fences, headings and inline markup, as the spec parser needs them. */

export interface Line {
  text: string
  /** Inside a ``` or ~~~ fence: searched for request lines, never for tables or sections. */
  fenced: boolean
}

export const FENCE = /^\s*(`{3,}|~{3,})/
export const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/

export function splitLines(text: string): Line[] {
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

export function headingText(line: string): string {
  return HEADING.exec(line)?.[2] ?? line.trim()
}

/**
 * Drops inline markup that does not change meaning: emphasis, code-span backticks, blockquote and list markers.
 * Code spans are literal (`` `__proto__` `` keeps its underscores); emphasis is removed outside them only.
 */
export function stripMarkup(text: string): string {
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

