import { input, password } from '@inquirer/prompts'
import { usageError } from '../cli-error.js'
import { readStdin } from '../stdin.js'

/** Prompts go to stderr, so stdout keeps only results. */
const PROMPT_CONTEXT = { output: process.stderr }

/**
 * A secret (a password, a secret's value) from stdin when it is piped, else from a hidden prompt on a
 * terminal. Never from an argument: `ps` and the shell history would keep it. `whole` keeps every line
 * (a PEM key), dropping only the final newline; otherwise the first line is the secret.
 */
export async function readSecret(label: string, whole: boolean, stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (stdin.isTTY === true) return password({ message: label, mask: false, validate: (v) => v !== '' || `Enter the ${label.toLowerCase()}` }, PROMPT_CONTEXT)
  const text = await readStdin(stdin)
  const value = whole ? text.replace(/\r?\n$/, '') : (text.split(/\r?\n/)[0] ?? '')
  if (value === '') throw usageError(`No ${label.toLowerCase()} on stdin: pipe it in, or run on a terminal to be prompted (it is never taken as an argument)`)
  return value
}

/** The login email: the flag, else FLOWRUNNER_EMAIL, else a prompt on a terminal. */
export async function readEmail(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  const given = (flag ?? env.FLOWRUNNER_EMAIL ?? '').trim()
  if (given !== '') return given
  if (stdin.isTTY !== true) throw usageError('No email: pass --email or set FLOWRUNNER_EMAIL (stdin carries the password)')
  return (await input({ message: 'FlowRunner email', validate: (v) => v.trim() !== '' || 'Enter the email' }, PROMPT_CONTEXT)).trim()
}
