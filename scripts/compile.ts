/**
 * `deno task compile`: standalone socklab executables for every target that
 * `deno compile` supports, into dist/. Each embeds network permission only.
 *
 * `deno compile` downloads the runtime base for each target from Deno's
 * servers; where that is not reachable this says so in one line and exits 1.
 *
 * @module
 */

/** Every target `deno compile --target` accepts. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;

/** The permission flags the binary embeds: exactly what the deno tasks grant, unscoped by host. */
export const EMBEDDED_PERMISSIONS = ["--allow-net"];

/**
 * Every permission but the network denied: with `--allow-net=127.0.0.1:PORT`,
 * a least-privilege run (the tests' and the reliability scenarios' servers).
 */
export const DENY_ALL_BUT_NET: readonly string[] = [
  "--deny-env",
  "--deny-read",
  "--deny-write",
  "--deny-sys",
  "--deny-run",
  "--deny-ffi",
];

/** The `deno compile` arguments for one target. */
export function compileArgs(target: string, outDir = "dist"): string[] {
  return [
    "compile",
    "--quiet",
    ...EMBEDDED_PERMISSIONS,
    "--no-prompt",
    "--target",
    target,
    "--output",
    `${outDir}/socklab-${target}${target.includes("windows") ? ".exe" : ""}`,
    "main.ts",
  ];
}

if (import.meta.main) {
  const only = Deno.args.length > 0 ? Deno.args : TARGETS;
  await Deno.mkdir("dist", { recursive: true });
  for (const target of only) {
    const result = await new Deno.Command(Deno.execPath(), {
      args: compileArgs(target),
      stdout: "inherit",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    if (!result.success) {
      // deno compile's error is a multi-line chain; keep one line for the person.
      const text = new TextDecoder().decode(result.stderr);
      const url = /url \((https?:[^)]+)\)/.exec(text)?.[1];
      const unreachable = /error sending request|dns error|Connect\)|network/i.test(text);
      const first = text.split("\n").find((line) => line.trim())?.trim() ?? "";
      console.error(
        unreachable
          ? `compile: cannot download the Deno runtime base for ${target}${
            url ? ` (${url})` : ""
          }: Deno's servers are not reachable from here`
          : `compile: deno compile failed for ${target}: ${first}`,
      );
      Deno.exit(1);
    }
    console.log(`dist/socklab-${target}`);
  }
}
