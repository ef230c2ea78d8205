import { BlockList, isIP } from 'node:net'

/**
 * Where flow HTTP nodes may connect. Addresses in loopback, private, link-local (cloud metadata), unique-local,
 * CGNAT, multicast and unspecified ranges are refused unless FLOWRUNNER_ALLOW_HOSTS opens them: entries are a
 * host name, `host:port`, an address, or a CIDR. The check runs on the address actually connected to.
 */
const BLOCKED = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4]
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv4')
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96]
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv6')
}

interface HostRule {
  host: string
  port: number | undefined
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

/** `::ffff:10.0.0.1` is 10.0.0.1 in disguise. */
function normalise(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped?.[1] !== undefined) return { address: mapped[1], family: 'ipv4' }
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' }
}

export class NetworkPolicy {
  private readonly hosts: HostRule[] = []
  private readonly subnets = new BlockList()

  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const entry = raw.trim().toLowerCase()
      if (entry === '') continue
      const cidr = /^(.+)\/(\d{1,3})$/.exec(entry)
      if (cidr?.[1] !== undefined && cidr[2] !== undefined && isIP(cidr[1]) !== 0) {
        this.subnets.addSubnet(cidr[1], Number(cidr[2]), isIP(cidr[1]) === 6 ? 'ipv6' : 'ipv4')
        continue
      }
      const hostPort = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(entry)
      if (hostPort?.[1] !== undefined && hostPort[2] !== undefined) {
        this.hosts.push({ host: stripBrackets(hostPort[1]), port: Number(hostPort[2]) })
      } else {
        this.hosts.push({ host: stripBrackets(entry), port: undefined })
      }
    }
  }

  static isPublic(address: string): boolean {
    const { address: a, family } = normalise(address)
    return !BLOCKED.check(a, family)
  }

  /** Whether a connection to `hostname` resolved to `address` on `port` may proceed. */
  allows(hostname: string, address: string, port: number): boolean {
    if (NetworkPolicy.isPublic(address)) return true
    const host = stripBrackets(hostname.toLowerCase())
    const { address: a, family } = normalise(address)
    if (this.subnets.check(a, family)) return true
    return this.hosts.some((rule) => (rule.host === host || rule.host === a) && (rule.port === undefined || rule.port === port))
  }
}
