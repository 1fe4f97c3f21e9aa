import { deepEqual, equal, ok, throws } from "node:assert/strict";
import fc from "fast-check";
import {
  AccessList,
  cidrContains,
  formatCidr,
  formatIp,
  type IpAddress,
  parseCidr,
  parseIp,
} from "../../src/net/cidr.ts";

Deno.test("parseCidr() reads IPv4 and IPv6 networks and bare addresses", () => {
  equal(formatCidr(parseCidr("10.0.0.0/8")), "10.0.0.0/8");
  equal(formatCidr(parseCidr("127.0.0.1")), "127.0.0.1/32");
  equal(formatCidr(parseCidr("0.0.0.0/0")), "0.0.0.0/0");
  equal(formatCidr(parseCidr("2001:DB8::/32")), "2001:db8::/32");
  equal(formatCidr(parseCidr("::1")), "::1/128");
  equal(formatCidr(parseCidr("::/0")), "::/0");
  equal(formatCidr(parseCidr(" fe80::1:2/64 ")), "fe80::/64");
});

Deno.test("parseCidr() clears host bits after the prefix", () => {
  equal(formatCidr(parseCidr("10.1.2.3/8")), "10.0.0.0/8");
  equal(formatCidr(parseCidr("192.168.255.255/17")), "192.168.128.0/17");
  equal(formatCidr(parseCidr("2001:db8:ffff::1/33")), "2001:db8:8000::/33");
});

Deno.test("parseCidr() turns IPv4-mapped IPv6 networks into IPv4", () => {
  equal(formatCidr(parseCidr("::ffff:10.0.0.0/104")), "10.0.0.0/8");
  equal(formatCidr(parseCidr("::ffff:7f00:1")), "127.0.0.1/32");
  equal(formatCidr(parseCidr("0:0:0:0:0:ffff:1.2.3.4/128")), "1.2.3.4/32");
  // Wider than the mapped range: stays IPv6.
  equal(parseCidr("::ffff:0:0/80").family, 6);
});

Deno.test("parseCidr() rejects malformed networks, naming them", () => {
  const bad = [
    "",
    " ",
    "1.2.3",
    "1.2.3.4.5",
    "256.0.0.1",
    "01.2.3.4",
    "1.2.3.-4",
    "1.2.3.4/",
    "/8",
    "1.2.3.4/08",
    "1.2.3.4/x",
    "1.2.3.4/8/8",
    "1::2::3",
    "12345::",
    "g::",
    ":1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7:8::",
    "1.2.3.4::",
    "::1.2.3",
    "::1.2.3.4:5",
    "localhost",
    "example.com/24",
    "fe80::1%eth0",
  ];
  for (const text of bad) {
    throws(() => parseCidr(text), SyntaxError, JSON.stringify(text));
  }
  throws(() => parseCidr("1.2.3.4/33"), /Cannot use prefix \/33 in network "1\.2\.3\.4\/33"/);
  throws(() => parseCidr("::/129"), RangeError);
  throws(() => parseCidr("nope"), /Cannot parse network "nope"/);
});

Deno.test("parseIp() reads addresses as listeners report them", () => {
  deepEqual(parseIp("127.0.0.1"), { family: 4, bytes: new Uint8Array([127, 0, 0, 1]) });
  deepEqual(parseIp("::ffff:127.0.0.1"), { family: 4, bytes: new Uint8Array([127, 0, 0, 1]) });
  equal(formatIp(parseIp("::1")), "::1");
  throws(() => parseIp("127.0.0.1/8"), /Cannot parse IP address "127\.0\.0\.1\/8"/);
});

Deno.test("formatIp() compresses the longest run of zero groups, the first on a tie", () => {
  equal(formatIp(parseIp("1:0:0:2:0:0:0:3")), "1:0:0:2::3");
  equal(formatIp(parseIp("1:0:0:2:0:0:3:4")), "1::2:0:0:3:4");
  equal(formatIp(parseIp("1:0:2:3:4:5:6:7")), "1:0:2:3:4:5:6:7");
  equal(formatIp(parseIp("0:0:0:0:0:0:0:0")), "::");
  equal(formatIp(parseIp("1:0:0:0:0:0:0:0")), "1::");
});

const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((bytes): IpAddress => ({
  family: 4,
  bytes,
}));
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 })
  .filter((b) => !(b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff))
  .map((bytes): IpAddress => ({ family: 6, bytes }));
const anyIp = fc.oneof(ipv4, ipv6);

function bits(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(2).padStart(8, "0")).join("");
}

function longForm(ip: IpAddress, upper: boolean): string {
  if (ip.family === 4) return formatIp(ip);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    const hex = ((ip.bytes[i] << 8) | ip.bytes[i + 1]).toString(16).padStart(4, "0");
    groups.push(upper ? hex.toUpperCase() : hex);
  }
  return groups.join(":");
}

Deno.test("formatIp() and parseIp() round-trip any address (property)", () => {
  fc.assert(
    fc.property(anyIp, fc.boolean(), (ip, upper) => {
      deepEqual(parseIp(formatIp(ip)), ip);
      deepEqual(parseIp(longForm(ip, upper)), ip);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("an IPv4-mapped address is the IPv4 address it carries (property)", () => {
  fc.assert(
    fc.property(ipv4, (ip) => {
      const v4 = formatIp(ip);
      const [a, b, c, d] = ip.bytes;
      const hex = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
      deepEqual(parseIp(`::ffff:${v4}`), ip);
      deepEqual(parseIp(`::ffff:${hex}`), ip);
      ok(new AccessList({ allow: [`${v4}/32`] }).admits(`::ffff:${v4}`));
      ok(!new AccessList({ deny: [v4] }).admits(`::FFFF:${v4}`));
    }),
    { numRuns: 500 },
  );
});

Deno.test("cidrContains() matches exactly the addresses sharing the prefix bits (property)", () => {
  fc.assert(
    fc.property(anyIp, anyIp, fc.nat(128), (base, other, n) => {
      const prefix = n % (base.bytes.length * 8 + 1);
      const network = parseCidr(`${formatIp(base)}/${prefix}`);
      ok(cidrContains(network, base));
      const expected = base.family === other.family &&
        bits(base.bytes).slice(0, prefix) === bits(other.bytes).slice(0, prefix);
      equal(cidrContains(network, other), expected);
      deepEqual(parseCidr(formatCidr(network)), network);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("cidrContains() finds neighbours across a prefix boundary (property)", () => {
  // Random addresses rarely share long prefixes: flip exactly one bit instead.
  fc.assert(
    fc.property(anyIp, fc.nat(127), fc.nat(128), (base, flip, n) => {
      const size = base.bytes.length * 8;
      const bit = flip % size;
      const prefix = n % (size + 1);
      const bytes = base.bytes.slice();
      bytes[bit >> 3] ^= 0x80 >> (bit & 7);
      const network = parseCidr(`${formatIp(base)}/${prefix}`);
      equal(cidrContains(network, { family: base.family, bytes }), bit >= prefix);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("AccessList admits everyone when empty, and refuses unparsable peers otherwise", () => {
  const open = new AccessList();
  ok(open.empty);
  ok(open.admits("203.0.113.9"));
  ok(open.admits("not an address"));
  ok(!new AccessList({ deny: ["10.0.0.0/8"] }).admits("not an address"));
});

Deno.test("AccessList: an allow list refuses everyone else; an allow wins over a deny", () => {
  const access = new AccessList({ allow: ["127.0.0.0/8", "::1"], deny: ["127.0.0.2"] });
  ok(access.admits("127.0.0.1"));
  ok(access.admits("::ffff:127.0.0.1"));
  ok(access.admits("::1"));
  ok(access.admits("fe80::1%lo") === false);
  ok(access.admits("127.0.0.2"));
  const exception = new AccessList({ deny: ["10.0.0.0/8"], allow: ["10.0.0.5"] });
  ok(exception.admits("10.0.0.5"));
  ok(!exception.admits("10.0.0.6"));
  ok(!access.admits("10.0.0.1"));
  ok(!access.admits("::2"));
  const denyOnly = new AccessList({ deny: ["192.168.0.0/16", "2001:db8::/32"] });
  ok(denyOnly.admits("10.0.0.1"));
  ok(!denyOnly.admits("192.168.4.4"));
  ok(!denyOnly.admits("2001:db8::7"));
  ok(denyOnly.admits("2001:db9::7"));
});

Deno.test("AccessList follows its rule for any rules and peer (property)", () => {
  const network = fc.tuple(anyIp, fc.nat(128)).map(([ip, n]) =>
    `${formatIp(ip)}/${n % (ip.bytes.length * 8 + 1)}`
  );
  fc.assert(
    fc.property(
      fc.array(network, { maxLength: 4 }),
      fc.array(network, { maxLength: 4 }),
      anyIp,
      (allow, deny, peer) => {
        const access = new AccessList({ allow, deny });
        const inAny = (list: string[]) => list.some((n) => cidrContains(parseCidr(n), peer));
        const expected = inAny(allow) || (!inAny(deny) && allow.length === 0);
        equal(access.admits(formatIp(peer)), expected);
        equal(access.admits(peer), expected);
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("AccessList names the first bad network", () => {
  throws(() => new AccessList({ allow: ["10.0.0.0/8", "10.0.0.0/88"] }), /10\.0\.0\.0\/88/);
  throws(() => new AccessList({ deny: ["example.com"] }), /Cannot parse network "example\.com"/);
});
