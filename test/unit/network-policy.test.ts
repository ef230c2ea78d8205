import t from 'tap'
import { NetworkPolicy } from '../../src/flows/runtime/network-policy.js'

t.test('public unicast addresses pass; every special range is refused', async (t) => {
  for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8', '::ffff:808:808']) {
    t.ok(NetworkPolicy.isPublic(address), `${address} is public`)
  }
  for (const address of [
    // IPv4
    '0.0.0.0', '10.0.0.1', '100.64.0.1', '127.0.0.1', '169.254.169.254', '172.16.0.1', '192.0.0.8', '192.0.2.1', '192.168.1.1',
    '198.18.0.1', '224.0.0.1', '240.0.0.1', '255.255.255.255',
    // IPv6
    '::', '::1', 'fc00::1', 'fd00::1', 'fe80::1', 'fe80::1%eth0', 'fec0::1', 'ff02::1', '2001:db8::1', '100::1',
    // IPv4-mapped, judged by the IPv4 address
    '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:a9fe:a9fe',
    // IPv4-compatible ::/96, however written
    '::1.2.3.4', '::102:304', '::127.0.0.1', '::7f00:1', '::8.8.8.8', '::808:808',
    // 6to4, NAT64 (well-known and local-use), Teredo, IPv4-translated: refused whatever they embed
    '2002::1', '2002:808:808::1', '2002:a00:1::', '64:ff9b::8.8.8.8', '64:ff9b::a00:1', '64:ff9b:1::a00:1', '64:ff9b:1:2::',
    '2001::1', '2001:0:4136:e378:8000:63bf:3fff:fdd2', '::ffff:0:808:808',
    // not an address at all
    'example.com', ''
  ]) {
    t.notOk(NetworkPolicy.isPublic(address), `${address} is refused`)
  }
})

t.test('the allow list opens hosts, addresses and CIDRs, matching mapped and non-canonical forms', async (t) => {
  const policy = new NetworkPolicy(['internal.example:8080', '10.1.0.0/16', 'FD00:0::1', '64:ff9b::/96', '[::1]:9000'])
  t.ok(policy.allows('internal.example', '10.9.9.9', 8080))
  t.notOk(policy.allows('internal.example', '10.9.9.9', 8081))
  t.ok(policy.allows('x', '10.1.2.3', 1))
  t.ok(policy.allows('x', '::ffff:10.1.2.3', 1), 'mapped, dotted')
  t.ok(policy.allows('x', '::ffff:a01:203', 1), 'mapped, in hex as Node writes it')
  t.notOk(policy.allows('x', '10.2.0.1', 1))
  t.ok(policy.allows('x', 'fd00::1', 443), 'an address entry, written non-canonically')
  t.ok(policy.allows('x', '64:ff9b::a00:1', 80), 'NAT64 opened by its CIDR')
  t.notOk(policy.allows('x', '64:ff9b:1::a00:1', 80))
  t.ok(policy.allows('::1', '::1', 9000))
  t.notOk(policy.allows('::1', '::1', 9001))
  t.notOk(policy.allows('x', '::a01:203', 1), 'IPv4-compatible is not the IPv4 address')
  t.ok(policy.allows('public.example', '8.8.8.8', 443))
})
