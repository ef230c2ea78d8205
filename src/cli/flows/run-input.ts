import { readFile } from 'node:fs/promises'
import { usageError } from '../cli-error.js'

/** `--input '{"a":1}'` or `--input @file.json`: a JSON object, the run's `input`. */
export async function runInput(value: string | undefined): Promise<Record<string, unknown>> {
  if (value === undefined) return {}
  let text = value
  if (value.startsWith('@')) {
    try {
      text = await readFile(value.slice(1), 'utf8')
    } catch (err) {
      throw usageError(`--input ${value}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`)
    }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw usageError(`--input is not JSON: ${(err as Error).message}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw usageError('--input must be a JSON object')
  return parsed as Record<string, unknown>
}
