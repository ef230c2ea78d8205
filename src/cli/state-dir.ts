import { chmod, mkdir } from 'node:fs/promises'
import { homedir } from 'node:os'
import path from 'node:path'

/**
 * Where the CLI keeps per-user state (the call history, gateway sessions, FlowRunner logins): never the
 * working directory, so nothing the CLI writes ends up in a repository. `EVERCYCLE_STATE_DIR` wins, then
 * `$XDG_STATE_HOME/evercycle`, then `~/.local/state/evercycle` (the XDG default).
 */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.EVERCYCLE_STATE_DIR?.trim()
  if (explicit !== undefined && explicit !== '') return path.resolve(explicit)
  const xdg = env.XDG_STATE_HOME?.trim()
  const base = xdg !== undefined && xdg !== '' && path.isAbsolute(xdg) ? xdg : path.join(homedir(), '.local', 'state')
  return path.join(base, 'evercycle')
}

/** Creates the state directory readable by its owner only (0700), tightening one that already exists. */
export async function ensureStateDir(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dir = stateDir(env)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await chmod(dir, 0o700)
  return dir
}
