/**
 * A chat connection from the client's side: lines out, lines in (framed by
 * the shared framing, so the write-up's server, which relays raw chunks with
 * no newline, is read as well as socklab's), and who ended it.
 *
 * @module
 */
import { type Address, formatAddress } from "../net/address.ts";
import { connect, MessageReader, ReplyTimeoutError, writeAll } from "../net/client.ts";
import { escapeChatText } from "../protocol/chat.ts";
import { getLogger } from "../log.ts";

/** Options for {@linkcode ChatClient.connect}. */
export interface ChatClientOptions {
  /** Connect deadline, in ms. @default {3000} */
  timeoutMs?: number;
  /** Quiet period that ends a line the server sent without a newline. @default {50} */
  flushMs?: number;
}

/** Who ended a chat connection: the server (or the network), or this client. */
export type ChatEnd = "server" | "client";

/** Longest line accepted from the server (its lines are escaped, so up to 4x a client's). */
const MAX_RECEIVED_LINE_BYTES = 1024 * 1024;
/** How long one wait for a line lasts before the next (the wait itself is unbounded). */
const RECEIVE_WAIT_MS = 60_000;

const encoder = new TextEncoder();

/**
 * One client connection to a chat server.
 *
 * @example
 * ```ts ignore
 * const chat = await ChatClient.connect({ hostname: "127.0.0.1", port: 8000 });
 * const ended = chat.receive((line) => console.log(line));
 * await chat.send("hello");
 * await chat.close();
 * await ended; // "client"
 * ```
 */
export class ChatClient {
  /** The server's address, as typed. */
  readonly address: string;
  readonly #conn: Deno.TcpConn;
  readonly #reader: MessageReader;
  readonly #log = getLogger(["socklab", "client", "chat"]);
  #closing = false;
  #writing: Promise<unknown> = Promise.resolve();

  private constructor(conn: Deno.TcpConn, address: string, flushMs: number) {
    this.#conn = conn;
    this.address = address;
    this.#reader = new MessageReader(conn, {
      flushMs,
      maxMessageBytes: MAX_RECEIVED_LINE_BYTES,
    });
  }

  /** Connects to a chat server; rejects as `connect()` does. */
  static async connect(address: Address, options: ChatClientOptions = {}): Promise<ChatClient> {
    const conn = await connect(address, options.timeoutMs ?? 3000);
    try {
      conn.setNoDelay(true);
    } catch { /* not fatal */ }
    return new ChatClient(conn, formatAddress(address), options.flushMs ?? 50);
  }

  /**
   * Calls `onLine` with each line received (control bytes escaped, see
   * `escapeChatText`) until the connection ends; resolves with who ended it.
   * Never rejects: a reset or an unreadable stream is the server's end.
   */
  async receive(onLine: (line: string) => void): Promise<ChatEnd> {
    while (true) {
      let message;
      try {
        message = await this.#reader.next(RECEIVE_WAIT_MS);
      } catch (error) {
        if (error instanceof ReplyTimeoutError) continue;
        if (this.#closing) return "client";
        const level = error instanceof RangeError ? "warning" : "debug";
        this.#log[level]("Connection to {address} failed: {error}", {
          address: this.address,
          error: error instanceof Error ? error.message : String(error),
        });
        return "server";
      }
      if (message === null) return this.#closing ? "client" : "server";
      onLine(escapeChatText(message.bytes));
    }
  }

  /**
   * Sends one line (a newline is added); lines go out in the order given.
   * Resolves false if it could not be written (the server is gone: the
   * receiving side reports that).
   */
  send(line: string): Promise<boolean> {
    const bytes = encoder.encode(`${line}\n`);
    const sent = this.#writing.then(() => writeAll(this.#conn, bytes)).then(
      () => true,
      (error) => {
        this.#log.debug("Cannot send to {address}: {error}", {
          address: this.address,
          error: error instanceof Error ? error.message : String(error),
        });
        return false;
      },
    );
    this.#writing = sent;
    return sent;
  }

  /**
   * Closes the connection; a line still being written is cut (await `send`
   * first to be sure a line went out). Safe to call again.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    await this.#writing;
    await this.#reader.settle();
  }
}
