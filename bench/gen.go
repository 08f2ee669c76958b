// Package bench compares duet's REST transcoder with grpc-gateway v2,
// vanguard-go and a hand-written net/http + protojson handler, in process.
// See README.md.
package bench

//go:generate go run ./internal/gen

import "time"

// fixedTime keeps responses identical across handlers and runs.
var fixedTime = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
