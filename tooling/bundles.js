// @ts-check
// Cached esbuild bundles of our TypeScript, so a deploy does not compile it at
// every start. Each bundle lives in dist/ (gitignored) beside a manifest of
// every source file that went into it, with its SHA-256: a bundle is reused
// only while each of those files still hashes the same, and is rebuilt (in a
// few tens of milliseconds) as soon as one changes, is added to an import
// chain (its importer changed) or is gone. Hashing contents, not mtimes, keeps
// a checkout, `git stash` or a copy with old timestamps from running stale code.
//
// Plain JavaScript, loaded without any compiler: it is the first thing the
// program and the provider run. esbuild itself loads only to rebuild.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

/**
 * The project's root. This file is in tooling/ and, bundled into the program
 * (through tooling/host-bundle.ts), in dist/: one level below the root either way.
 */
const PROJECT_ROOT = path.resolve(__dirname, "..");
const SELF = "tooling/bundles.js";
/** Bump when the manifest's shape changes. */
const MANIFEST_VERSION = 2;

/** @param {string | Buffer} content */
function sha256(content) {
  return crypto.createHash("sha256").update(content).digest("hex");
}

/**
 * @typedef {object} BundleSpec
 * @property {string} name file name in dist/, without .js
 * @property {string} entry entry point, relative to the project root
 * @property {string[]} [external] npm packages loaded from node_modules at run time (esbuild's
 *   `external`); the others are built in
 * @property {string} target esbuild target, e.g. node20
 * @property {string} [banner] first line of the output (a shebang)
 */

/**
 * What a bundle depends on besides its sources: how it is built (the spec,
 * this file, the esbuild version) and where (bundles hold absolute paths).
 * @param {BundleSpec} spec
 * @param {string} root
 */
function buildKey(spec, root) {
  const esbuildVersion = JSON.parse(
    fs.readFileSync(require.resolve("esbuild/package.json", { paths: [PROJECT_ROOT] }), "utf8"),
  ).version;
  return sha256(
    JSON.stringify([
      MANIFEST_VERSION,
      spec,
      esbuildVersion,
      root,
      sha256(fs.readFileSync(path.join(PROJECT_ROOT, SELF))),
    ]),
  );
}

/**
 * @param {BundleSpec} spec
 * @param {string} root
 */
function pathsOf(spec, root) {
  const dist = path.join(root, "dist");
  return {
    dist,
    output: path.join(dist, `${spec.name}.js`),
    manifest: path.join(dist, `${spec.name}.manifest.json`),
  };
}

/**
 * Whether the bundle on disk was built from exactly the sources on disk now.
 * @param {BundleSpec} spec
 * @param {string} root
 * @returns {string | undefined} the bundle's SHA-256 when it is fresh
 */
function freshSha(spec, root = PROJECT_ROOT) {
  const { output, manifest } = pathsOf(spec, root);
  let recorded;
  try {
    recorded = JSON.parse(fs.readFileSync(manifest, "utf8"));
  } catch {
    return undefined; // never built, or a half-written manifest
  }
  if (recorded.key !== buildKey(spec, root)) return undefined;
  for (const [file, hash] of Object.entries(recorded.inputs)) {
    try {
      if (sha256(fs.readFileSync(path.join(root, file))) !== hash) return undefined;
    } catch {
      return undefined; // a source is gone: rebuild, and let esbuild say what is missing
    }
  }
  try {
    const actual = sha256(fs.readFileSync(output));
    return actual === recorded.output ? actual : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Our own sources in a bundle must not find files relative to themselves:
 * bundled, `__dirname` is dist/ for all of them (this file allows for that).
 * @param {string[]} sources paths relative to the project root
 * @param {string} root
 */
function refuseLocationDependentSources(sources, root) {
  const offenders = sources.filter(
    (file) =>
      !file.startsWith("node_modules/") &&
      file !== SELF &&
      /\b__(dirname|filename)\b/.test(fs.readFileSync(path.join(root, file), "utf8")),
  );
  if (offenders.length > 0)
    throw new Error(
      `${offenders.join(", ")}: uses __dirname or __filename, which in a bundle in dist/ ` +
        `names dist/, not the source's folder; find files from the project root instead`,
    );
}

/**
 * npm's record of what it installed: it rewrites this file at every install,
 * with each package's version and integrity hash.
 */
const INSTALLED = "node_modules/.package-lock.json";

/**
 * The files whose hashes decide whether a bundle is fresh: our sources one by
 * one, and for the npm packages built in, npm's record of what is installed
 * instead of their ~350 files (the provider's bundle), whose hashing cost
 * 30-60 ms of every provider start. A package edited by hand in node_modules
 * goes unseen: `rm -rf dist` rebuilds.
 * @param {string[]} sources
 * @param {string} root
 */
function recordedInputs(sources, root) {
  const ours = sources.filter((file) => !file.startsWith("node_modules/"));
  if (ours.length === sources.length || !fs.existsSync(path.join(root, INSTALLED))) return sources;
  return [...ours, INSTALLED];
}

/** Writes a file so that a concurrent reader sees the old content or the new, never half. */
function writeAtomically(/** @type {string} */ file, /** @type {string} */ content, mode = 0o644) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode });
  fs.renameSync(tmp, file);
}

/**
 * Builds the bundle and records what it was built from.
 * @param {BundleSpec} spec
 * @param {string} root
 * @returns {string} the bundle's SHA-256
 */
function build(spec, root = PROJECT_ROOT) {
  // Loaded here only: esbuild starts a service process, ~0.1-0.4 s.
  const esbuild = require(require.resolve("esbuild", { paths: [PROJECT_ROOT] }));
  const key = buildKey(spec, root);
  const result = esbuild.buildSync({
    absWorkingDir: root,
    entryPoints: [spec.entry],
    bundle: true,
    external: spec.external,
    platform: "node",
    target: spec.target,
    format: "cjs",
    banner: spec.banner ? { js: spec.banner } : undefined,
    metafile: true,
    write: false,
    // Errors come back in the thrown error, printed once by whoever runs the program.
    logLevel: "silent",
  });
  const sources = Object.keys(result.metafile.inputs);
  refuseLocationDependentSources(sources, root);
  const code = result.outputFiles[0].text;
  const inputs = Object.fromEntries(
    recordedInputs(sources, root).map((file) => [
      file,
      sha256(fs.readFileSync(path.join(root, file))),
    ]),
  );
  const { dist, output, manifest } = pathsOf(spec, root);
  fs.mkdirSync(dist, { recursive: true });
  writeAtomically(output, code, 0o755);
  const outputSha = sha256(code);
  writeAtomically(manifest, JSON.stringify({ key, output: outputSha, inputs }, null, 1));
  return outputSha;
}

/**
 * The bundle for `spec`, rebuilt first if any of its sources changed.
 * @param {BundleSpec} spec
 * @param {string} root the project (tests use their own)
 * @returns {{ path: string, sha256: string }}
 */
function freshBundle(spec, root = PROJECT_ROOT) {
  const sha = freshSha(spec, root) ?? build(spec, root);
  return { path: pathsOf(spec, root).output, sha256: sha };
}

/** @type {Record<"program" | "provider" | "host", BundleSpec>} */
const BUNDLES = {
  // The Pulumi program (program.js). The SDK stays outside: the program must
  // share the one @pulumi/pulumi the SDK's launcher already loaded. The other
  // packages are built in: zod alone is 71 files to find and load, ~20 ms of
  // every deploy's start, which waits for the program's first resource.
  program: {
    name: "program",
    entry: "index.ts",
    external: ["@pulumi/pulumi", "@pulumi/pulumi/*"],
    target: "node20",
  },
  // The resource provider (provider/bin/pulumi-resource-fleet), its npm
  // packages built in: a process of its own, sharing nothing with the program.
  // Node.js then reads one file, not ~250 (the SDK's provider server, gRPC,
  // protobuf): it answers ~0.1 s sooner, and every deploy waits for it.
  provider: { name: "provider", entry: "provider/main.ts", target: "node20" },
  // The host command, copied to every host (which has only Node.js): all in one file.
  host: {
    name: "conductor-host",
    entry: "host/main.ts",
    target: "node18",
    banner: "#!/usr/bin/env node",
  },
};

module.exports = { BUNDLES, PROJECT_ROOT, freshBundle, freshSha, build, sha256 };
