import { readFileSync } from 'node:fs'
import path from 'node:path'

/** This package's version, found by walking up from the module (src/cli in tsx, dist/src/cli when built). */
export function packageVersion(from: string = import.meta.dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown }
      if (pkg.name === 'evercycle-gateway' && typeof pkg.version === 'string') return pkg.version
    } catch {
      // not here: go up
    }
    if (path.dirname(dir) === dir) return '0.0.0'
  }
}
