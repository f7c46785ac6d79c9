// YAML for the CLI, loaded on demand (`await import('./yaml.ts')`). A module of our own, not
// `import('yaml')` directly: the build turns a dynamically imported CommonJS package into a
// chunk with only a default export, where this module's named exports survive.
export { parse, stringify } from 'yaml';
