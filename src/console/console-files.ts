import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

/** One built file of the console, held in memory with its gzip form. */
export interface ConsoleFile {
  body: Buffer
  gzip: Buffer | undefined
  type: string
  etag: string
}

export interface ConsoleFiles {
  /** index.html split around its nonce placeholder, to put a fresh nonce in per request. */
  index: { before: string; after: string }
  /** Hashed assets by name (`assets/index-abc.js`): immutable. */
  assets: Map<string, ConsoleFile>
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8'
}

export const NONCE_PLACEHOLDER = '%CSP_NONCE%'

/**
 * Where `npm run build` puts the console (`dist/console`), found from this module's own place: `src/console/`
 * when the sources run (tests, tsx), `dist/src/console/` when the build does.
 */
export function defaultConsoleDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url))
  const root = path.resolve(here, '../..')
  return path.basename(root) === 'dist' ? path.join(root, 'console') : path.join(root, 'dist', 'console')
}

/** Compressing pays off for text; small files are sent as they are. */
function gzipOf(body: Buffer, type: string): Buffer | undefined {
  if (body.length < 1024 || !(type.startsWith('text/') || type.includes('json') || type.includes('svg'))) return undefined
  return gzipSync(body, { level: 9 })
}

/** Reads the built console into memory, or undefined when it has not been built. */
export async function loadConsoleFiles(dir: string): Promise<ConsoleFiles | undefined> {
  let html: string
  try {
    html = await readFile(path.join(dir, 'index.html'), 'utf8')
  } catch {
    return undefined
  }
  const at = html.indexOf(NONCE_PLACEHOLDER)
  if (at === -1) throw new Error(`${path.join(dir, 'index.html')} has no ${NONCE_PLACEHOLDER} placeholder: rebuild the console`)
  const assets = new Map<string, ConsoleFile>()
  const assetDir = path.join(dir, 'assets')
  const names = existsSync(assetDir) ? await readdir(assetDir) : []
  for (const name of names) {
    const body = await readFile(path.join(assetDir, name))
    const type = TYPES[path.extname(name)] ?? 'application/octet-stream'
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
    assets.set(`assets/${name}`, { body, gzip: gzipOf(body, type), type, etag })
  }
  return { index: { before: html.slice(0, at), after: html.slice(at + NONCE_PLACEHOLDER.length) }, assets }
}
