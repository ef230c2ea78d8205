import type { Writable } from 'node:stream'
import { errorBody, type ErrorBody } from './cli-error.js'

export type OutStream = Writable & { isTTY?: boolean; columns?: number }

export function isTty(stream: OutStream): boolean {
  return stream.isTTY === true
}

export function write(stream: OutStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`)
}

/** Pretty JSON for people, one compact line for scripts. */
export function formatJson(value: unknown, pretty: boolean): string {
  return pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value)
}

/** Re-indents JSON text for a terminal; raw text is left byte for byte as it came. */
export function formatJsonText(text: string, pretty: boolean): string {
  if (!pretty) return text
  try {
    return JSON.stringify(JSON.parse(text), null, 2)
  } catch {
    return text
  }
}

/** The error in the gateway's shape on stderr, so stdout only ever holds results. */
export function printError(err: unknown, stream: OutStream = process.stderr): ErrorBody {
  const body = errorBody(err)
  write(stream, formatJson(body, isTty(stream)))
  return body
}

/**
 * A plain text table. On a terminal the last column is cut to the window so rows stay one line each;
 * piped output keeps every character.
 */
export function formatTable(headers: string[], rows: string[][], width?: number): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const lines = [headers, ...rows].map((cells) => {
    const padded = cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
    let line = padded.join('  ').trimEnd()
    if (width !== undefined && width > 20 && line.length > width) line = `${line.slice(0, width - 1)}…`
    return line
  })
  return `${lines.join('\n')}\n`
}

export function tableWidth(stream: OutStream): number | undefined {
  return isTty(stream) ? stream.columns : undefined
}
