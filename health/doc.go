// Package health serves grpc.health.v1 and the Kubernetes HTTP probes
// (/livez, /readyz, /healthz) from one set of background checks.
//
// Checks run on their own intervals, never on a probe's request path, so a
// slow dependency cannot stall a probe; a check that hangs past its
// timeout or panics fails without harming anything else. The gRPC side is
// grpc-go's own health server (Check, Watch and List), so
// grpc-health-probe, Kubernetes gRPC probes and grpc-go's client-side
// health checking work unchanged; statuses change only on transitions.
// Watch streams each transition in order to a watcher that keeps up; a
// slow watcher is never allowed to block the others or the checks, so
// grpc-go's server coalesces its pending updates and it receives the
// latest status rather than every intermediate one.
//
//	hs := health.New(health.WithChecks(
//		health.Check{Name: "db", Func: db.PingContext, Interval: 5 * time.Second, Critical: true},
//	))
//	hs.AddService("users.v1.UserService", "db")
//	hs.Register(grpcServer)
//	mux.Handle("/livez", hs)
//	mux.Handle("/readyz", hs)
//	mux.Handle("/healthz", hs)
//	hs.Start()
//	defer hs.Shutdown()
//
// Liveness and readiness are separate: /livez fails only on checks marked
// Liveness; /readyz fails on critical checks, while the application's gate
// ([Server.SetReady]) is closed, and from [Server.Shutdown] on, so load
// balancers stop sending traffic before the server stops. Probe output
// shows a check's error only when it is a [PublicError] ([Fail]).
package health
