import { input, password } from '@inquirer/prompts'
import type { Config } from '../config.js'
import type { Credentials } from '../evercycle/token-manager.js'
import { usageError } from './cli-error.js'
import { readStdin } from './stdin.js'

export interface CredentialFlags {
  username?: string
  passwordStdin?: boolean
}

/**
 * Username from the flag, else EVERCYCLE_USERNAME, else a prompt. Password from stdin when asked, else
 * EVERCYCLE_PASSWORD (when the username is the configured one), else a hidden prompt on a terminal. A password
 * is never taken from the command line, where `ps` and the shell history would keep it.
 */
export async function credentialsFrom(flags: CredentialFlags, config: Config, stdin: NodeJS.ReadStream = process.stdin): Promise<Credentials> {
  const interactive = stdin.isTTY === true
  let username = flags.username ?? config.evercycle.username
  if (username === undefined) {
    if (!interactive || flags.passwordStdin === true) throw usageError('No username: pass --username or set EVERCYCLE_USERNAME')
    username = await input({ message: 'Evercycle username', validate: (v) => v.trim() !== '' || 'Enter a username' })
  }
  username = username.trim()
  let secret: string | undefined
  if (flags.passwordStdin === true) {
    secret = firstLine(await readStdin(stdin))
    if (secret === '') throw usageError('--password-stdin: stdin held no password')
  } else if (config.evercycle.password !== undefined && username === config.evercycle.username) {
    secret = config.evercycle.password
  } else if (interactive) {
    secret = await password({ message: `Password for ${username}`, validate: (v) => v !== '' || 'Enter the password' })
  } else {
    throw usageError('No password: pipe it with --password-stdin (stdin is not a terminal to prompt on)')
  }
  return { username, password: secret }
}

function firstLine(text: string): string {
  return text.split(/\r?\n/)[0] ?? ''
}
