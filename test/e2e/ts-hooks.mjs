/**
 * Module hooks that let a child `node` process run the repository's TypeScript sources as
 * they are now, without a build (the end-to-end tests start `provenance serve` this way).
 * `.js` specifiers that do not exist resolve to the `.ts` beside them, as tsc maps them;
 * `.ts` files are transpiled one by one with TypeScript's transpileModule (no type check).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const options = {
  module: ts.ModuleKind.ESNext,
  target: ts.ScriptTarget.ES2022,
  verbatimModuleSyntax: true,
  inlineSourceMap: true,
};

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    const relative = specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('file:');
    if (relative && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts'))
      return next(`${specifier.slice(0, -3)}.ts`, context);
    throw err;
  }
}

export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  const fileName = fileURLToPath(url);
  const source = await readFile(fileName, 'utf8');
  const { outputText } = ts.transpileModule(source, { fileName, compilerOptions: options });
  return { format: 'module', source: outputText, shortCircuit: true };
}
