import { BlockList, isIP } from 'node:net'
import ipaddr from 'ipaddr.js'

/**
 * Where flow HTTP nodes may connect: public unicast addresses only, unless FLOWRUNNER_ALLOW_HOSTS opens more.
 * Entries are a host name, `host:port`, an address, or a CIDR. The check runs on the address actually
 * connected to.
 *
 * What is public comes from ipaddr.js's `range()`, a maintained list of the special-purpose registries
 * (loopback, private, link-local and so cloud metadata, unique-local, CGNAT, multicast, reserved,
 * documentation, benchmarking, 6to4, Teredo, NAT64...): only `unicast` passes. For the IPv6 forms that
 * embed an IPv4 address the rule is:
 * - IPv4-mapped `::ffff:a.b.c.d` is judged as the IPv4 address it is (a dual-stack socket connects there);
 * - IPv4-compatible `::a.b.c.d` (`::/96`, deprecated by RFC 4291) is refused: ipaddr.js 2.5 calls it
 *   `unicast` (and parses the literal `::1.2.3.4` as mapped), so it has its own rule below;
 * - 6to4 (`2002::/16`), NAT64 (`64:ff9b::/96`, `64:ff9b:1::/48`), Teredo and IPv4-translated
 *   (`::ffff:0:0:0/96`) are refused whatever they embed: they reach the embedded address through a relay or
 *   translator on someone's network, and no flow needs them. An operator who does opens them by CIDR.
 */
const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR('::/96')

/**
 * The address as ipaddr.js should read it: the WHATWG URL parser writes an IPv6 literal canonically first
 * (`::1.2.3.4` becomes `::102:304`), which ipaddr.js then classifies right; a zone id (`%eth0`) is dropped.
 */
function parse(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const family = isIP(address)
  if (family === 4) return ipaddr.IPv4.parse(address)
  if (family !== 6) return undefined
  try {
    return ipaddr.IPv6.parse(new URL(`http://[${address.split('%')[0] ?? ''}]/`).hostname.slice(1, -1))
  } catch {
    return undefined
  }
}

/** An IPv4-mapped address as the IPv4 address it stands for; any other as it is. */
function unmapped(ip: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip
}

function isPublicIp(ip: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  if (ip.kind() === 'ipv6' && ip.match(IPV4_COMPATIBLE)) return false
  return ip.range() === 'unicast'
}

interface HostRule {
  host: string
  port: number | undefined
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

/** The address and family the allow list matches against: `::ffff:10.0.0.1` (or `::ffff:a00:1`) is 10.0.0.1. */
function normalise(address: string): { address: string; family: 'ipv4' | 'ipv6' } | undefined {
  const ip = parse(address)
  if (ip === undefined) return undefined
  const plain = unmapped(ip)
  return { address: plain.toString(), family: plain.kind() }
}

/** An address entry written as `allows` compares it (`fd00:0::1` is `fd00::1`); a host name as it is. */
function canonicalHost(host: string): string {
  return normalise(host)?.address ?? host
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
        this.hosts.push({ host: canonicalHost(stripBrackets(hostPort[1])), port: Number(hostPort[2]) })
      } else {
        this.hosts.push({ host: canonicalHost(stripBrackets(entry)), port: undefined })
      }
    }
  }

  static isPublic(address: string): boolean {
    const ip = parse(address)
    return ip !== undefined && isPublicIp(unmapped(ip))
  }

  /** Whether a connection to `hostname` resolved to `address` on `port` may proceed. */
  allows(hostname: string, address: string, port: number): boolean {
    if (NetworkPolicy.isPublic(address)) return true
    const normal = normalise(address)
    if (normal === undefined) return false
    const host = stripBrackets(hostname.toLowerCase())
    if (this.subnets.check(normal.address, normal.family)) return true
    return this.hosts.some((rule) => (rule.host === host || rule.host === normal.address) && (rule.port === undefined || rule.port === port))
  }
}
