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
