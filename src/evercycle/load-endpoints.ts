import { readdir } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import path from 'node:path'
import { ConfigError } from '../config.js'
import type { EndpointDefinition } from './operation.js'

/** The compiled `endpoints/` beside `src/` in dist, or the sources when run through tsx. */
export const ENDPOINTS_DIR = path.resolve(import.meta.dirname, '..', '..', 'endpoints')

function looksLikeDefinition(value: unknown): value is EndpointDefinition {
  const v = value as Partial<EndpointDefinition> | null
  return typeof v?.name === 'string' && typeof v.method === 'string' && typeof v.path === 'string'
}

/**
 * Imports every module in `endpoints/` whose default export is an endpoint definition, so adding an operation
 * is adding a file. Modules without a default export (shared schemas) are skipped.
 */
export async function loadEndpoints(dir: string = ENDPOINTS_DIR): Promise<EndpointDefinition[]> {
  const files = (await readdir(dir))
    .filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith('.d.ts'))
    .sort()
  const definitions: EndpointDefinition[] = []
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as { default?: unknown }
    if (mod.default === undefined) continue
    if (!looksLikeDefinition(mod.default)) {
      throw new ConfigError(`endpoints/${file}: default export is not an endpoint definition`)
    }
    definitions.push(mod.default)
  }
  return definitions
}
