import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { ConfigError } from '../config.js'
import { loadEndpoints } from '../evercycle/load-endpoints.js'
import { formatConfig, parseMarkdownSpec } from '../evercycle/markdown-spec.js'
import type { EndpointDefinition } from '../evercycle/operation.js'
import { buildRegistry, RESERVED_NAMES } from '../evercycle/registry.js'
import { writeFileAtomic } from '../util/atomic-write.js'
import { CliError } from './cli-error.js'

/**
 * Content hashes of the configs `generate` wrote, beside them in the config dir. A config whose bytes still
 * hash to what was generated is the generator's to replace; any other content (edited, or written by hand) is
 * the user's and is kept unless --force. The name does not end in `.json`, so the registry never reads it.
 */
export const MANIFEST_FILE = '.evercycle-generated'

export type GenerateResult = 'created' | 'updated' | 'unchanged' | 'kept' | 'skipped'

export interface GenerateEntry {
  spec: string
  config: string | null
  result: GenerateResult
  reason: string | null
  warnings: string[]
  fieldsWithoutDefault: string[]
}

export interface GenerateOptions {
  specsDir: string
  outDir: string
  baseUrl: string
  force: boolean
  dryRun: boolean
}

interface Manifest {
  version: 1
  files: Record<string, string>
}

const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** `Get All.md` → `get-all`: the config name the gateway routes as `/api/<name>`. */
export function configNameOf(specFile: string): string {
  return path
    .basename(specFile)
    .replace(/\.(md|markdown)$/i, '')
    .toLowerCase()
    .replace(/[\s_.]+/g, '-')
}

async function readManifest(outDir: string): Promise<Manifest> {
  try {
    const parsed = JSON.parse(await readFile(path.join(outDir, MANIFEST_FILE), 'utf8')) as Partial<Manifest>
    if (parsed.version === 1 && typeof parsed.files === 'object' && parsed.files !== null) return { version: 1, files: { ...parsed.files } }
  } catch {
    // missing or unreadable: nothing is known to be generated, so nothing existing is overwritten
  }
  return { version: 1, files: {} }
}

async function readIfExists(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw err
  })
}

/** Checks one generated config the way the gateway will at boot: merged with endpoints/, through the registry. */
function registryProblem(definitions: readonly EndpointDefinition[], name: string, file: string, value: unknown): string | undefined {
  try {
    buildRegistry(definitions, new Map([[name, { file, value }]]))
    return undefined
  } catch (err) {
    if (err instanceof ConfigError) {
      return err.message
        .replace(/^Invalid operation definitions:\s*/, '')
        .split(/\n\s*/)
        .map((line) => line.replace(`${file}: `, ''))
        .join('; ')
    }
    throw err
  }
}

export async function generateConfigs(options: GenerateOptions): Promise<GenerateEntry[]> {
  let files: string[]
  try {
    files = (await readdir(options.specsDir, { withFileTypes: true }))
      .filter((d) => d.isFile() && /\.(md|markdown)$/i.test(d.name))
      .map((d) => d.name)
      .sort()
  } catch (err) {
    throw new CliError('not_found', `Cannot read the specs directory ${options.specsDir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  if (files.length === 0) throw new CliError('not_found', `No markdown specs (*.md) in ${options.specsDir}`)

  const definitions = await loadEndpoints()
  const manifest = await readManifest(options.outDir)
  const entries: GenerateEntry[] = []
  const claimed = new Map<string, string>()

  for (const file of files) {
    const entry: GenerateEntry = { spec: file, config: null, result: 'skipped', reason: null, warnings: [], fieldsWithoutDefault: [] }
    entries.push(entry)
    const name = configNameOf(file)
    if (!NAME.test(name)) {
      entry.reason = `"${name}" is not a usable operation name (lowercase letters, digits and dashes, up to 64)`
      continue
    }
    if (RESERVED_NAMES.has(name)) {
      entry.reason =
        name === 'auth-signin'
          ? 'auth-signin is not an operation: sign in with `evercycle auth` (tokens go to auth.properties, and config/auth-signin.json holds credentials)'
          : `"${name}" is reserved by the gateway's own routes`
      continue
    }
    const earlier = claimed.get(name)
    if (earlier !== undefined) {
      entry.reason = `${earlier} already generates ${name}.json`
      continue
    }
    const parsed = parseMarkdownSpec(await readFile(path.join(options.specsDir, file), 'utf8'), { baseUrl: options.baseUrl })
    if (!parsed.ok) {
      entry.reason = parsed.reason
      continue
    }
    const configFile = `${name}.json`
    const target = path.join(options.outDir, configFile)
    const problem = registryProblem(definitions, name, target, parsed.spec.config)
    if (problem !== undefined) {
      entry.reason = `the gateway would refuse it: ${problem}`
      continue
    }
    claimed.set(name, file)
    entry.config = configFile
    entry.warnings = parsed.spec.warnings
    entry.fieldsWithoutDefault = parsed.spec.fieldsWithoutDefault

    const text = formatConfig(parsed.spec.config)
    const existing = await readIfExists(target)
    if (existing === text) {
      entry.result = 'unchanged'
    } else if (existing === undefined) {
      entry.result = 'created'
    } else if (manifest.files[configFile] === sha256(existing) || options.force) {
      entry.result = 'updated'
    } else {
      entry.result = 'kept'
      entry.reason = 'edited since it was generated (or written by hand): --force overwrites it'
      continue
    }
    if (!options.dryRun && entry.result !== 'unchanged') await writeFileAtomic(target, text, 0o644)
    manifest.files[configFile] = sha256(text)
  }
  if (!options.dryRun && entries.some((e) => e.result !== 'skipped' && e.result !== 'kept')) {
    await writeFileAtomic(path.join(options.outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, 0o644)
  }
  return entries
}
