#!/usr/bin/env node
// @ts-check
// A Node.js language host for the Pulumi CLI, standing in for the Go binary
// `pulumi-language-nodejs`, whose module the Go proxy here refuses (403 on
// github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3, every version).
//
// A language host only launches the program: the CLI asks it to `Run`, and it
// starts `@pulumi/pulumi/cmd/run` from the project's own node_modules with the
// same flags and environment the Go host passes (PULUMI_CONFIG,
// PULUMI_CONFIG_SECRET_KEYS, PULUMI_NODEJS_TYPESCRIPT, ...). Everything else
// (ts-node, config, stack outputs, resource registration) is the real SDK.
// Where the real host is installed (any normal Pulumi install), it is used
// instead: the CLI takes the first `pulumi-language-nodejs` on $PATH.
"use strict";

const fs = require("fs");
const path = require("path");
const { spawn } = require("child_process");

const VERSION = process.env.CONDUCTOR_LANGUAGE_HOST_VERSION || "3.248.0";

/** Loads a module from the project the CLI started us in, so we use its SDK. */
function fromProject(id) {
  return require(require.resolve(id, { paths: [process.cwd(), __dirname] }));
}

const grpc = fromProject("@grpc/grpc-js");
const langrpc = fromProject("@pulumi/pulumi/proto/language_grpc_pb.js");
const langproto = fromProject("@pulumi/pulumi/proto/language_pb.js");
const pluginproto = fromProject("@pulumi/pulumi/proto/plugin_pb.js");

/** The engine address is the last positional argument (flags may precede it). */
function engineAddress(argv) {
  const positional = argv.filter((a) => !a.startsWith("-"));
  return positional.length > 0 ? positional[positional.length - 1] : "";
}

/** Runtime options from Pulumi.yaml (`runtime.options`), as a plain object. */
function runtimeOptions(req) {
  const info = req.getInfo();
  const options = info && info.getOptions();
  return options ? options.toJavaScript() : {};
}

function runArguments(req, engine, runPath, options) {
  const args = [...(options.nodeargs ? String(options.nodeargs).split(/\s+/) : []), runPath];
  const flag = (name, value) => {
    if (value !== undefined && value !== null && value !== "")
      args.push(`--${name}`, String(value));
  };
  flag("monitor", req.getMonitorAddress());
  flag("engine", engine);
  flag("organization", req.getOrganization());
  flag("project", req.getProject());
  flag("stack", req.getStack());
  flag("pwd", req.getPwd());
  const info = req.getInfo();
  flag("root-directory", info && info.getRootDirectory());
  if (req.getDryrun()) args.push("--dry-run");
  flag("parallel", req.getParallel());
  args.push(req.getProgram() || ".", ...req.getArgsList());
  return args;
}

function runEnvironment(req, options) {
  const config = {};
  for (const [key, value] of req.getConfigMap().entries()) config[key] = value;
  const env = {
    ...process.env,
    PULUMI_CONFIG: JSON.stringify(config),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.getConfigsecretkeysList()),
    PULUMI_NODEJS_TYPESCRIPT: String(options.typescript !== false),
  };
  if (options.tsconfig) env.PULUMI_NODEJS_TSCONFIG_PATH = String(options.tsconfig);
  return env;
}

function makeRun(engine) {
  return (call, callback) => {
    const req = call.request;
    const options = runtimeOptions(req);
    const pwd = req.getPwd() || process.cwd();
    let runPath;
    try {
      runPath = require.resolve("@pulumi/pulumi/cmd/run", { paths: [pwd] });
    } catch {
      const resp = new langproto.RunResponse();
      resp.setError(
        "It looks like the Pulumi SDK has not been installed. Have you run npm install?",
      );
      return callback(null, resp);
    }
    const child = spawn(process.execPath, runArguments(req, engine, runPath, options), {
      cwd: pwd,
      env: runEnvironment(req, options),
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.on("error", (err) => {
      const resp = new langproto.RunResponse();
      resp.setError(`could not run the program: ${err.message}`);
      callback(null, resp);
    });
    child.on("exit", (code, signal) => {
      const resp = new langproto.RunResponse();
      // Exit code 32 is the SDK's "error already reported": tell the engine to bail quietly.
      if (code === 32) resp.setBail(true);
      else if (code !== 0)
        resp.setError(`Program exited with non-zero exit code: ${code ?? signal}`);
      callback(null, resp);
    });
  };
}

/**
 * The analyzer entry point installed next to this host (toolchain/pulumi-analyzer-policy.js,
 * without its extension once installed).
 */
function analyzerEntryPoint() {
  for (const name of ["pulumi-analyzer-policy", "pulumi-analyzer-policy.js"]) {
    const candidate = path.join(__dirname, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * RunPlugin: the CLI asks the language host to start a plugin written in its
 * language whenever it finds one (pulumi/pulumi sdk/go/common/resource/plugin
 * analyzer_plugin.go, NewPolicyAnalyzer): for a Node.js policy pack, that is
 * every `--policy-pack`. We run the analyzer entry point in the pack's
 * directory, as the CLI itself runs it when there is no language host, and
 * stream its output back; the CLI reads the analyzer's port from it.
 */
function runPlugin(call) {
  const req = call.request;
  const fail = (code, details) => call.emit("error", { code, details });
  if (req.getKind() !== "analyzer")
    return fail(grpc.status.UNIMPLEMENTED, `this language host runs no ${req.getKind()} plugins`);
  const entry = analyzerEntryPoint();
  if (!entry)
    return fail(grpc.status.NOT_FOUND, `pulumi-analyzer-policy is not next to ${__filename}`);
  const env = { ...process.env };
  for (const pair of req.getEnvList()) {
    const cut = pair.indexOf("=");
    if (cut > 0) env[pair.slice(0, cut)] = pair.slice(cut + 1);
  }
  // The pack's directory is the program's (ProgramInfo); pwd is the project's.
  const info = req.getInfo();
  const dir = (info && info.getProgramDirectory()) || req.getProgram();
  const child = spawn(process.execPath, [entry, ...req.getArgsList(), "."], {
    cwd: dir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const send = (fill) => {
    const resp = new langproto.RunPluginResponse();
    fill(resp);
    call.write(resp);
  };
  child.stdout.on("data", (c) => send((r) => r.setStdout(c)));
  child.stderr.on("data", (c) => send((r) => r.setStderr(c)));
  child.on("error", (err) => fail(grpc.status.INTERNAL, `could not run ${entry}: ${err.message}`));
  child.on("close", (code, signal) => {
    send((r) => r.setExitcode(code ?? (signal ? 128 : 1)));
    call.end();
  });
  // The CLI cancels the call when it is done with the analyzer.
  call.on("cancelled", () => child.kill("SIGTERM"));
}

function empty(ResponseType, fill) {
  return (_call, callback) => {
    const resp = new ResponseType();
    if (fill) fill(resp);
    callback(null, resp);
  };
}

function main() {
  const server = new grpc.Server();
  server.addService(langrpc.LanguageRuntimeService, {
    run: makeRun(engineAddress(process.argv.slice(2))),
    // Plugins are found on $PATH or through Pulumi.yaml, never downloaded here.
    getRequiredPlugins: empty(langproto.GetRequiredPluginsResponse),
    getRequiredPackages: empty(langproto.GetRequiredPackagesResponse),
    getProgramDependencies: empty(langproto.GetProgramDependenciesResponse),
    getPluginInfo: empty(pluginproto.PluginInfo, (r) => r.setVersion(VERSION)),
    about: empty(langproto.AboutResponse, (r) => {
      r.setExecutable(process.execPath);
      r.setVersion(process.version);
    }),
    installDependencies: (call) => call.end(),
    runPlugin,
  });
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
      console.error(`language host could not listen: ${err.message}`);
      process.exit(1);
    }
    // The CLI reads the port from our first line of output.
    process.stdout.write(`${port}\n`);
  });
}

main();
