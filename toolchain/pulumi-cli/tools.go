//go:build tools

// Package tools pins the Pulumi CLI's module so `go build` of its main package
// resolves from this module's go.sum. The CLI's own go.mod has `replace` lines,
// which `go install module@version` refuses, so we build it from here.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
