import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository's package.json: the nearest one above this file, compiled (dist/bench/lib) or not. */
function packageJsonPath(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'package.json')
    if (existsSync(candidate)) return candidate
    if (path.dirname(dir) === dir) throw new Error('no package.json above the bench')
  }
}

/**
 * The node flags `npm start` runs the server with (package.json's `start` script, which the Dockerfile's CMD
 * repeats), so the benches measure the server as it is deployed. The minimal proxy gets them too: the
 * comparison is between the two programs, not between runtime settings.
 */
export function serverNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(packageJsonPath(), 'utf8')) as { scripts?: Record<string, string> }
  return startScriptNodeFlags(pkg.scripts?.start ?? '')
}

/** `node --a --b=1 dist/app/server.js` → `['--a', '--b=1']`. */
export function startScriptNodeFlags(script: string): string[] {
  const [command, ...args] = script.trim().split(/\s+/)
  if (command !== 'node') throw new Error(`package.json "start" should run node directly, not: ${script}`)
  return args.filter((arg) => arg.startsWith('--'))
}
