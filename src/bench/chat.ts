/**
 * The chat fan-out under load: M senders write lines at a fixed rate each,
 * N receivers read what the relay delivers. Each line carries its sender,
 * its sequence number, the time it was due and a checksum, so a receiver
 * can tell a delivery (and its latency) from a lost, duplicated, merged or
 * corrupted line, whatever prefix or notices the relay adds around it. A
 * receiver the relay disconnects (a slow reader, cut mid-line) is reported
 * as such (`receiver-closed`, `cut-line`), not as corruption.
 *
 * Works against any relay that sends each line to every other client:
 * socklab's chat, the classroom server, ncat's chat mode.
 *
 * @module
 */
import { type Address, formatAddress } from "../net/address.ts";
import { TIMEOUT, within } from "../net/deadline.ts";
import { LineFramer } from "../net/framing.ts";
import { describeFailure } from "../net/failure.ts";
import { Aggregator, type BenchResult, seriesInterval } from "./aggregator.ts";
import {
  type BenchConn,
  type BenchRun,
  type Dial,
  errorKind,
  type Progress,
  type Sleep,
  tcpDial,
  timerSleep,
} from "./engine.ts";

/** Options for {@linkcode runChat}. */
export interface ChatOptions {
  /** The relay. */
  target: Address;
  /** Clients that only read. @default {50} */
  receivers?: number;
  /** Clients that write lines (and read and drop what they are sent). @default {5} */
  senders?: number;
  /** Lines per second, per sender. @default {200} */
  rate?: number;
  /** How long senders send, after the warmup. */
  durationMs: number;
  /** How long they send before measuring. @default {0} */
  warmupMs?: number;
  /** Connect deadline, and how long every receiver has to see the first line. @default {3000} */
  timeoutMs?: number;
  /** After the last line: how long deliveries may still come. @default {2000} */
  drainMs?: number;
  /** Stops the run early; its figures are still returned. */
  signal?: AbortSignal;
  /** The clock, in ms. @default performance.now */
  now?: () => number;
  /** @default a timer */
  sleep?: Sleep;
  /** @default a TCP connection with a deadline */
  dial?: Dial;
}

/** The fields of one test line. */
export interface ChatLine {
  sender: number;
  sequence: number;
  /** When the line was due (or sent, if earlier), in µs from the start of the run. */
  timeUs: number;
}

const encoder = new TextEncoder();
/** What starts every test line: the relay may put anything before it. */
const MARK = encoder.encode("sb1 ");
const SPACE = 32;
const LF = 10;
const ZERO = 48;
/** The longest test line: the mark, four numbers, their spaces, the newline. */
export const MAX_CHAT_LINE_BYTES = MARK.length + 4 * 16 + 4;

function checksum(sender: number, sequence: number, timeUs: number): number {
  return (sender * 7919 + sequence * 104_729 + timeUs) % 1_000_003;
}

function writeNumber(buffer: Uint8Array, offset: number, value: number): number {
  if (value === 0) {
    buffer[offset] = ZERO;
    return offset + 1;
  }
  let digits = 0;
  for (let v = value; v > 0; v = Math.floor(v / 10)) digits++;
  for (let i = offset + digits - 1, v = value; i >= offset; i--, v = Math.floor(v / 10)) {
    buffer[i] = ZERO + (v % 10);
  }
  return offset + digits;
}

/**
 * Writes a test line (`sb1 SENDER SEQUENCE TIME CHECKSUM\n`) into `buffer` at
 * `offset`; returns the offset after it. Needs {@linkcode MAX_CHAT_LINE_BYTES}.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { encodeChatLine } from "./chat.ts";
 *
 * const buffer = new Uint8Array(100);
 * const end = encodeChatLine(buffer, 0, { sender: 2, sequence: 7, timeUs: 1500 });
 * deepEqual(new TextDecoder().decode(buffer.subarray(0, end)), "sb1 2 7 1500 750441\n");
 * ```
 */
export function encodeChatLine(buffer: Uint8Array, offset: number, line: ChatLine): number {
  buffer.set(MARK, offset);
  let at = offset + MARK.length;
  at = writeNumber(buffer, at, line.sender);
  buffer[at++] = SPACE;
  at = writeNumber(buffer, at, line.sequence);
  buffer[at++] = SPACE;
  at = writeNumber(buffer, at, line.timeUs);
  buffer[at++] = SPACE;
  at = writeNumber(buffer, at, checksum(line.sender, line.sequence, line.timeUs));
  buffer[at++] = LF;
  return at;
}

/** Where the test mark starts in `line` at or after `from`, or -1. */
function findMark(line: Uint8Array, from: number): number {
  for (let i = line.indexOf(MARK[0], from); i !== -1; i = line.indexOf(MARK[0], i + 1)) {
    if (
      i + MARK.length <= line.length && line[i + 1] === MARK[1] && line[i + 2] === MARK[2] &&
      line[i + 3] === MARK[3]
    ) return i;
  }
  return -1;
}

/** The four numbers of the line being decoded: one array for every line, nothing allocated. */
const decodedFields = new Float64Array(4);

/**
 * Reads a received line (without its newline): `"none"` if it holds no test
 * line (a notice), `"merged"` if it holds more than one, `"corrupted"` if
 * its fields do not parse or check, else `"ok"` with the fields in `out`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { type ChatLine, decodeChatLine } from "./chat.ts";
 *
 * const out: ChatLine = { sender: 0, sequence: 0, timeUs: 0 };
 * const bytes = (s: string) => new TextEncoder().encode(s);
 * deepEqual(decodeChatLine(bytes("<user1> sb1 2 7 1500 750441"), out), "ok");
 * deepEqual(out, { sender: 2, sequence: 7, timeUs: 1500 });
 * deepEqual(decodeChatLine(bytes("sb1 2 7 1500 750442"), out), "corrupted");
 * deepEqual(decodeChatLine(bytes("<announce> someone joined"), out), "none");
 * ```
 */
export function decodeChatLine(
  line: Uint8Array,
  out: ChatLine,
): "ok" | "none" | "merged" | "corrupted" {
  const mark = findMark(line, 0);
  if (mark === -1) return "none";
  if (findMark(line, mark + MARK.length) !== -1) return "merged";
  let at = mark + MARK.length;
  const fields = decodedFields;
  for (let f = 0; f < 4; f++) {
    const start = at;
    let value = 0;
    while (at < line.length && line[at] >= ZERO && line[at] <= ZERO + 9 && at - start < 16) {
      value = value * 10 + (line[at++] - ZERO);
    }
    if (at === start) return "corrupted";
    fields[f] = value;
    if (f < 3) {
      if (line[at] !== SPACE) return "corrupted";
      at++;
    }
  }
  while (at < line.length && (line[at] === SPACE || line[at] === 13)) at++;
  if (at !== line.length) return "corrupted";
  if (checksum(fields[0], fields[1], fields[2]) !== fields[3]) return "corrupted";
  out.sender = fields[0];
  out.sequence = fields[1];
  out.timeUs = fields[2];
  return "ok";
}

/**
 * Small reads keep each turn of the event loop short: fifty receivers that
 * each parse a 16 KiB read in the same turn held the senders back by up to
 * 50 ms at 16,000 lines/s, long enough for a relay's quiet period to end a
 * line a sender had written only in part. With 2 KiB the senders' lag stays
 * under about 10 ms, for the same deliveries per second.
 */
const READ_BYTES = 2 * 1024;
const SEND_BYTES = 64 * 1024;
const EARLY_MS = 1;
/** A receiver that has seen nothing new for this long after the end has all it will get. */
const QUIET_MS = 300;

/** One connection of the run, sender or receiver. */
class Client {
  conn: BenchConn | null = null;
  readonly buf = new Uint8Array(READ_BYTES);
  readonly framer = new LineFramer({ maxMessageBytes: 8 * 1024, oversize: "skip" });
  joined = false;
  closed = false;
  reading: Promise<void> = Promise.resolve();
  constructor(readonly index: number, readonly receiver: boolean) {}
}

class ChatEngine {
  readonly #target: Address;
  readonly #address: string;
  readonly #receivers: number;
  readonly #senders: number;
  readonly #rate: number;
  readonly #durationMs: number;
  readonly #warmupMs: number;
  readonly #timeoutMs: number;
  readonly #drainMs: number;
  readonly #signal?: AbortSignal;
  readonly #now: () => number;
  readonly #sleep: Sleep;
  readonly #dial: Dial;
  readonly #stop = new AbortController();
  readonly #clients: Client[] = [];
  /** Per receiver and sender: the next sequence number expected. */
  readonly #next: Float64Array;
  /** Per sender: lines sent. */
  readonly #sent: Float64Array;
  readonly #line: ChatLine = { sender: 0, sequence: 0, timeUs: 0 };
  #aggregator = new Aggregator();
  #start = 0;
  #measureFrom = 0;
  #end = 0;
  #stopAt = Infinity;
  #delivered = 0;
  #lastDeliveryAt = 0;
  #joined = 0;
  #onJoined: (() => void) | null = null;
  #interrupted = false;
  #sending = false;
  #finished = false;
  readonly #nonce = String(Math.floor(Math.random() * 1e9));

  constructor(options: ChatOptions) {
    const count = (value: number | undefined, fallback: number, what: string) => {
      const n = value ?? fallback;
      if (!Number.isSafeInteger(n) || n < 1) {
        throw new RangeError(`Cannot use ${n} ${what}: must be a positive integer`);
      }
      return n;
    };
    this.#receivers = count(options.receivers, 50, "receivers");
    this.#senders = count(options.senders, 5, "senders");
    this.#rate = options.rate ?? 200;
    if (!(this.#rate > 0 && Number.isFinite(this.#rate))) {
      throw new RangeError(`Cannot use rate ${options.rate}: must be more than 0 lines per second`);
    }
    if (!(options.durationMs > 0)) {
      throw new RangeError(`Cannot run for ${options.durationMs} ms: must be more than 0`);
    }
    this.#target = options.target;
    this.#address = formatAddress(options.target);
    this.#durationMs = options.durationMs;
    this.#warmupMs = Math.max(0, options.warmupMs ?? 0);
    this.#timeoutMs = options.timeoutMs ?? 3000;
    this.#drainMs = options.drainMs ?? 2000;
    this.#signal = options.signal;
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? timerSleep;
    this.#dial = options.dial ?? tcpDial;
    this.#next = new Float64Array(this.#receivers * this.#senders);
    this.#sent = new Float64Array(this.#senders);
  }

  progress(): Progress {
    const now = this.#now();
    const aggregator = this.#aggregator;
    return {
      elapsedMs: this.#start > 0 ? now - this.#start : 0,
      phase: this.#finished ? "done" : now < this.#measureFrom ? "warmup" : "measure",
      completed: aggregator.completed,
      warmupCompleted: aggregator.warmupCompleted,
      errors: aggregator.errors,
    };
  }

  async run(): Promise<BenchResult> {
    const onAbort = () => this.#interrupt();
    this.#signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await this.#connectAll();
      if (!this.#interrupted) await this.#join();
      this.#start = this.#now();
      this.#measureFrom = this.#start + this.#warmupMs;
      this.#end = this.#measureFrom + this.#durationMs;
      this.#aggregator = new Aggregator({
        measureFrom: this.#measureFrom,
        durationMs: this.#durationMs,
        intervalMs: seriesInterval(this.#durationMs),
      });
      if (!this.#interrupted) {
        this.#sending = true;
        const senders = this.#clients.filter((c) => !c.receiver);
        await Promise.all(senders.map((sender) => this.#send(sender)));
        this.#sending = false;
        await this.#drain();
      }
    } finally {
      this.#signal?.removeEventListener("abort", onAbort);
      this.#stop.abort();
      for (const client of this.#clients) this.#close(client);
      await Promise.all(this.#clients.map((client) => client.reading));
      this.#finished = true;
    }
    return this.#result();
  }

  #interrupt(): void {
    if (this.#interrupted) return;
    this.#interrupted = true;
    this.#stopAt = this.#now();
    this.#stop.abort();
    this.#onJoined?.();
  }

  #close(client: Client): void {
    try {
      client.conn?.close();
    } catch { /* already closed */ }
  }

  async #connectAll(): Promise<void> {
    const total = this.#receivers + this.#senders;
    for (let i = 0; i < total; i++) {
      const receiver = i < this.#receivers;
      this.#clients.push(new Client(receiver ? i : i - this.#receivers, receiver));
    }
    // Receivers first, so that they are there before anything is sent.
    for (const group of [true, false]) {
      // Wait for every attempt, so that none is left open behind a failure.
      const outcomes = await Promise.allSettled(
        this.#clients.filter((c) => c.receiver === group).map(async (client) => {
          client.conn = await this.#dial(this.#target, this.#timeoutMs);
          client.reading = this.#read(client);
        }),
      );
      const failed = outcomes.find((o) => o.status === "rejected");
      if (failed) {
        const error = (failed as PromiseRejectedResult).reason;
        throw new Error(describeFailure(error, { action: "connect", address: this.#address }));
      }
    }
  }

  /** Sends a join line from the first sender until every receiver has seen one. */
  async #join(): Promise<void> {
    const joined = new Promise<void>((resolve) => {
      this.#onJoined = resolve;
      if (this.#joined === this.#receivers) resolve();
    });
    const probe = encoder.encode(`sbjoin ${this.#nonce}\n`);
    const sender = this.#clients[this.#receivers];
    const deadline = this.#now() + this.#timeoutMs;
    // Relays may need a moment to register a new client: repeat the probe until all have it.
    while (this.#joined < this.#receivers && !this.#interrupted) {
      try {
        await sender.conn!.write(probe);
      } catch (error) {
        // A relay that closes at once: say which.
        throw new Error(describeFailure(error, { address: this.#address }));
      }
      const left = deadline - this.#now();
      if (left <= 0 || await within(joined, Math.min(left, 100)) !== TIMEOUT) break;
    }
    if (this.#joined < this.#receivers && !this.#interrupted) {
      throw new Error(
        `${this.#address}: only ${this.#joined} of ${this.#receivers} receivers got a line ` +
          `within ${this.#timeoutMs} ms: is it a chat relay?`,
      );
    }
  }

  async #read(client: Client): Promise<void> {
    const conn = client.conn!;
    const onLine = (line: Uint8Array) => this.#receive(client, line);
    try {
      while (true) {
        const n = await conn.read(client.buf);
        if (n === null) break;
        // Senders only drain what the relay sends them: no framing, no parsing.
        if (client.receiver) client.framer.push(client.buf.subarray(0, n), onLine);
      }
      // Test lines end with a newline: what is left at the close was cut there.
      if (client.receiver) client.framer.flush((rest) => this.#cut(client, rest));
    } catch (error) {
      if (this.#finished || this.#stop.signal.aborted) return;
      this.#aggregator.failure(
        errorKind(error, false),
        describeFailure(error, { address: this.#address }),
        this.#now(),
      );
    } finally {
      client.closed = true;
    }
    // Until the run is over (deliveries may still come after the last line), a close is the relay's.
    if (!this.#stop.signal.aborted) {
      this.#aggregator.failure(
        client.receiver ? "receiver-closed" : "sender-closed",
        `${this.#address} closed a ${client.receiver ? "receiver" : "sender"}'s connection`,
        this.#now(),
      );
    }
  }

  #receive(client: Client, line: Uint8Array): void {
    const now = this.#now();
    const verdict = decodeChatLine(line, this.#line);
    if (verdict === "none") {
      if (!client.joined && this.#isProbe(line)) {
        client.joined = true;
        if (++this.#joined === this.#receivers) this.#onJoined?.();
      }
      return;
    }
    if (verdict !== "ok") {
      this.#aggregator.failure(
        verdict === "merged" ? "merged-lines" : "corrupted-line",
        `receiver ${client.index} got ${
          JSON.stringify(new TextDecoder().decode(line.slice(0, 80)))
        }`,
        now,
      );
      return;
    }
    const { sender, sequence, timeUs } = this.#line;
    if (sender >= this.#senders) {
      this.#aggregator.failure(
        "corrupted-line",
        `receiver ${client.index} got sender ${sender}`,
        now,
      );
      return;
    }
    const slot = client.index * this.#senders + sender;
    if (sequence < this.#next[slot]) {
      this.#aggregator.failure(
        "duplicate-line",
        `receiver ${client.index} got line ${sequence} of sender ${sender} again or late`,
        now,
      );
      return;
    }
    this.#next[slot] = sequence + 1;
    this.#delivered++;
    this.#lastDeliveryAt = now;
    this.#aggregator.success(now - (this.#start + timeUs / 1000), now);
  }

  /** A receiver's connection closed in the middle of a line (a relay cutting a slow reader). */
  #cut(client: Client, rest: Uint8Array): void {
    // A piece with no test mark (a notice, or a line cut before its mark) is only lost.
    if (decodeChatLine(rest, this.#line) === "none") return;
    this.#aggregator.failure(
      "cut-line",
      `receiver ${client.index}'s connection closed in the middle of a line: ${
        JSON.stringify(new TextDecoder().decode(rest.slice(0, 80)))
      }`,
      this.#now(),
    );
  }

  #isProbe(line: Uint8Array): boolean {
    const text = new TextDecoder().decode(line);
    return text.includes(`sbjoin ${this.#nonce}`);
  }

  async #send(client: Client): Promise<void> {
    const conn = client.conn!;
    const interval = 1000 / this.#rate;
    // Senders are spread over the interval, not all due at the same instant.
    const phase = (client.index / this.#senders) * interval;
    const buf = new Uint8Array(SEND_BYTES);
    const line = { sender: client.index, sequence: 0, timeUs: 0 };
    let sequence = 0;
    while (!this.#interrupted && !client.closed) {
      let now = this.#now();
      let due = this.#start + phase + sequence * interval;
      if (due >= this.#end || now >= this.#end) break;
      if (due - now > EARLY_MS) {
        await this.#sleep(due - now - EARLY_MS, this.#stop.signal);
        if (this.#interrupted) break;
        now = this.#now();
      }
      // Every line due by now goes out in one write (at least the first, a little early).
      let length = 0;
      while (length + MAX_CHAT_LINE_BYTES <= buf.length) {
        due = this.#start + phase + sequence * interval;
        if (due >= this.#end || (length > 0 && due > now)) break;
        const sent = Math.min(due, now);
        if (now >= this.#measureFrom) this.#aggregator.lag(Math.max(0, now - due));
        line.sequence = sequence++;
        line.timeUs = Math.round((sent - this.#start) * 1000);
        length = encodeChatLine(buf, length, line);
        this.#sent[client.index]++;
      }
      if (length === 0) break;
      try {
        let offset = 0;
        while (offset < length) offset += await conn.write(buf.subarray(offset, length));
      } catch (error) {
        if (this.#interrupted) break;
        this.#aggregator.failure(
          errorKind(error, false),
          describeFailure(error, { address: this.#address }),
          this.#now(),
        );
        break;
      }
    }
  }

  /** After the last line: waits until every delivery is in, or none has come for a while. */
  async #drain(): Promise<void> {
    const deadline = this.#now() + this.#drainMs;
    const expected = this.#expected();
    while (!this.#interrupted && this.#delivered < expected) {
      const now = this.#now();
      if (now >= deadline || now - this.#lastDeliveryAt > QUIET_MS) break;
      if (this.#clients.every((c) => !c.receiver || c.closed)) break;
      await this.#sleep(20, this.#stop.signal);
    }
  }

  #expected(): number {
    let sent = 0;
    for (const count of this.#sent) sent += count;
    return sent * this.#receivers;
  }

  #result(): BenchResult {
    const expected = this.#expected();
    const lost = Math.max(0, expected - this.#delivered);
    const end = Math.min(this.#end, this.#stopAt);
    if (lost > 0 && !this.#interrupted) {
      this.#aggregator.failure(
        "lost-line",
        `${lost} of ${expected} deliveries never came (within ${this.#drainMs} ms of the last line)`,
        end,
        lost,
      );
    }
    const kinds = new Map(this.#aggregator.errorKinds().map((e) => [e.kind, e.count]));
    let sent = 0;
    for (const count of this.#sent) sent += count;
    return this.#aggregator.result({
      service: "chat",
      target: this.#address,
      mode: "fan-out",
      connections: this.#receivers + this.#senders,
      rate: this.#rate,
      durationMs: this.#durationMs,
      warmupMs: this.#warmupMs,
      unit: "deliveries",
      elapsedMs: Math.max(0, (Number.isFinite(end) ? end : this.#now()) - this.#measureFrom),
      interrupted: this.#interrupted,
      extra: {
        senders: this.#senders,
        receivers: this.#receivers,
        sent,
        expected,
        delivered: this.#delivered,
        lost: this.#interrupted ? 0 : lost,
        merged: kinds.get("merged-lines") ?? 0,
        corrupted: kinds.get("corrupted-line") ?? 0,
        duplicated: kinds.get("duplicate-line") ?? 0,
      },
    });
  }
}

/**
 * Starts a chat fan-out run: `senders` clients write `rate` lines per second
 * each; the latency of a delivery counts from when its line was due.
 *
 * @example Five senders at 200 lines/s each to fifty receivers
 * ```ts ignore
 * import { runChat } from "./chat.ts";
 *
 * const result = await runChat({
 *   target: { hostname: "127.0.0.1", port: 8000 },
 *   durationMs: 2000,
 * }).done;
 * console.log(result.throughput, result.latency.p99Ms, result.extra?.lost);
 * ```
 */
export function runChat(options: ChatOptions): BenchRun {
  const engine = new ChatEngine(options);
  const done = engine.run();
  return { unit: "deliveries", progress: () => engine.progress(), done };
}
