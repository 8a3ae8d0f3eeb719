/**
 * The flow templates shipped in flows/templates/<name>/ (flows.json + README.md):
 * the default flow that reproduces the built-in policy and the municipality examples.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type FlowNode, normalizeFlows } from './diff.js';

export interface FlowTemplate {
  name: string;
  /** First heading of the README. */
  title: string;
  readme: string;
  flows: FlowNode[];
}

export function templatesDir(nodesDir: string): string {
  return path.join(nodesDir, 'templates');
}

export function listTemplates(nodesDir: string): FlowTemplate[] {
  const dir = templatesDir(nodesDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(dir, e.name, 'flows.json')))
    .map((e) => loadTemplate(nodesDir, e.name))
    .sort((a, b) => (a.name === 'default' ? -1 : b.name === 'default' ? 1 : a.name.localeCompare(b.name)));
}

export function loadTemplate(nodesDir: string, name: string): FlowTemplate {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`"${name}" is not a template name (lowercase letters, digits and dashes)`);
  const dir = path.join(templatesDir(nodesDir), name);
  const file = path.join(dir, 'flows.json');
  if (!existsSync(file)) {
    const known = existsSync(templatesDir(nodesDir)) ? readdirSync(templatesDir(nodesDir)).join(', ') : 'none';
    throw new Error(`no flow template "${name}" in ${templatesDir(nodesDir)} (known: ${known})`);
  }
  let flows: FlowNode[];
  try {
    flows = normalizeFlows(JSON.parse(readFileSync(file, 'utf8')) as unknown);
  } catch (err) {
    throw new Error(`flow template ${file} is not a valid flow configuration: ${(err as Error).message}`);
  }
  const readmeFile = path.join(dir, 'README.md');
  const readme = existsSync(readmeFile) ? readFileSync(readmeFile, 'utf8') : '';
  const title = /^#\s+(.+)$/m.exec(readme)?.[1]?.trim() ?? name;
  return { name, title, readme, flows };
}
