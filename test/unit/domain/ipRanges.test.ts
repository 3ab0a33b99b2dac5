import { classifyIp, formatIPv4, isIpLiteral, parseIPv4, parseIPv6 } from '../../../src/domain/ipRanges';

const V4 = {
  unspecified: 'unspecified address (0.0.0.0/32)',
  thisNetwork: '"this network" address, RFC 791 (0.0.0.0/8)',
  private10: 'private address, RFC 1918 (10.0.0.0/8)',
  cgnat: 'shared address space (carrier-grade NAT), RFC 6598 (100.64.0.0/10)',
  loopback: 'loopback address (127.0.0.0/8)',
  metadata: 'cloud metadata endpoint (link-local) (169.254.169.254/32)',
  linkLocal: 'link-local address (169.254.0.0/16)',
  private172: 'private address, RFC 1918 (172.16.0.0/12)',
  ietf: 'IETF protocol assignment (reserved), RFC 6890 (192.0.0.0/24)',
  testNet1: 'documentation address (TEST-NET-1) (192.0.2.0/24)',
  relay6to4: 'reserved (former 6to4 relay anycast), RFC 7526 (192.88.99.0/24)',
  private192: 'private address, RFC 1918 (192.168.0.0/16)',
  benchmarking: 'benchmarking address, RFC 2544 (198.18.0.0/15)',
  testNet2: 'documentation address (TEST-NET-2) (198.51.100.0/24)',
  testNet3: 'documentation address (TEST-NET-3) (203.0.113.0/24)',
  multicast: 'multicast address (224.0.0.0/4)',
  broadcast: 'limited broadcast address (255.255.255.255/32)',
  reserved: 'reserved address (future use), RFC 1112 (240.0.0.0/4)',
};

const V6 = {
  unspecified: 'unspecified address (::/128)',
  loopback: 'loopback address (::1/128)',
  compatible: 'IPv4-compatible IPv6 address (deprecated), RFC 4291 (::/96)',
  localNat64: 'local-use NAT64 address, RFC 8215 (64:ff9b:1::/48)',
  discard: 'discard-only address, RFC 6666 (100::/64)',
  teredo: 'Teredo tunnel address, RFC 4380 (2001::/32)',
  documentation: 'documentation address (2001:db8::/32)',
  ietf: 'IETF protocol assignment (reserved), RFC 2928 (2001::/23)',
  documentation3fff: 'documentation address, RFC 9637 (3fff::/20)',
  uniqueLocal: 'unique local address, RFC 4193 (fc00::/7)',
  linkLocal: 'link-local address (fe80::/10)',
  siteLocal: 'site-local address (deprecated), RFC 3879 (fec0::/10)',
  multicast: 'multicast address (ff00::/8)',
  notGlobal: 'not a global unicast address (outside 2000::/3, reserved by IANA)',
};

const mapped = (v4: string, reason: string) => `IPv4-mapped IPv6 address (::ffff:0:0/96) embedding ${v4}: ${reason}`;
const nat64 = (v4: string, reason: string) => `NAT64 IPv6 address (64:ff9b::/96) embedding ${v4}: ${reason}`;
const sixToFour = (v4: string, reason: string) => `6to4 IPv6 address (2002::/16) embedding ${v4}: ${reason}`;

describe('classifyIp: IPv4, every blocked range with the addresses on both sides of each boundary', () => {
  it.each([
    // 0.0.0.0/8 — "this network"; 0.0.0.0 itself is the unspecified address
    ['0.0.0.0', V4.unspecified],
    ['0.0.0.1', V4.thisNetwork],
    ['0.255.255.255', V4.thisNetwork],
    ['1.0.0.0', null],
    // 10.0.0.0/8
    ['9.255.255.255', null],
    ['10.0.0.0', V4.private10],
    ['10.0.0.1', V4.private10],
    ['10.255.255.255', V4.private10],
    ['11.0.0.0', null],
    // 100.64.0.0/10 — CGNAT (100.100.100.200 is Alibaba Cloud's metadata service)
    ['100.63.255.255', null],
    ['100.64.0.0', V4.cgnat],
    ['100.100.100.200', V4.cgnat],
    ['100.127.255.255', V4.cgnat],
    ['100.128.0.0', null],
    // 127.0.0.0/8
    ['126.255.255.255', null],
    ['127.0.0.0', V4.loopback],
    ['127.0.0.1', V4.loopback],
    ['127.255.255.255', V4.loopback],
    ['128.0.0.0', null],
    // 169.254.0.0/16 with the metadata address singled out
    ['169.253.255.255', null],
    ['169.254.0.0', V4.linkLocal],
    ['169.254.169.253', V4.linkLocal],
    ['169.254.169.254', V4.metadata],
    ['169.254.169.255', V4.linkLocal],
    ['169.254.255.255', V4.linkLocal],
    ['169.255.0.0', null],
    // 172.16.0.0/12
    ['172.15.255.255', null],
    ['172.16.0.0', V4.private172],
    ['172.31.255.255', V4.private172],
    ['172.32.0.0', null],
    // 192.0.0.0/24 (192.0.0.192 is Oracle Cloud's metadata service)
    ['191.255.255.255', null],
    ['192.0.0.0', V4.ietf],
    ['192.0.0.192', V4.ietf],
    ['192.0.0.255', V4.ietf],
    ['192.0.1.0', null],
    // 192.0.2.0/24
    ['192.0.1.255', null],
    ['192.0.2.0', V4.testNet1],
    ['192.0.2.255', V4.testNet1],
    ['192.0.3.0', null],
    // 192.88.99.0/24
    ['192.88.98.255', null],
    ['192.88.99.0', V4.relay6to4],
    ['192.88.99.255', V4.relay6to4],
    ['192.88.100.0', null],
    // 192.168.0.0/16
    ['192.167.255.255', null],
    ['192.168.0.0', V4.private192],
    ['192.168.1.1', V4.private192],
    ['192.168.255.255', V4.private192],
    ['192.169.0.0', null],
    // 198.18.0.0/15
    ['198.17.255.255', null],
    ['198.18.0.0', V4.benchmarking],
    ['198.19.255.255', V4.benchmarking],
    ['198.20.0.0', null],
    // 198.51.100.0/24
    ['198.51.99.255', null],
    ['198.51.100.0', V4.testNet2],
    ['198.51.100.255', V4.testNet2],
    ['198.51.101.0', null],
    // 203.0.113.0/24
    ['203.0.112.255', null],
    ['203.0.113.0', V4.testNet3],
    ['203.0.113.255', V4.testNet3],
    ['203.0.114.0', null],
    // 224.0.0.0/4, 240.0.0.0/4, 255.255.255.255
    ['223.255.255.255', null],
    ['224.0.0.0', V4.multicast],
    ['224.0.0.251', V4.multicast],
    ['239.255.255.255', V4.multicast],
    ['240.0.0.0', V4.reserved],
    ['255.255.255.254', V4.reserved],
    ['255.255.255.255', V4.broadcast],
  ] as const)('%s → %s', (address, reason) => {
    expect(classifyIp(address)).toEqual(reason === null ? { blocked: false } : { blocked: true, reason });
  });

  it.each(['8.8.8.8', '1.1.1.1', '9.9.9.9', '93.184.215.14', '140.82.112.3', '185.199.108.153', '52.95.110.1'])(
    'allows the public address %s',
    (address) => {
      expect(classifyIp(address)).toEqual({ blocked: false });
    },
  );
});

describe('classifyIp: IPv6', () => {
  it.each([
    // unspecified and loopback, in several spellings
    ['::', V6.unspecified],
    ['0:0:0:0:0:0:0:0', V6.unspecified],
    ['::0', V6.unspecified],
    ['::1', V6.loopback],
    ['0:0:0:0:0:0:0:1', V6.loopback],
    ['0000:0000:0000:0000:0000:0000:0000:0001', V6.loopback],
    // IPv4-compatible ::/96 (deprecated): everything else in ::/96
    ['::2', V6.compatible],
    ['::8.8.8.8', V6.compatible],
    ['::ffff:ffff', V6.compatible],
    // IPv4-mapped ::ffff:0:0/96: judged by the embedded address
    ['::ffff:127.0.0.1', mapped('127.0.0.1', V4.loopback)],
    ['::ffff:7f00:1', mapped('127.0.0.1', V4.loopback)],
    ['::FFFF:7F00:0001', mapped('127.0.0.1', V4.loopback)],
    ['0:0:0:0:0:ffff:127.0.0.1', mapped('127.0.0.1', V4.loopback)],
    ['::ffff:10.0.0.1', mapped('10.0.0.1', V4.private10)],
    ['::ffff:a9fe:a9fe', mapped('169.254.169.254', V4.metadata)],
    ['::ffff:0.0.0.0', mapped('0.0.0.0', V4.unspecified)],
    ['::ffff:ffff:ffff', mapped('255.255.255.255', V4.broadcast)],
    ['::ffff:100.64.0.1', mapped('100.64.0.1', V4.cgnat)],
    ['::ffff:8.8.8.8', null],
    ['::ffff:808:808', null],
    // just outside ::ffff:0:0/96 on either side
    ['::fffe:ffff:ffff', V6.notGlobal],
    ['::1:0:0:0', V6.notGlobal],
    // NAT64 64:ff9b::/96: judged by the embedded address
    ['64:ff9b::127.0.0.1', nat64('127.0.0.1', V4.loopback)],
    ['64:ff9b::a00:1', nat64('10.0.0.1', V4.private10)],
    ['64:ff9b::a9fe:a9fe', nat64('169.254.169.254', V4.metadata)],
    ['64:ff9b::', nat64('0.0.0.0', V4.unspecified)],
    ['64:ff9b::ffff:ffff', nat64('255.255.255.255', V4.broadcast)],
    ['64:ff9b::8.8.8.8', null],
    ['64:ff9b::101:101', null],
    ['64:ff9b::1:0:0', V6.notGlobal],
    ['64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff', V6.notGlobal],
    // local-use NAT64 64:ff9b:1::/48
    ['64:ff9b:1::', V6.localNat64],
    ['64:ff9b:1:ffff:ffff:ffff:ffff:ffff', V6.localNat64],
    ['64:ff9b:2::', V6.notGlobal],
    // discard-only 100::/64
    ['100::', V6.discard],
    ['100::ffff:ffff:ffff:ffff', V6.discard],
    ['100:0:0:1::', V6.notGlobal],
    // global unicast 2000::/3 boundaries
    ['1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', V6.notGlobal],
    ['2000::', null],
    ['3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', null],
    ['4000::', V6.notGlobal],
    // 2001::/23 with Teredo 2001::/32 singled out
    ['2001::', V6.teredo],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', V6.teredo],
    ['2001:0:ffff:ffff:ffff:ffff:ffff:ffff', V6.teredo],
    ['2001:1::1', V6.ietf],
    ['2001:2::', V6.ietf],
    ['2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff', V6.ietf],
    ['2001:200::', null],
    ['2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff', null],
    // documentation 2001:db8::/32 and 3fff::/20
    ['2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', null],
    ['2001:db8::', V6.documentation],
    ['2001:db8::1', V6.documentation],
    ['2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', V6.documentation],
    ['2001:db9::', null],
    ['3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff', null],
    ['3fff::', V6.documentation3fff],
    ['3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff', V6.documentation3fff],
    ['3fff:1000::', null],
    // 6to4 2002::/16: judged by the embedded address (bits 16–47)
    ['2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff', null],
    ['2002:7f00:1::', sixToFour('127.0.0.1', V4.loopback)],
    ['2002:7f00:0001:ffff:ffff:ffff:ffff:ffff', sixToFour('127.0.0.1', V4.loopback)],
    ['2002:a00:1::1', sixToFour('10.0.0.1', V4.private10)],
    ['2002:c0a8:101::1', sixToFour('192.168.1.1', V4.private192)],
    ['2002:a9fe:a9fe::', sixToFour('169.254.169.254', V4.metadata)],
    ['2002::', sixToFour('0.0.0.0', V4.unspecified)],
    ['2002:ffff:ffff::', sixToFour('255.255.255.255', V4.broadcast)],
    ['2002:808:808::1', null],
    ['2003::', null],
    // unique local fc00::/7 (fd00:ec2::254 is the AWS IPv6 metadata endpoint)
    ['fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', V6.notGlobal],
    ['fc00::', V6.uniqueLocal],
    ['fd00::1', V6.uniqueLocal],
    ['fd00:ec2::254', V6.uniqueLocal],
    ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', V6.uniqueLocal],
    ['fe00::', V6.notGlobal],
    // link-local fe80::/10, site-local fec0::/10
    ['fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff', V6.notGlobal],
    ['fe80::', V6.linkLocal],
    ['fe80::1', V6.linkLocal],
    ['FE80::1', V6.linkLocal],
    ['febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', V6.linkLocal],
    ['fec0::', V6.siteLocal],
    ['feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', V6.siteLocal],
    // multicast ff00::/8
    ['ff00::', V6.multicast],
    ['ff02::1', V6.multicast],
    ['ff05::1:3', V6.multicast],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', V6.multicast],
  ] as const)('%s → %s', (address, reason) => {
    expect(classifyIp(address)).toEqual(reason === null ? { blocked: false } : { blocked: true, reason });
  });

  it.each(['2606:4700::1111', '2606:4700:4700::1111', '2001:4860:4860::8888', '2a00:1450:4001:80b::200e', '2620:fe::fe', '2a01:4f8:c2c:123f::1'])(
    'allows the public address %s',
    (address) => {
      expect(classifyIp(address)).toEqual({ blocked: false });
    },
  );
});

describe('classifyIp: anything that is not a strict IP address is blocked (fail closed)', () => {
  it.each([
    ['localhost', 'not an IPv4 (dotted decimal) or IPv6 address'],
    ['example.com', 'not an IPv4 (dotted decimal) or IPv6 address'],
    ['', 'not an IPv4 (dotted decimal) or IPv6 address'],
    ['127.1', 'not an IPv4 (dotted decimal) or IPv6 address'],
    ['2130706433', 'not an IPv4 (dotted decimal) or IPv6 address'],
    ['0x7f.0.0.1', 'not an IPv4 (dotted decimal) or IPv6 address'],
    ['0177.0.0.1', 'not an IPv4 (dotted decimal) or IPv6 address'],
    ['08.8.8.8', 'not an IPv4 (dotted decimal) or IPv6 address'],
    [' 8.8.8.8', 'not an IPv4 (dotted decimal) or IPv6 address'],
    ['[2606:4700::1111]', 'not an IPv4 (dotted decimal) or IPv6 address'],
    ['2606:4700::1111%eth0', 'scoped IPv6 address (zone id)'],
    ['fe80::1%eth0', 'scoped IPv6 address (zone id)'],
  ])('%j → %s', (address, reason) => {
    expect(classifyIp(address)).toEqual({ blocked: true, reason });
  });
});

describe('parseIPv4', () => {
  it.each([
    ['0.0.0.0', 0],
    ['127.0.0.1', 0x7f000001],
    ['8.8.8.8', 0x08080808],
    ['255.255.255.255', 0xffffffff],
  ])('%s → %d', (text, value) => {
    expect(parseIPv4(text)).toBe(value);
  });

  it.each([
    '127.1', '127.0.1', '2130706433', '0x7f.0.0.1', '0x7f000001', '0177.0.0.1', '01.2.3.4', '00.0.0.0', '256.0.0.0', '1.2.3.256',
    '1.2.3.4.', '.1.2.3.4', '1..2.3', '1.2.3', '1.2.3.4.5', '', '1.2.3.-1', '+1.2.3.4', '1.2.3.4 ', '1e2.0.0.1', '１.2.3.4', '::1',
  ])('rejects %j', (text) => {
    expect(parseIPv4(text)).toBeNull();
  });

  it('formatIPv4 is its inverse', () => {
    for (const text of ['0.0.0.0', '127.0.0.1', '169.254.169.254', '255.255.255.255', '8.8.4.4']) {
      expect(formatIPv4(parseIPv4(text)!)).toBe(text);
    }
  });
});

describe('parseIPv6', () => {
  it('reads each 16-bit group in order', () => {
    expect(parseIPv6('1:2:3:4:5:6:7:8')).toBe(0x0001_0002_0003_0004_0005_0006_0007_0008n);
    expect(parseIPv6('::1')).toBe(1n);
    expect(parseIPv6('1::')).toBe(1n << 112n);
    expect(parseIPv6('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe((1n << 128n) - 1n);
    expect(parseIPv6('::')).toBe(0n);
  });

  it.each([
    ['2606:4700::1111', '2606:4700:0:0:0:0:0:1111'],
    ['2606:4700::1111', '2606:4700:0000:0000:0000:0000:0000:1111'],
    ['2606:4700::1111', '2606:4700::0:1111'],
    ['2606:4700::1111', '2606:4700:0::0:1111'],
    ['2606:4700::1111', '2606:4700:0:0:0:0::1111'],
    ['2606:4700::1111', '2606:4700::0:0:0:0:1111'],
    ['2606:4700::1111', '2606:4700::0.0.17.17'],
    ['2606:4700::1111', '2606:4700:0:0:0:0:0.0.17.17'],
    ['2606:4700::1111', '2606:4700::0:0:0:0.0.17.17'],
    ['2606:4700::1111', '2606:4700:0:0:0:0:0:1111'.toUpperCase()],
    ['::ffff:7f00:1', '::ffff:127.0.0.1'],
    ['1:2:3:4:5:6:7:0', '1:2:3:4:5:6:7::'],
    ['0:2:3:4:5:6:7:8', '::2:3:4:5:6:7:8'],
    ['1:2:3:4:5:6:102:304', '1:2:3:4:5:6:1.2.3.4'],
    ['1:0:0:0:0:0:102:304', '1::1.2.3.4'],
  ])('%s and %s are the same address', (a, b) => {
    expect(parseIPv6(a)).not.toBeNull();
    expect(parseIPv6(a)).toBe(parseIPv6(b));
  });

  it.each([
    '', ':', ':::', '1::2::3', '::1::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7:8', '12345::',
    'g::', '::g', ':1::', '1::2:', ':1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:', '1.2.3.4', '1.2.3.4::', '::1.2.3', '::1.2.3.4:5',
    '::1.2.3.256', '::01.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '[::1]', 'fe80::1%eth0', ' ::1', '::1 ', '-1::', '0x1::',
  ])('rejects %j', (text) => {
    expect(parseIPv6(text)).toBeNull();
  });
});

describe('isIpLiteral', () => {
  it.each([
    ['127.0.0.1', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['example.com', false],
    ['127.1', false],
    ['[::1]', false],
  ])('%s → %s', (text, expected) => {
    expect(isIpLiteral(text)).toBe(expected);
  });
});
