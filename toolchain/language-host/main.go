// A Node.js language host for the Pulumi CLI, standing in for the official
// `pulumi-language-nodejs`, whose module the Go proxy here refuses (403 on
// github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3, every version).
//
// A language host only launches the program: the CLI asks it to `Run`, and it
// starts `@pulumi/pulumi/cmd/run` from the project's own node_modules with the
// same flags and environment the official host passes (PULUMI_CONFIG,
// PULUMI_CONFIG_SECRET_KEYS, PULUMI_NODEJS_TYPESCRIPT, ...). Everything else
// (config, stack outputs, resource registration) is the real SDK.
//
// In Go, not Node.js, for its start: the CLI starts a language host twice per
// `pulumi up` or `preview` (once for `About`, which the update waits for, then
// once to run the program), and a Node.js host loading gRPC and the SDK's
// protobufs took 0.25-0.5 s each time; this one starts in milliseconds.
// Where the official host is installed (any normal Pulumi install), it is used
// instead: the CLI takes the first `pulumi-language-nodejs` on $PATH.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
)

// version is set at build time (-ldflags -X main.version=...) to the CLI's.
var version = "0.0.0"

// The SDK's program launcher, found from the project's directory upwards as
// Node.js resolves packages.
const launcher = "node_modules/@pulumi/pulumi/cmd/run"

// Exit status the SDK uses for "error already reported": the engine bails quietly.
const sdkBailExitCode = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engine string
}

func main() {
	h := &host{engine: engineAddress(os.Args[1:])}
	exitWhenEngineGone(h.engine)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(s *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(s, h)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "language host could not listen: %v\n", err)
		os.Exit(1)
	}
	// The CLI reads the port from our first line of output.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "language host: %v\n", err)
		os.Exit(1)
	}
}

// exitWhenEngineGone asks the engine once a second whether it is still there,
// as Pulumi's own plugins do (rpcutil.Healthcheck), and exits when it is not.
// The CLI never says goodbye when it is killed: one `pulumi up` killed with
// SIGKILL (a cancelled CI job, the interrupted-deploy tests) left this
// process running for good, re-parented to init (seven after one e2e run).
// A program it started sees its own engine connection fail and exits too.
func exitWhenEngineGone(engine string) {
	if engine == "" {
		return
	}
	ctx, gone := context.WithCancel(context.Background())
	if err := rpcutil.Healthcheck(ctx, engine, time.Second, gone); err != nil {
		return
	}
	go func() {
		<-ctx.Done()
		fmt.Fprintln(os.Stderr, "language host: the engine is gone; exiting")
		os.Exit(1)
	}()
}

// engineAddress is the last positional argument (flags may precede it).
func engineAddress(args []string) string {
	address := ""
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			address = a
		}
	}
	return address
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// Plugins are found on $PATH or through Pulumi.yaml, never downloaded here.
func (h *host) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) GetProgramDependencies(
	context.Context, *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

func (h *host) InstallDependencies(
	*pulumirpc.InstallDependenciesRequest, grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	return nil
}

// About names the node on $PATH, the one that runs the program. Its version is
// not asked (that would start Node.js once more): the CLI only records it.
func (h *host) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node is not on $PATH: %w", err)
	}
	return &pulumirpc.AboutResponse{Executable: node}, nil
}

// runtimeOptions are Pulumi.yaml's `runtime.options`.
func runtimeOptions(info *pulumirpc.ProgramInfo) map[string]any {
	if info == nil || info.GetOptions() == nil {
		return map[string]any{}
	}
	return info.GetOptions().AsMap()
}

// findLauncher looks for the SDK's launcher in dir's node_modules and its parents'.
func findLauncher(dir string) (string, bool) {
	for {
		candidate := filepath.Join(dir, launcher)
		if _, err := os.Stat(filepath.Join(candidate, "index.js")); err == nil {
			return candidate, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func runArguments(req *pulumirpc.RunRequest, engine, runPath string, options map[string]any) []string {
	var args []string
	if nodeargs, ok := options["nodeargs"].(string); ok {
		args = append(args, strings.Fields(nodeargs)...)
	}
	args = append(args, runPath)
	flag := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flag("monitor", req.GetMonitorAddress())
	flag("engine", engine)
	flag("organization", req.GetOrganization())
	flag("project", req.GetProject())
	flag("stack", req.GetStack())
	flag("pwd", req.GetPwd())
	flag("root-directory", req.GetInfo().GetRootDirectory())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() != 0 {
		flag("parallel", fmt.Sprint(req.GetParallel()))
	}
	program := req.GetProgram()
	if program == "" {
		program = "."
	}
	return append(append(args, program), req.GetArgs()...)
}

func runEnvironment(req *pulumirpc.RunRequest, options map[string]any) ([]string, error) {
	config, err := jsonString(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	keys, err := jsonString(secretKeys)
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(),
		"PULUMI_CONFIG="+config,
		"PULUMI_CONFIG_SECRET_KEYS="+keys,
		fmt.Sprintf("PULUMI_NODEJS_TYPESCRIPT=%t", options["typescript"] != false),
	)
	if tsconfig, ok := options["tsconfig"].(string); ok && tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+tsconfig)
	}
	return env, nil
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	options := runtimeOptions(req.GetInfo())
	pwd := req.GetPwd()
	if pwd == "" {
		pwd, _ = os.Getwd()
	}
	runPath, ok := findLauncher(pwd)
	if !ok {
		return &pulumirpc.RunResponse{
			Error: "It looks like the Pulumi SDK has not been installed. Have you run npm install?",
		}, nil
	}
	env, err := runEnvironment(req, options)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("node", runArguments(req, h.engine, runPath, options)...)
	cmd.Dir = pwd
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run the program: %v", err)}, nil
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exit) && exit.ExitCode() == sdkBailExitCode:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exit.ExitCode()),
		}, nil
	case errors.As(err, &exit):
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Program exited with non-zero exit code: %v", exit.ProcessState),
		}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run the program: %v", err)}, nil
	}
}

// analyzerEntryPoint is the entry point of Node.js policy packs
// (toolchain/pulumi-analyzer-policy.js), installed next to this host.
func analyzerEntryPoint() (string, bool) {
	self, err := os.Executable()
	if err != nil {
		return "", false
	}
	for _, name := range []string{"pulumi-analyzer-policy", "pulumi-analyzer-policy.js"} {
		candidate := filepath.Join(filepath.Dir(self), name)
		if _, err := os.Stat(candidate); err == nil {
			return candidate, true
		}
	}
	return "", false
}

// RunPlugin: the CLI asks the language host to start a plugin written in its
// language whenever it finds one (pulumi/pulumi sdk/go/common/resource/plugin
// analyzer_plugin.go, NewPolicyAnalyzer): for a Node.js policy pack, that is
// every `--policy-pack`. We run the analyzer entry point in the pack's
// directory, as the CLI itself runs it when there is no language host, and
// stream its output back; the CLI reads the analyzer's port from it.
func (h *host) RunPlugin(
	req *pulumirpc.RunPluginRequest, stream grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	if req.GetKind() != "analyzer" {
		return status.Errorf(codes.Unimplemented, "this language host runs no %s plugins", req.GetKind())
	}
	entry, ok := analyzerEntryPoint()
	if !ok {
		return status.Errorf(codes.NotFound, "pulumi-analyzer-policy is not next to this language host")
	}
	// The pack's directory is the program's (ProgramInfo); pwd is the project's.
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetProgram()
	}
	// The CLI cancels the call when it is done with the analyzer.
	cmd := exec.CommandContext(stream.Context(), "node", append(append([]string{entry}, req.GetArgs()...), ".")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), req.GetEnv()...)
	var sending sync.Mutex
	send := func(resp *pulumirpc.RunPluginResponse) error {
		sending.Lock()
		defer sending.Unlock()
		return stream.Send(resp)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return status.Errorf(codes.Internal, "could not run %s: %v", entry, err)
	}
	var forwarding sync.WaitGroup
	forward := func(from io.Reader, wrap func([]byte) *pulumirpc.RunPluginResponse) {
		defer forwarding.Done()
		buf := make([]byte, 32*1024)
		for {
			n, err := from.Read(buf)
			if n > 0 {
				_ = send(wrap(append([]byte(nil), buf[:n]...)))
			}
			if err != nil {
				return
			}
		}
	}
	forwarding.Add(2)
	go forward(stdout, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
	})
	go forward(stderr, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	})
	forwarding.Wait()
	code := 0
	if err := cmd.Wait(); err != nil {
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit) && exit.ExitCode() >= 0:
			code = exit.ExitCode()
		case errors.As(err, &exit):
			code = 128 // killed by a signal
		default:
			code = 1
		}
	}
	return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
