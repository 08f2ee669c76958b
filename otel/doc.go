// Package otel holds no code: its test proves that OpenTelemetry's otelgrpc
// server handler, given to duet.WithStatsHandler, describes a call the same
// way whether it came over gRPC, gRPC-Web or REST. It is a module of its
// own so that the library's users never download OpenTelemetry.
package otel
