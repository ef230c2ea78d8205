import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { CliError, usageError } from '../cli-error.js'
import { validateDefinition, type DefinitionIssue } from '../../flows/validate-definition.js'

const YAML_FILE = /\.ya?ml$/i

export interface DefinitionFile {
  /** As the user named it (relative paths stay relative in messages). */
  file: string
  text: string
  /** metadata.name: what `apply` matches stored flows by. */
  name: string
}

export interface LocatedIssue extends DefinitionIssue {
  file: string
}

/** `file:line:column: field reason`, the shape editors and CI annotate from. */
export function formatIssue(issue: LocatedIssue): string {
  const where = [issue.file, issue.line, issue.column].filter((p) => p !== undefined).join(':')
  const field = issue.field === 'definition' ? '' : `${issue.field} `
  return `${where}: ${field}${issue.reason}`
}

/** The YAML files `apply` was pointed at: one file, or every *.yaml / *.yml in a directory (not below it), sorted. */
export async function definitionPaths(target: string): Promise<string[]> {
  let info
  try {
    info = await stat(target)
  } catch {
    throw usageError(`${target}: no such file or directory`)
  }
  if (info.isFile()) return [target]
  if (!info.isDirectory()) throw usageError(`${target}: not a file or a directory`)
  const names = (await readdir(target, { withFileTypes: true })).filter((d) => d.isFile() && YAML_FILE.test(d.name)).map((d) => d.name).sort()
  if (names.length === 0) throw usageError(`${target}: no .yaml or .yml files in it`)
  return names.map((n) => path.join(target, n))
}

/**
 * Reads and checks every definition before anything is saved: YAML syntax, the document schema, node params,
 * expressions, `next` targets, the start node, and one file per flow name. Whether an `evercycle` node's
 * operation exists and may be called is the server's to say (it knows its registry and the account's role).
 */
export async function readDefinitions(paths: string[]): Promise<{ files: DefinitionFile[]; issues: LocatedIssue[] }> {
  const files: DefinitionFile[] = []
  const issues: LocatedIssue[] = []
  const byName = new Map<string, string>()
  for (const file of paths) {
    const text = await readFile(file, 'utf8')
    const result = validateDefinition(text, { hasOperation: () => true, mayCallOperation: () => true })
    if (!result.ok) {
      issues.push(...result.issues.map((i) => ({ file, ...i })))
      continue
    }
    const name = result.spec.metadata.name
    const other = byName.get(name)
    if (other !== undefined) {
      issues.push({ file, field: 'metadata.name', reason: `"${name}" is also the name in ${other}: one file per flow`, line: 1, column: 1 })
      continue
    }
    byName.set(name, file)
    files.push({ file, text, name })
  }
  return { files, issues }
}

/** The server's 422 for a definition (details.errors), located in the file it came from. */
export function serverIssues(file: string, err: unknown): LocatedIssue[] | undefined {
  if (!(err instanceof CliError) || err.code !== 'validation_error') return undefined
  const errors = (err.details as { errors?: unknown } | null)?.errors
  if (!Array.isArray(errors)) return [{ file, field: 'definition', reason: err.message }]
  return (errors as DefinitionIssue[]).map((i) => ({ file, field: i.field, reason: i.reason, line: i.line, column: i.column }))
}
