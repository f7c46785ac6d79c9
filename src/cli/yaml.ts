// YAML for the CLI, loaded on demand (`await import('./yaml.ts')`). A module of our own, not
// `import('yaml')` directly: the build turns a dynamically imported CommonJS package into a
// chunk with only a default export, where this module's named exports survive.
import { stringify as yamlStringify } from 'yaml';

export { parse } from 'yaml';

/**
 * YAML text of a value, every object and array written out where it appears: never an anchor
 * and alias (`&a1` / `*a1`) for one that appears twice, which readers of a report (and tools
 * that do not resolve aliases) would have to follow.
 */
export function stringify(value: unknown): string {
  return yamlStringify(value, { aliasDuplicateObjects: false });
}
