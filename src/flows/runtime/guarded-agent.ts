import { lookup } from 'node:dns'
import { isIP } from 'node:net'
import { Agent, buildConnector } from 'undici'
import type { NetworkPolicy } from './network-policy.js'

export class BlockedAddressError extends Error {
  override name = 'BlockedAddressError'
  readonly code = 'ERR_BLOCKED_ADDRESS'
}

/**
 * An undici Agent whose every new connection resolves the host itself, refuses when any resolved address is
 * not allowed, and then connects to the checked address. Checking at connect time (not before the request)
 * means DNS rebinding cannot swap in a private address between the check and the connection.
 */
export function guardedAgent(policy: NetworkPolicy, options: { connectTimeoutMs: number }): Agent {
  const base = buildConnector({ timeout: options.connectTimeoutMs })
  const connect: buildConnector.connector = (opts, callback) => {
    const hostname = opts.hostname.startsWith('[') ? opts.hostname.slice(1, -1) : opts.hostname
    const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80)
    lookup(hostname, { all: true, verbatim: true }, (err, addresses) => {
      if (err !== null) return callback(err, null)
      const refused = addresses.find((a) => !policy.allows(hostname, a.address, port))
      const chosen = addresses[0]
      if (refused !== undefined || chosen === undefined) {
        return callback(new BlockedAddressError(`Refused to connect to ${hostname}:${port}: it resolves to a non-public address`), null)
      }
      base(
        {
          ...opts,
          hostname: chosen.address,
          servername: opts.servername ?? (isIP(hostname) === 0 ? hostname : undefined)
        },
        callback
      )
    })
  }
  return new Agent({ connect, connections: 64, keepAliveTimeout: 10_000 })
}
