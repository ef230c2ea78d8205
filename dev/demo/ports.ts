/**
 * A port the demo (or the standalone simulator or receiver) wants is taken: say which, and which variable moves
 * it, instead of a bare EADDRINUSE stack trace.
 */

export interface PortChoice {
  /** What listens there, for the message: "the Evercycle simulator". */
  what: string
  port: number
  /** The environment variable that sets it: SIM_PORT, RECEIVER_PORT, PORT. */
  variable: string
  /** A command-line option that sets it too, when there is one. */
  option?: string
}

/** The message for a listen error this explains (port in use, or not allowed), else undefined. */
export function portProblem(err: unknown, choice: PortChoice): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code
  const how = choice.option === undefined ? choice.variable : `${choice.variable} (or ${choice.option})`
  if (code === 'EADDRINUSE') {
    return `Port ${choice.port} is already in use, so ${choice.what} cannot listen on it: stop what holds it, or set ${how} to another port (e.g. ${choice.variable}=${choice.port + 100}).`
  }
  if (code === 'EACCES') return `${choice.what} may not listen on port ${choice.port}: set ${how} to a port above 1023.`
  return undefined
}

/** Reads a port variable; a value that is not a port stops the process with the variable named. */
export function portFrom(value: string | undefined, fallback: number, variable: string): number {
  if (value === undefined || value.trim() === '') return fallback
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) exitWith(`${variable} must be a port number (0-65535), not ${JSON.stringify(value)}.`)
  return port
}

/**
 * Runs `listen`; a port problem it explains ends the process with exit code 1 and one line on stderr (after
 * `cleanup`, e.g. closing what already listens). Anything else is rethrown.
 */
export async function listenOrExit<T>(choice: PortChoice, listen: () => Promise<T>, cleanup: () => Promise<unknown> = async () => undefined): Promise<T> {
  try {
    return await listen()
  } catch (err) {
    const message = portProblem(err, choice)
    if (message === undefined) throw err
    await cleanup().catch(() => undefined)
    return exitWith(message)
  }
}

export function exitWith(message: string): never {
  process.stderr.write(`${message}\n`)
  process.exit(1)
}
