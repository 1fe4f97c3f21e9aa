/**
 * IP addresses, networks in CIDR notation, and the `--allow`/`--deny` access
 * rule built on them. Pure: no I/O, no name resolution.
 *
 * The rule: a peer matching an `--allow` is admitted (allow wins); otherwise
 * one matching a `--deny` is refused; otherwise it is admitted only when no
 * `--allow` is given.
 * An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, what a dual-stack listener
 * reports for an IPv4 peer) is treated as the IPv4 address it carries.
 *
 * @module
 */

/** An IP address as bytes: 4 for IPv4, 16 for IPv6. */
export interface IpAddress {
  /** IPv4 or IPv6. */
  readonly family: 4 | 6;
  /** The address, most significant byte first. */
  readonly bytes: Uint8Array;
}

/** A network: the leading `prefix` bits of `bytes` are what an address must match. */
export interface Cidr extends IpAddress {
  /** 0-32 for IPv4, 0-128 for IPv6. */
  readonly prefix: number;
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];
const DECIMAL_OCTET = /^(?:0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const HINT = "expected an IPv4 or IPv6 address, optionally with /PREFIX (e.g. 10.0.0.0/8, ::1)";

function syntaxError(text: string): SyntaxError {
  return new SyntaxError(`Cannot parse network "${text}": ${HINT}`);
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    // No leading zeros: "010" is octal to some tools and decimal to others.
    if (!DECIMAL_OCTET.test(parts[i])) return undefined;
    const value = Number(parts[i]);
    if (value > 255) return undefined;
    bytes[i] = value;
  }
  return bytes;
}

function parseGroups(text: string, out: number[]): boolean {
  if (text === "") return true;
  const parts = text.split(":");
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (i === parts.length - 1 && part.includes(".")) {
      const v4 = parseIpv4(part);
      if (!v4) return false;
      out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else if (HEX_GROUP.test(part)) {
      out.push(parseInt(part, 16));
    } else {
      return false;
    }
  }
  return true;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head: number[] = [];
  const tail: number[] = [];
  if (!parseGroups(halves[0], head)) return undefined;
  if (halves.length === 2) {
    if (!parseGroups(halves[1], tail)) return undefined;
    // An embedded IPv4 part may only end the address.
    if (halves[0].includes(".")) return undefined;
    if (head.length + tail.length > 7) return undefined;
  } else if (head.length !== 8) {
    return undefined;
  }
  const groups = [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    bytes[2 * i] = groups[i] >> 8;
    bytes[2 * i + 1] = groups[i] & 0xff;
  }
  return bytes;
}

function isMapped(bytes: Uint8Array): boolean {
  return bytes.length === 16 && MAPPED_PREFIX.every((b, i) => bytes[i] === b);
}

/**
 * Parses an IPv4 or IPv6 address. An IPv4-mapped IPv6 address comes back as
 * IPv4. Throws a SyntaxError naming the text for anything else (host names
 * included: socklab never resolves names for access rules).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { parseIp } from "./cidr.ts";
 *
 * deepEqual(parseIp("::ffff:127.0.0.1"), { family: 4, bytes: new Uint8Array([127, 0, 0, 1]) });
 * deepEqual(parseIp("::1").family, 6);
 * ```
 */
export function parseIp(text: string): IpAddress {
  const v4 = parseIpv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = text.includes(":") ? parseIpv6(text) : undefined;
  if (!v6) {
    throw new SyntaxError(`Cannot parse IP address "${text}": expected IPv4 or IPv6`);
  }
  if (isMapped(v6)) return { family: 4, bytes: v6.slice(12) };
  return { family: 6, bytes: v6 };
}

/**
 * Parses a network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`); a bare
 * address is a network of one (`/32` or `/128`). Host bits after the prefix
 * are cleared (`10.1.2.3/8` is `10.0.0.0/8`). An IPv4-mapped IPv6 network
 * with a prefix of at least 96 becomes the IPv4 network it carries.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatCidr, parseCidr } from "./cidr.ts";
 *
 * deepEqual(formatCidr(parseCidr("10.1.2.3/8")), "10.0.0.0/8");
 * deepEqual(formatCidr(parseCidr("::ffff:192.168.0.0/112")), "192.168.0.0/16");
 * deepEqual(formatCidr(parseCidr("::1")), "::1/128");
 * ```
 */
export function parseCidr(text: string): Cidr {
  const trimmed = text.trim();
  const slash = trimmed.indexOf("/");
  const addressText = slash === -1 ? trimmed : trimmed.slice(0, slash);
  let bytes = parseIpv4(addressText);
  let family: 4 | 6 = 4;
  if (!bytes) {
    bytes = addressText.includes(":") ? parseIpv6(addressText) : undefined;
    family = 6;
  }
  if (!bytes) throw syntaxError(text);
  const bits = bytes.length * 8;
  let prefix = bits;
  if (slash !== -1) {
    const prefixText = trimmed.slice(slash + 1);
    if (!/^(?:0|[1-9]\d{0,2})$/.test(prefixText)) throw syntaxError(text);
    prefix = Number(prefixText);
    if (prefix > bits) {
      throw new RangeError(
        `Cannot use prefix /${prefix} in network "${text}": must be 0-${bits} for IPv${family}`,
      );
    }
  }
  if (family === 6 && prefix >= 96 && isMapped(bytes)) {
    family = 4;
    bytes = bytes.slice(12);
    prefix -= 96;
  }
  return { family, bytes: mask(bytes, prefix), prefix };
}

function mask(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = bytes.slice();
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - 8 * i));
    out[i] &= (0xff00 >> keep) & 0xff;
  }
  return out;
}

/**
 * True if `address` lies in `network`. Families never mix: `::/0` holds every
 * IPv6 address and no IPv4 one (IPv4-mapped addresses count as IPv4).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { cidrContains, parseCidr, parseIp } from "./cidr.ts";
 *
 * deepEqual(cidrContains(parseCidr("10.0.0.0/8"), parseIp("10.9.8.7")), true);
 * deepEqual(cidrContains(parseCidr("10.0.0.0/8"), parseIp("11.0.0.1")), false);
 * ```
 */
export function cidrContains(network: Cidr, address: IpAddress): boolean {
  if (network.family !== address.family) return false;
  const full = network.prefix >> 3;
  for (let i = 0; i < full; i++) {
    if (network.bytes[i] !== address.bytes[i]) return false;
  }
  const rest = network.prefix & 7;
  if (rest === 0) return true;
  const bitMask = (0xff00 >> rest) & 0xff;
  return (network.bytes[full] & bitMask) === (address.bytes[full] & bitMask);
}

/**
 * Formats an address the canonical way: dotted decimal for IPv4, RFC 5952
 * for IPv6 (lower case, no leading zeros, the longest run of zero groups as `::`).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatIp, parseIp } from "./cidr.ts";
 *
 * deepEqual(formatIp(parseIp("2001:DB8:0:0:0:0:0:1")), "2001:db8::1");
 * ```
 */
export function formatIp(address: IpAddress): string {
  const b = address.bytes;
  if (address.family === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[2 * i] << 8) | b[2 * i + 1]);
  let bestStart = -1;
  let bestLength = 1; // a single zero group is not compressed
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (list: number[]) => list.map((g) => g.toString(16)).join(":");
  if (bestStart === -1) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/**
 * Formats a network as `ADDRESS/PREFIX`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatCidr, parseCidr } from "./cidr.ts";
 *
 * deepEqual(formatCidr(parseCidr("2001:db8::/32")), "2001:db8::/32");
 * ```
 */
export function formatCidr(network: Cidr): string {
  return `${formatIp(network)}/${network.prefix}`;
}

/** Options for {@linkcode AccessList}: the `--allow` and `--deny` values as typed. */
export interface AccessListOptions {
  /** Networks admitted, even when they also match a `deny` entry; when any is given, every peer outside them is refused. @default {[]} */
  allow?: readonly string[];
  /** Networks refused, unless an `allow` entry matches too. @default {[]} */
  deny?: readonly string[];
}

/**
 * The access rule of `--allow`/`--deny`: a peer in an `allow` network is
 * admitted (allow wins); otherwise a peer in a `deny` network is refused;
 * otherwise it is admitted only when no `allow` network is given. (ncat
 * refuses a peer in both lists; socklab lets the narrower exception through,
 * so `--deny 10.0.0.0/8 --allow 10.0.0.5` admits that one host.)
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { AccessList } from "./cidr.ts";
 *
 * const access = new AccessList({ deny: ["10.0.0.0/8"], allow: ["10.0.0.5"] });
 * deepEqual(access.admits("10.0.0.5"), true);
 * deepEqual(access.admits("10.1.2.3"), false);
 * deepEqual(access.admits("192.168.1.1"), false);
 * ```
 */
export class AccessList {
  /** The parsed `allow` networks. */
  readonly allow: readonly Cidr[];
  /** The parsed `deny` networks. */
  readonly deny: readonly Cidr[];

  /** Parses every network; throws a SyntaxError or RangeError naming the first bad one. */
  constructor(options: AccessListOptions = {}) {
    this.allow = (options.allow ?? []).map(parseCidr);
    this.deny = (options.deny ?? []).map(parseCidr);
  }

  /** True when no network is given: everyone is admitted. */
  get empty(): boolean {
    return this.allow.length === 0 && this.deny.length === 0;
  }

  /**
   * Whether a peer at `address` (as a listener reports it, a zone such as
   * `%eth0` allowed) may connect. An address that cannot be parsed is refused
   * unless the list is empty.
   */
  admits(address: string | IpAddress): boolean {
    if (this.empty) return true;
    let ip: IpAddress;
    if (typeof address === "string") {
      const zone = address.indexOf("%");
      try {
        ip = parseIp(zone === -1 ? address : address.slice(0, zone));
      } catch {
        return false;
      }
    } else {
      ip = address.family === 6 && isMapped(address.bytes)
        ? { family: 4, bytes: address.bytes.slice(12) }
        : address;
    }
    if (this.allow.some((network) => cidrContains(network, ip))) return true;
    if (this.deny.some((network) => cidrContains(network, ip))) return false;
    return this.allow.length === 0;
  }
}
