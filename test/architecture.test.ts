// The one-way module dependencies of the README's layout, checked on every import of the product's
// sources: a new edge must be a decision written here, not an accident.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

/** Module → the project modules it may import (besides itself). `main` files may import anything in their tree. */
const ALLOWED: Record<string, readonly string[]> = {
  'broker-image/common': [],
  'broker-image/message': [],
  'broker-image/protocol': [],
  'broker-image/store': ['broker-image/common', 'broker-image/message'],
  'broker-image/remoting': ['broker-image/protocol', 'broker-image/common'],
  'broker-image/namesrv': ['broker-image/remoting', 'broker-image/protocol', 'broker-image/common'],
  'broker-image/broker': [
    'broker-image/store',
    'broker-image/remoting',
    'broker-image/protocol',
    'broker-image/common',
    'broker-image/message',
  ],
  'broker-image/client': [
    'broker-image/remoting',
    'broker-image/protocol',
    'broker-image/common',
    'broker-image/message',
  ],
  'broker-image/cli': ['broker-image/client', 'broker-image/protocol', 'broker-image/common'],
  'operator/api': [],
  'operator/desired': ['operator/api'],
  'operator/status': ['operator/api', 'operator/desired'],
  'operator/kube': [],
  'operator/http': [],
  // The operator talks to brokers only through the RocketMQ client, never store or broker internals.
  'operator/controller': [
    'operator/api',
    'operator/desired',
    'operator/status',
    'broker-image/client',
    'broker-image/protocol',
    'broker-image/remoting',
  ],
  'operator/autoscale': [
    'operator/api',
    'operator/desired',
    'operator/controller',
    'broker-image/client',
    'broker-image/protocol',
    'broker-image/remoting',
  ],
};

/** Node built-ins a pure module may still use (no sockets, files or timers). */
const PURE_MODULE_BUILTINS = ['node:buffer', 'node:zlib', 'node:net', 'node:util', 'node:crypto'];

interface SourceFile {
  path: string;
  module: string;
  imports: string[];
}

function moduleOf(path: string): string {
  const parts = relative(ROOT, path).split(sep);
  // broker-image/src/<module>/… or operator/src/<module>/…; files directly in src/ are "main".
  return parts.length > 3 ? `${parts[0]}/${parts[2]}` : `${parts[0]}/main`;
}

function sourceFiles(dir: string): SourceFile[] {
  const out: SourceFile[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) {
      const text = readFileSync(path, 'utf8');
      const imports = [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]);
      out.push({ path, module: moduleOf(path), imports });
    }
  }
  return out;
}

const files = [...sourceFiles(join(ROOT, 'broker-image/src')), ...sourceFiles(join(ROOT, 'operator/src'))];

function projectImports(file: SourceFile): string[] {
  return file.imports.filter((s) => s.startsWith('.')).map((s) => moduleOf(resolve(dirname(file.path), s)));
}

describe('module dependencies', () => {
  it('every module is in the table, so a new one must state its dependencies', () => {
    const modules = new Set(files.map((f) => f.module).filter((m) => !m.endsWith('/main')));
    expect([...modules].filter((m) => !(m in ALLOWED))).toEqual([]);
  });

  it('imports follow the allowed edges', () => {
    const violations: string[] = [];
    for (const file of files) {
      if (file.module.endsWith('/main')) continue;
      for (const target of projectImports(file)) {
        if (target === file.module || ALLOWED[file.module]?.includes(target)) continue;
        violations.push(`${relative(ROOT, file.path)} → ${target}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('only operator/kube imports @kubernetes/client-node', () => {
    const importers = files
      .filter((f) => f.imports.some((s) => s.startsWith('@kubernetes/client-node')))
      .map((f) => f.module);
    expect([...new Set(importers)]).toEqual(['operator/kube']);
  });

  it('the pure codecs and builders do no I/O', () => {
    const pure = ['broker-image/protocol', 'broker-image/message', 'operator/desired', 'operator/status'];
    const offending = files
      .filter((f) => pure.includes(f.module))
      .flatMap((f) =>
        f.imports
          .filter((s) => s.startsWith('node:') && !PURE_MODULE_BUILTINS.includes(s))
          .map((s) => `${relative(ROOT, f.path)} imports ${s}`),
      );
    expect(offending).toEqual([]);
  });
});
