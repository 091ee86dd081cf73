/**
 * The one architectural rule as a check (docs/design.md): code under `src/` uses web standards only, so the same
 * core runs on Node, Deno, Bun and Cloudflare Workers. A violation is any of:
 *
 * - a Node built-in module, with or without the `node:` scheme (`node:fs`, `fs`, `node:crypto` …);
 * - a package that only works on Node (native addons, Node sockets/HTTP2, Node's HTTP server);
 * - `postgres` other than type-only (the store takes a `Sql` instance the adapter built);
 * - a Node global used as a value (`process`, `Buffer`, `require`, `__dirname`, `__filename`, `global`).
 *
 * Parsed with the TypeScript compiler, so static imports, re-exports, `import x = require()`, dynamic `import()`
 * and `require()` calls are all seen, and type-only imports (erased from the output) are told apart.
 */
import { builtinModules } from "node:module";
import ts from "typescript";

/** Packages that need Node itself (native addons, node:net/http2/worker_threads, Node's http server). */
export const NODE_ONLY_PACKAGES = [
  "better-sqlite3",
  "ioredis",
  "@grpc/grpc-js",
  "@opentelemetry/exporter-trace-otlp-grpc",
  // Its Node entry is built on node:http/https (see src/observability/trace-exporter-http.ts for the fetch one).
  "@opentelemetry/exporter-trace-otlp-http",
  "@opentelemetry/sdk-trace-node",
  "@hono/node-server",
  "pyodide",
  "undici",
  "ws",
];

/** Allowed as `import type` only: the adapter constructs the client, the core only names its type. */
export const TYPE_ONLY_PACKAGES = ["postgres"];

const NODE_GLOBALS = new Set(["process", "Buffer", "require", "__dirname", "__filename", "global"]);
const BUILTINS = new Set(builtinModules.filter((name) => !name.startsWith("_")));

export interface Violation {
  file: string;
  line: number;
  message: string;
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

function specifierProblem(specifier: string, typeOnly: boolean): string | null {
  if (specifier.startsWith(".") || specifier.startsWith("/")) return null;
  if (specifier.startsWith("node:")) return `imports the Node built-in ${JSON.stringify(specifier)}`;
  const pkg = packageName(specifier);
  if (BUILTINS.has(pkg)) return `imports the Node built-in ${JSON.stringify(specifier)} (bare name)`;
  if (specifier.startsWith("bun:") || specifier.startsWith("cloudflare:") || specifier.startsWith("deno:")) {
    return `imports the runtime-specific module ${JSON.stringify(specifier)}`;
  }
  if (NODE_ONLY_PACKAGES.includes(pkg)) return `imports the Node-only package ${JSON.stringify(pkg)}`;
  if (TYPE_ONLY_PACKAGES.includes(pkg) && !typeOnly) return `imports ${JSON.stringify(pkg)} as a value (only \`import type\` is allowed in src/)`;
  return null;
}

/** `import type {…}`, or `import { type A, type B }` with every binding type-only and no default/namespace. */
function isTypeOnlyImport(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (clause === undefined) return false; // side-effect import: always a value import
  if (clause.isTypeOnly) return true;
  if (clause.name !== undefined) return false;
  const bindings = clause.namedBindings;
  if (bindings === undefined || !ts.isNamedImports(bindings)) return false;
  return bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
}

function isTypeOnlyExport(node: ts.ExportDeclaration): boolean {
  if (node.isTypeOnly) return true;
  const clause = node.exportClause;
  return clause !== undefined && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly);
}

/** An identifier naming a Node global as a value, not a property name, a declaration or a type. */
function isGlobalValueUse(node: ts.Identifier): boolean {
  if (!NODE_GLOBALS.has(node.text)) return false;
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) return false;
  if (ts.isQualifiedName(parent)) return false;
  if ((ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent) || ts.isPropertySignature(parent) || ts.isMethodDeclaration(parent) || ts.isMethodSignature(parent)) && parent.name === node) return false;
  if ((ts.isVariableDeclaration(parent) || ts.isParameter(parent) || ts.isBindingElement(parent) || ts.isFunctionDeclaration(parent)) && parent.name === node) return false;
  if (ts.isImportSpecifier(parent) || ts.isExportSpecifier(parent) || ts.isImportClause(parent) || ts.isNamespaceImport(parent)) return false;
  if (ts.isBindingElement(parent) && parent.propertyName === node) return false;
  if (ts.isTypeReferenceNode(parent) || ts.isTypeQueryNode(parent)) return false;
  return true;
}

export function findViolations(file: string, source: string): Violation[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const violations: Violation[] = [];
  const report = (node: ts.Node, message: string): void => {
    violations.push({ file, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, message });
  };
  const checkSpecifier = (node: ts.Node, literal: ts.Expression | undefined, typeOnly: boolean): void => {
    if (literal === undefined) return;
    if (!ts.isStringLiteralLike(literal)) {
      // A computed specifier cannot be checked, so it is not allowed in the core at all.
      report(node, "uses a computed module specifier");
      return;
    }
    const problem = specifierProblem(literal.text, typeOnly);
    if (problem !== null) report(node, problem);
  };

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      checkSpecifier(node, node.moduleSpecifier, isTypeOnlyImport(node));
    } else if (ts.isExportDeclaration(node)) {
      checkSpecifier(node, node.moduleSpecifier, isTypeOnlyExport(node));
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      checkSpecifier(node, node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      checkSpecifier(node, node.arguments[0], false);
    } else if (ts.isImportTypeNode(node)) {
      // `import("postgres").Sql` in a type position: types only, erased.
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg) && ts.isStringLiteral(arg.literal)) {
        const problem = specifierProblem(arg.literal.text, true);
        if (problem !== null) report(node, problem);
      }
    } else if (ts.isIdentifier(node) && isGlobalValueUse(node)) {
      report(node, `uses the Node global \`${node.text}\``);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);

  for (const ref of sf.typeReferenceDirectives) {
    if (ref.fileName === "node") violations.push({ file, line: sf.getLineAndCharacterOfPosition(ref.pos).line + 1, message: 'references types="node"' });
  }
  return violations;
}
