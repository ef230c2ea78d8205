import { CliError } from '../cli-error.js'
import { write, type OutStream } from '../output.js'
import { seg, type FlowRunnerClient } from './api-client.js'
import { definitionPaths, formatIssue, readDefinitions, serverIssues, type DefinitionFile, type LocatedIssue } from './definition-files.js'
import { unifiedDiff } from './line-diff.js'
import { allFlows, latestRevision } from './resolve-flow.js'
import type { FlowDetail, FlowSummary } from './types.js'

export type ApplyOutcome = 'created' | 'updated' | 'unchanged' | 'failed'

export interface ApplyOptions {
  dryRun: boolean
  out: OutStream
  err: OutStream
}

function invalid(issues: LocatedIssue[], files: number, saved: string): CliError {
  const fileCount = new Set(issues.map((i) => i.file)).size
  return new CliError(
    'validation_error',
    `${issues.length} problem${issues.length === 1 ? '' : 's'} in ${fileCount} of ${files} file${files === 1 ? '' : 's'}: ${saved}`,
    { problems: issues.length }
  )
}

/**
 * One file against the server: created when no flow has its name, unchanged when the stored definition is
 * the same text (nothing is saved, so no new version), else updated with a diff of what changed.
 */
async function applyOne(client: FlowRunnerClient, def: DefinitionFile, existing: FlowSummary | undefined, options: ApplyOptions): Promise<ApplyOutcome> {
  const label = `${def.file}: "${def.name}"`
  if (existing === undefined) {
    if (options.dryRun) {
      write(options.out, `${label} would be created`)
      return 'created'
    }
    const created = await client.call<FlowSummary>('POST', '/api/v1/flows', { definition: def.text })
    write(options.out, `${label} created (${created.id}, revision 1)`)
    return 'created'
  }
  const current = await client.call<FlowDetail>('GET', `/api/v1/flows/${seg(existing.id)}`)
  const revision = await latestRevision(client, existing.id)
  if (current.definition === def.text) {
    write(options.out, `${label} unchanged (${existing.id}, revision ${revision ?? '?'})`)
    return 'unchanged'
  }
  const diff = unifiedDiff(current.definition, def.text, `${def.name} (revision ${revision ?? '?'})`, def.file)
  if (options.dryRun) {
    write(options.out, `${label} would be updated (${existing.id}, now revision ${revision ?? '?'})`)
    options.out.write(diff)
    return 'updated'
  }
  await client.call<FlowSummary>('PUT', `/api/v1/flows/${seg(existing.id)}`, { definition: def.text })
  const now = await latestRevision(client, existing.id)
  write(options.out, `${label} updated to revision ${now ?? '?'} (${existing.id})`)
  options.out.write(diff)
  return 'updated'
}

/**
 * `flows apply <file|dir>`: every file is checked first and nothing is saved while any has a problem; then
 * each is created or updated by metadata.name. A problem only the server finds (an operation it doesn't
 * have) is printed the same way, file:line:column, and the other files still apply. Returns the exit code.
 */
export async function applyDefinitions(client: FlowRunnerClient, target: string, options: ApplyOptions): Promise<number> {
  const paths = await definitionPaths(target)
  const { files, issues } = await readDefinitions(paths)
  if (issues.length > 0) {
    for (const issue of issues) write(options.err, formatIssue(issue))
    throw invalid(issues, paths.length, 'nothing was applied')
  }
  const byName = new Map<string, FlowSummary[]>()
  for (const flow of await allFlows(client)) byName.set(flow.name, [...(byName.get(flow.name) ?? []), flow])
  const refused: LocatedIssue[] = []
  const counts: Record<ApplyOutcome, number> = { created: 0, updated: 0, unchanged: 0, failed: 0 }
  for (const def of files) {
    const matches = byName.get(def.name) ?? []
    if (matches.length > 1) {
      throw new CliError('ambiguous_name', `${def.file}: ${matches.length} flows are named "${def.name}"; rename or delete all but one`, {
        ids: matches.map((f) => f.id)
      })
    }
    try {
      counts[await applyOne(client, def, matches[0], options)]++
    } catch (err) {
      const located = serverIssues(def.file, err)
      if (located === undefined) throw err
      for (const issue of located) write(options.err, formatIssue(issue))
      refused.push(...located)
      counts.failed++
    }
  }
  if (files.length > 1) {
    const verb = options.dryRun ? 'would be ' : ''
    write(options.out, `${files.length} files: ${counts.created} ${verb}created, ${counts.updated} ${verb}updated, ${counts.unchanged} unchanged${counts.failed > 0 ? `, ${counts.failed} refused` : ''}`)
  }
  if (refused.length > 0) throw invalid(refused, files.length, 'refused by the server')
  return 0
}
