import { HEADING, stripMarkup, type Line } from './lines.js'

/* Tables and the sections (Headers, Parameters, Body Parameters...) they sit in. */

export type Section = 'headers' | 'body' | 'path' | 'query' | 'params' | 'ignore' | undefined

export interface Table {
  section: Section
  columns: string[]
  rows: string[][]
}

export const SEPARATOR_ROW = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/

export function sectionOf(title: string): Section {
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
export function sectionTitle(line: string): { title: string; heading: boolean } | undefined {
  const heading = HEADING.exec(line)
  if (heading !== null) return { title: heading[2] ?? '', heading: true }
  const trimmed = line.trim()
  const bold = /^(\*\*|__)(.+?)\1:?$/.exec(trimmed)
  if (bold !== null) return { title: bold[2] ?? '', heading: false }
  if (/^[A-Za-z][A-Za-z ()/-]{0,60}:$/.test(trimmed)) return { title: trimmed.slice(0, -1), heading: false }
  return undefined
}

export function isTableLine(text: string): boolean {
  return text.includes('|') && text.trim() !== ''
}

export function collectTables(lines: Line[]): Table[] {
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
export function splitRow(text: string): string[] {
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

