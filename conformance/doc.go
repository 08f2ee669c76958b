// Package conformance runs the Connect conformance suite
// (connectrpc.com/conformance) against duet in server mode. See README.md.
package conformance

//go:generate go run ./internal/gen
