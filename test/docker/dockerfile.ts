// Reads the Dockerfile (no Docker engine here) and lays out what its images would contain, so tests
// can run the images' entrypoints as plain processes: the build stages' COPY and `npm run build`
// are replayed into a scratch folder, the runtime stage's COPY/RUN into a scratch "root".
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdir, symlink } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface Instruction {
  keyword: string;
  /** Raw text after the keyword (continuations joined with spaces). */
  args: string;
  /** Exec form (`["a", "b"]`) of CMD/ENTRYPOINT/RUN, when used. */
  exec?: string[];
  line: number;
}

export interface Stage {
  name: string;
  /** Base image or stage name, with global ARG defaults substituted. */
  from: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  globalArgs: Record<string, string>;
  stages: Stage[];
}

/** Parses Dockerfile syntax: comments, `\` continuations, exec/shell forms, global ARGs, stages. */
export function parseDockerfile(text: string): Dockerfile {
  const logical: { text: string; line: number }[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, index) => {
    const trimmed = raw.trim();
    // Comment lines are dropped even inside a continued instruction, as Docker does.
    if (trimmed.startsWith('#')) return;
    if (!pending && trimmed === '') return;
    const continued = trimmed.endsWith('\\');
    const piece = continued ? trimmed.slice(0, -1).trim() : trimmed;
    pending = pending
      ? { text: `${pending.text} ${piece}`.trim(), line: pending.line }
      : { text: piece, line: index + 1 };
    if (!continued) {
      logical.push(pending);
      pending = undefined;
    }
  });
  if (pending) throw new Error(`Dockerfile: line ${pending.line} ends with a continuation and nothing after`);

  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  const substitute = (value: string) =>
    value.replace(/\$\{(\w+)\}|\$(\w+)/g, (match, a: string, b: string) => globalArgs[a ?? b] ?? match);
  for (const { text: instruction, line } of logical) {
    const match = /^(\w+)\s*(.*)$/.exec(instruction);
    if (!match) throw new Error(`Dockerfile line ${line}: cannot parse "${instruction}"`);
    const keyword = match[1].toUpperCase();
    const args = match[2];
    if (keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`Dockerfile line ${line}: bad FROM "${args}"`);
      stages.push({ name: from[2] ?? String(stages.length), from: substitute(from[1]), instructions: [] });
      continue;
    }
    if (keyword === 'ARG' && stages.length === 0) {
      const [name, value = ''] = args.split('=', 2);
      globalArgs[name.trim()] = value.trim();
      continue;
    }
    if (stages.length === 0) throw new Error(`Dockerfile line ${line}: ${keyword} before the first FROM`);
    const parsed: Instruction = { keyword, args, line };
    if (['CMD', 'ENTRYPOINT', 'RUN'].includes(keyword) && args.startsWith('[')) {
      parsed.exec = JSON.parse(args) as string[];
    }
    stages[stages.length - 1].instructions.push(parsed);
  }
  return { globalArgs, stages };
}

export function stage(dockerfile: Dockerfile, name: string): Stage {
  const found = dockerfile.stages.find((s) => s.name === name);
  if (!found) throw new Error(`Dockerfile has no stage "${name}"`);
  return found;
}

/** The stage and its ancestors (FROM <stage>), nearest first. */
export function lineage(dockerfile: Dockerfile, name: string): Stage[] {
  const chain: Stage[] = [];
  for (let current: Stage | undefined = stage(dockerfile, name); current; ) {
    chain.push(current);
    current = dockerfile.stages.find((s) => s.name === current?.from);
  }
  return chain;
}

/** The last value of an instruction in a stage or what it inherits (USER, WORKDIR, ENTRYPOINT…). */
export function effective(dockerfile: Dockerfile, name: string, keyword: string): Instruction | undefined {
  for (const s of lineage(dockerfile, name)) {
    const found = s.instructions.filter((i) => i.keyword === keyword).at(-1);
    if (found) return found;
  }
  return undefined;
}

/** Every instruction of a kind along the lineage, oldest stage first. */
export function allOf(dockerfile: Dockerfile, name: string, keyword: string): Instruction[] {
  return lineage(dockerfile, name)
    .reverse()
    .flatMap((s) => s.instructions.filter((i) => i.keyword === keyword));
}

/** ENV instructions along the lineage (`KEY=value` form only, which is what we use). */
export function environment(dockerfile: Dockerfile, name: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const instruction of allOf(dockerfile, name, 'ENV')) {
    for (const pair of instruction.args.split(/\s+/)) {
      const [key, value] = pair.split('=', 2);
      if (value === undefined) throw new Error(`ENV at line ${instruction.line}: use KEY=value`);
      env[key] = value.replace(/^"(.*)"$/, '$1');
    }
  }
  return env;
}

interface Copy {
  from?: string;
  chown?: string;
  sources: string[];
  dest: string;
}

export function parseCopy(instruction: Instruction): Copy {
  const words = instruction.args.split(/\s+/);
  const copy: Copy = { sources: [], dest: '' };
  while (words[0]?.startsWith('--')) {
    const [flag, value] = words.shift()!.slice(2).split('=', 2);
    if (flag === 'from') copy.from = value;
    else if (flag === 'chown') copy.chown = value;
    else throw new Error(`COPY at line ${instruction.line}: flag --${flag} not understood by the test`);
  }
  copy.dest = words.pop() ?? '';
  copy.sources = words;
  if (copy.sources.length === 0) throw new Error(`COPY at line ${instruction.line} copies nothing`);
  return copy;
}

/** What .dockerignore keeps out of the build context (the subset of its syntax we use). */
export function contextFilter(dockerignore: string): (path: string) => boolean {
  const rules = dockerignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => ({ include: l.startsWith('!'), pattern: l.replace(/^!/, '').replace(/\/$/, '') }));
  const toRegex = (pattern: string) =>
    new RegExp(
      `^${pattern
        .split('/')
        .map((part) =>
          part === '**'
            ? '(?:.*)'
            : part
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace('(?:.*)/', '(?:.*/)?')}(?:/.*)?$`,
    );
  const compiled = rules.map((r) => ({ ...r, regex: toRegex(r.pattern) }));
  // Last matching rule wins, as in Docker.
  return (path: string) => {
    let included = true;
    for (const rule of compiled) if (rule.regex.test(path)) included = rule.include;
    return included;
  };
}

export interface ImageTreeOptions {
  repoRoot: string;
  dockerfile: Dockerfile;
  /** Stages to lay out, e.g. ['operator', 'broker']; stages they derive or copy from come first. */
  targets: string[];
  /** Scratch folder: gets one stage-<name>/ folder per stage, each standing for that stage's /. */
  scratch: string;
}

export interface ImageTree {
  /** The target stage's / in the scratch folder. */
  root: string;
  /** Maps an absolute path inside the image to the scratch folder. */
  hostPath(imagePath: string): string;
  /** Commands RUN in the runtime stages, as the test replayed them. */
  replayed: string[];
  /** Container WORKDIR of the target. */
  workdir: string;
}

const COMPILE_STAGE_COMMANDS = /^npm (ci|run build)\b/;

/**
 * Replays the target's stages: stages that compile run `npm run build` in scratch/build (with the
 * repository's node_modules standing in for `npm ci`); runtime stages copy from there and from the
 * filtered context, and their RUN steps (ln, mkdir, chown) are re-done on scratch/root.
 */
export async function layOutImages(options: ImageTreeOptions): Promise<Record<string, ImageTree>> {
  const { repoRoot, dockerfile, targets, scratch } = options;
  const keep = contextFilter(readFileSync(join(repoRoot, '.dockerignore'), 'utf8'));
  const stageRoots = new Map<string, string>();
  const hostPath = (base: string, imagePath: string) => join(base, imagePath);
  const replayed: string[] = [];

  async function layOut(name: string): Promise<string> {
    const known = stageRoots.get(name);
    if (known) return known;
    const s = stage(dockerfile, name);
    const parent = dockerfile.stages.some((p) => p.name === s.from) ? await layOut(s.from) : undefined;
    // A stage starts as a copy of its parent stage's filesystem, or empty when FROM an image.
    const base = join(scratch, `stage-${name}`);
    if (parent) await cp(parent, base, { recursive: true, verbatimSymlinks: true });
    else await mkdir(base, { recursive: true });
    stageRoots.set(name, base);
    let workdir = parent ? (effective(dockerfile, s.from, 'WORKDIR')?.args ?? '/') : '/';
    for (const instruction of s.instructions) {
      if (instruction.keyword === 'WORKDIR') {
        workdir = resolve(workdir, instruction.args);
        await mkdir(join(base, workdir), { recursive: true });
      } else if (instruction.keyword === 'COPY') {
        const copy = parseCopy(instruction);
        const dest = join(base, resolve(workdir, copy.dest));
        const intoFolder = copy.dest.endsWith('/') || copy.sources.length > 1;
        for (const source of copy.sources) {
          const from = copy.from ? join(await layOut(copy.from), source) : join(repoRoot, source);
          if (!existsSync(from))
            throw new Error(`COPY at line ${instruction.line}: ${source} does not exist`);
          if (!copy.from && !keep(source)) {
            throw new Error(`COPY at line ${instruction.line}: ${source} is excluded by .dockerignore`);
          }
          // Docker copies a folder's contents to dest, and a file to dest (or into it, for dest/).
          const to = statSync(from).isDirectory() || !intoFolder ? dest : join(dest, basename(source));
          await mkdir(dirname(to), { recursive: true });
          await cp(from, to, {
            recursive: true,
            verbatimSymlinks: true,
            filter: (path) => copy.from !== undefined || keep(relative(repoRoot, path) || source),
          });
        }
      } else if (instruction.keyword === 'RUN') {
        await replayRun(instruction, base, workdir);
      }
    }
    return base;
  }

  async function replayRun(instruction: Instruction, base: string, workdir: string) {
    const commands = instruction.args.split('&&').map((c) => c.trim());
    for (const command of commands) {
      replayed.push(command);
      const words = command.split(/\s+/);
      if (/^apt-get |^rm -rf \/var\/lib\/apt\/lists/.test(command) || command === 'npm cache clean --force') {
        continue; // Package installs: checked statically (tini), not replayable here.
      }
      if (COMPILE_STAGE_COMMANDS.test(command)) {
        const app = hostPath(base, workdir);
        if (words[1] === 'ci') {
          // The repository's installed node_modules stand in for npm ci (same lock file).
          if (!existsSync(join(app, 'node_modules'))) {
            await symlink(join(repoRoot, 'node_modules'), join(app, 'node_modules'), 'dir');
          }
        } else {
          await execFileAsync('npm', ['run', 'build'], { cwd: app, maxBuffer: 16 * 1024 * 1024 }).catch(
            (error: { stdout?: string; stderr?: string; message: string }) => {
              const output = `${error.stdout ?? ''}${error.stderr ?? ''}`
                .trim()
                .split('\n')
                .slice(-40)
                .join('\n');
              throw new Error(`RUN npm run build (Dockerfile line ${instruction.line}) failed:\n${output}`);
            },
          );
        }
        continue;
      }
      if (words[0] === 'ln' && words[1] === '-s' && words.length === 4) {
        const link = hostPath(base, words[3]);
        await mkdir(dirname(link), { recursive: true });
        // Relative link inside the scratch root, so it resolves there as it would in the image.
        await symlink(relative(dirname(link), hostPath(base, words[2])), link);
        continue;
      }
      if (words[0] === 'mkdir' && words[1] === '-p') {
        for (const dir of words.slice(2)) await mkdir(hostPath(base, dir), { recursive: true });
        continue;
      }
      if (words[0] === 'chown') continue; // Ownership is checked statically against USER.
      throw new Error(
        `RUN at line ${instruction.line}: the test cannot replay "${command}"; teach layOutImages`,
      );
    }
  }

  const trees: Record<string, ImageTree> = {};
  for (const target of targets) {
    const targetRoot = await layOut(target);
    trees[target] = {
      root: targetRoot,
      hostPath: (imagePath) => hostPath(targetRoot, imagePath),
      replayed,
      workdir: effective(dockerfile, target, 'WORKDIR')?.args ?? '/',
    };
  }
  return trees;
}
