// Types of tooling/bundles.js (plain JavaScript: program.js and the provider
// load it before anything can compile TypeScript).
export interface BundleSpec {
  name: string;
  entry: string;
  /** npm packages loaded from node_modules at run time; the others are built in. */
  external?: string[];
  target: string;
  banner?: string;
}
export interface Bundle {
  path: string;
  sha256: string;
}
export const BUNDLES: Record<"program" | "provider" | "host", BundleSpec>;
export const PROJECT_ROOT: string;
export function freshBundle(spec: BundleSpec, root?: string): Bundle;
export function freshSha(spec: BundleSpec, root?: string): string | undefined;
export function build(spec: BundleSpec, root?: string): string;
export function sha256(content: string | Buffer): string;
