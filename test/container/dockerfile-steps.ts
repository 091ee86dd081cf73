/**
 * Replays the Dockerfile's stages in a temp directory, for a machine without a Docker engine: each stage's `/app` is
 * a directory, COPY copies from the repository (the build context) or from another stage's directory, and the
 * `npm` RUN steps run as written. What touches the machine itself is emulated, and only the exact lines listed
 * here are accepted — a new RUN step fails the replay until this file learns it:
 *
 * - the apt-get toolchain line is not run (python3/make/g++ are only needed to compile better-sqlite3, see next);
 * - `npm rebuild better-sqlite3` (~75 s of C++ here, where its prebuilt-binary download is offline) is replaced by
 *   the artifact that very step produced for this repository's node_modules: the same better-sqlite3 version from
 *   the same lockfile, for the same Node ABI and platform — checked before it is used;
 * - `ln -s … /usr/local/bin/vllm-responses` becomes a directory on PATH, `/data` a temp directory owned by uid 1000
 *   (the `node` user of the official Node images).
 */
import { execFile } from "node:child_process";
import { chmod, chown, cp, mkdir, readFile, symlink } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  name: string;
  instructions: Instruction[];
}

/** Instructions grouped by stage; line continuations joined, comments and the parser directive dropped. */
export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    if (current === "" && (line.trim() === "" || line.trimStart().startsWith("#"))) continue;
    if (line.endsWith("\\")) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(current + line);
    current = "";
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(line);
    if (!m) throw new Error(`unparsable Dockerfile line: ${line}`);
    const keyword = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    if (keyword === "FROM") {
      const as = /\s+AS\s+(\S+)$/i.exec(args);
      stages.push({ name: as ? as[1]! : `stage${stages.length}`, instructions: [] });
      continue;
    }
    if (keyword === "ARG" && stages.length === 0) continue;
    if (stages.length === 0) throw new Error(`${keyword} before FROM`);
    stages.at(-1)!.instructions.push({ keyword, args });
  }
  return stages;
}

/** `A=1 B="two words"` → record. */
export function parseEnv(args: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S*)/g)) env[m[1]!] = m[3] ?? m[2]!;
  return env;
}

export interface ReplayOptions {
  /** The build context (the repository). */
  context: string;
  /** Empty directory to build in. */
  root: string;
  /** The repository's node_modules, whose compiled better-sqlite3 stands in for `npm rebuild better-sqlite3`. */
  builtNodeModules: string;
  /** Extra environment for the npm steps (e.g. npm_config_prefer_offline). */
  npmEnv?: Record<string, string>;
  /** Called with each step and how long it took. */
  onStep?: (stage: string, step: string, ms: number) => void;
}

export interface ReplayedImage {
  /** The final stage's /app. */
  appDir: string;
  /** Stand-in for /usr/local/bin: put it first on PATH. */
  binDir: string;
  /** Stand-in for /data, owned by `uid`. */
  dataDir: string;
  env: Record<string, string>;
  uid: number;
  gid: number;
  exposed: number[];
  /** The CMD, shell form. */
  cmd: string;
  /** The HEALTHCHECK command, exec form. */
  healthcheck: string[];
}

const NODE_USER = { uid: 1000, gid: 1000 };
const APT_LINE = "apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*";
const LINK_LINE = "ln -s /app/bin/vllm-responses.js /usr/local/bin/vllm-responses && mkdir -p /data && chown node:node /data";

/** Runs stages in dependency order: independent stages (deps, build) concurrently, as BuildKit does. */
export async function replayDockerfile(stages: Stage[], options: ReplayOptions): Promise<ReplayedImage> {
  const done = new Map<string, Promise<void>>();
  const dirOf = (stage: string): string => join(options.root, stage);
  const binDir = join(options.root, "usr-local-bin");
  const dataDir = join(options.root, "data");
  await mkdir(binDir, { recursive: true });

  const image: ReplayedImage = { appDir: "", binDir, dataDir, env: {}, uid: 0, gid: 0, exposed: [], cmd: "", healthcheck: [] };

  const runStage = async (stage: Stage): Promise<void> => {
    const dir = dirOf(stage.name);
    await mkdir(dir, { recursive: true });
    for (const { keyword, args } of stage.instructions) {
      const started = Date.now();
      switch (keyword) {
        case "WORKDIR":
          if (args !== "/app") throw new Error(`stage ${stage.name}: WORKDIR ${args} (the replay maps only /app)`);
          break;
        case "COPY": {
          const from = /^--from=(\S+)\s+/.exec(args);
          const parts = (from ? args.slice(from[0].length) : args).split(/\s+/);
          const rawDest = parts.pop()!;
          const dest = join(dir, rawDest);
          for (const source of parts) {
            let origin: string;
            if (from) {
              await done.get(from[1]!);
              if (!source.startsWith("/app/")) throw new Error(`COPY --from=${from[1]} ${source}: only /app paths are mapped`);
              origin = join(dirOf(from[1]!), source.slice("/app/".length));
            } else origin = join(options.context, source);
            // Docker: several sources, or a destination ending in "/", copy *into* the destination directory.
            const target = parts.length > 1 || rawDest.endsWith("/") ? join(dest, source.split("/").pop()!) : dest;
            await cp(origin, target, { recursive: true, verbatimSymlinks: true });
          }
          break;
        }
        case "RUN":
          await runStep(stage.name, dir, args, options, image);
          break;
        case "ENV":
          Object.assign(image.env, parseEnv(args));
          break;
        case "USER":
          if (args !== "node") throw new Error(`USER ${args}: the replay knows the node user (uid 1000) only`);
          image.uid = NODE_USER.uid;
          image.gid = NODE_USER.gid;
          break;
        case "EXPOSE":
          image.exposed.push(...args.split(/\s+/).map(Number));
          break;
        case "VOLUME":
          if (args !== "/data") throw new Error(`VOLUME ${args}: the replay maps /data only`);
          break;
        case "HEALTHCHECK": {
          const m = /\bCMD\s+(\[[\s\S]*\])$/.exec(args);
          if (!m) throw new Error("HEALTHCHECK must use the exec form CMD [...]");
          image.healthcheck = JSON.parse(m[1]!) as string[];
          break;
        }
        case "CMD":
          image.cmd = args;
          break;
        default:
          throw new Error(`stage ${stage.name}: ${keyword} is not replayed`);
      }
      options.onStep?.(stage.name, `${keyword} ${args}`.slice(0, 80), Date.now() - started);
    }
  };

  for (const stage of stages) {
    const started = runStage(stage);
    done.set(stage.name, started);
    // Keep unhandled rejections away while later stages are being scheduled; awaited below.
    started.catch(() => {});
  }
  await Promise.all(done.values());
  image.appDir = dirOf(stages.at(-1)!.name);
  return image;
}

async function runStep(stage: string, dir: string, command: string, options: ReplayOptions, image: ReplayedImage): Promise<void> {
  if (command === APT_LINE) return;
  if (command === "npm rebuild better-sqlite3") {
    const installed = JSON.parse(await readFile(join(dir, "node_modules/better-sqlite3/package.json"), "utf8")) as { version: string };
    const built = JSON.parse(await readFile(join(options.builtNodeModules, "better-sqlite3/package.json"), "utf8")) as { version: string };
    if (installed.version !== built.version) throw new Error(`better-sqlite3 ${installed.version} installed, but the built artifact is ${built.version}`);
    await cp(join(options.builtNodeModules, "better-sqlite3/build/Release/better_sqlite3.node"), join(dir, "node_modules/better-sqlite3/build/Release/better_sqlite3.node"));
    return;
  }
  if (command === LINK_LINE) {
    await symlink(join(dir, "bin/vllm-responses.js"), join(image.binDir, "vllm-responses"));
    await mkdir(image.dataDir, { recursive: true });
    await chown(image.dataDir, NODE_USER.uid, NODE_USER.gid);
    await chmod(image.dataDir, 0o755);
    return;
  }
  if (/^npm (ci|run build)\b/.test(command)) {
    try {
      await run("sh", ["-c", command], { cwd: dir, env: { ...process.env, ...options.npmEnv }, maxBuffer: 64 * 1024 * 1024 });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`stage ${stage}: RUN ${command} failed:\n${stdout ?? ""}${stderr ?? ""}`, { cause: error });
    }
    return;
  }
  throw new Error(`stage ${stage}: RUN ${JSON.stringify(command)} is not known to the replay (test/container/dockerfile-steps.ts)`);
}
