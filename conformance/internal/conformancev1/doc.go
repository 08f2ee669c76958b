// Package conformancev1 is the Go code generated (go generate, see
// internal/gen) from the Connect conformance suite's protos,
// connectrpc.conformance.v1, at the suite version CI runs.
package conformancev1
