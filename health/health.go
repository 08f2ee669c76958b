package health

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc"
	grpchealth "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Check is one dependency probe, run in the background.
type Check struct {
	// Name identifies the check in probe output and in [Server.AddService].
	Name string
	// Func returns nil when the dependency is healthy. Its error is not
	// shown to clients unless it is (or wraps) a [PublicError]; return
	// health.Fail("…") for a message you want operators to read.
	Func func(ctx context.Context) error
	// Interval between runs; default 10s.
	Interval time.Duration
	// Timeout of one run; default 2s or Interval, whichever is shorter. A
	// run that does not return in time fails, whether or not Func honours
	// its context.
	Timeout time.Duration
	// Critical checks fail readiness and the server's overall gRPC status;
	// the others only make it "warn".
	Critical bool
	// Liveness checks also fail /livez: use it only for faults that a
	// restart fixes (a deadlocked worker), never for dependencies.
	Liveness bool
}

// PublicError is a check failure whose message is safe to show on probe
// endpoints.
type PublicError struct{ Message string }

// Error returns the message shown on the probes.
func (e *PublicError) Error() string { return e.Message }

// Fail returns a check error whose message probes may show. Keep secrets
// (hosts, credentials, queries) out of it.
func Fail(msg string) error { return &PublicError{Message: msg} }

// Result is the latest outcome of a check.
type Result struct {
	Name     string
	Critical bool
	Liveness bool
	// OK is false after a failed run; a check that has not run yet is not
	// OK.
	OK bool
	// Output is the public message of a failure: a PublicError's message,
	// "timed out after …", "panicked", or "check failed".
	Output string
	// Time is when the run finished; zero before the first run.
	Time time.Time
	// Err is the check's own error, for logs; it never reaches a probe.
	Err error
}

// Server runs checks in the background and serves their verdict as
// grpc.health.v1 (Check, Watch, List, through grpc-go's own health
// server) and as /livez, /readyz and /healthz.
//
// A server is created with [New], given checks and services, started with
// [Server.Start] and stopped with [Server.Shutdown] or [Server.Close].
type Server struct {
	grpc     *grpchealth.Server
	checks   []Check
	now      func() time.Time
	mu       sync.Mutex
	results  map[string]Result
	services map[string][]string // service → the checks it depends on
	ready    bool                // the application's own readiness gate
	draining bool
	started  bool
	stop     chan struct{}
	drained  chan struct{} // closed by Shutdown, once every status is NOT_SERVING
	wg       sync.WaitGroup
	onReport func(Result)
}

// Option configures a [Server]. Options are applied in the order given;
// a server built with none has no checks and is SERVING once started.
type Option interface{ apply(*Server) }

type optionFunc func(*Server)

func (f optionFunc) apply(s *Server) { f(s) }

// WithChecks adds checks for the server to run in the background. It may
// be given more than once; the checks add up. A check with no Interval
// runs every 10 seconds, and one with no Timeout gets 2 seconds or its
// Interval, whichever is shorter.
func WithChecks(checks ...Check) Option {
	return optionFunc(func(s *Server) { s.checks = append(s.checks, checks...) })
}

// WithClock replaces time.Now as the source of each [Result]'s Time. It
// exists for tests that need reproducible times; the default is time.Now.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(s *Server) {
		if now != nil {
			s.now = now
		}
	})
}

// WithReport calls f after every check run, with the check's own error in
// Result.Err. It is the place to log failures, since the probes show only
// public messages. By default nothing is called.
func WithReport(f func(Result)) Option {
	return optionFunc(func(s *Server) { s.onReport = f })
}

// New returns a server for the checks given with [WithChecks]. Until
// [Server.Start] runs them, every status is NOT_SERVING and readiness
// fails; liveness holds. The server is ready once its checks have run,
// unless [Server.SetReady] says otherwise.
func New(opts ...Option) *Server {
	s := &Server{
		grpc:     grpchealth.NewServer(),
		now:      time.Now,
		results:  map[string]Result{},
		services: map[string][]string{},
		ready:    true,
		stop:     make(chan struct{}),
		drained:  make(chan struct{}),
	}
	for _, o := range opts {
		o.apply(s)
	}
	checks := s.checks
	s.checks = make([]Check, 0, len(checks))
	for _, c := range checks {
		if c.Interval <= 0 {
			c.Interval = 10 * time.Second
		}
		if c.Timeout <= 0 {
			c.Timeout = min(2*time.Second, c.Interval)
		}
		s.checks = append(s.checks, c)
		s.results[c.Name] = Result{Name: c.Name, Critical: c.Critical, Liveness: c.Liveness, Output: "not run yet"}
	}
	s.grpc.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	return s
}

// AddService declares a gRPC service name (such as "users.v1.UserService")
// and the checks it depends on; its status is SERVING while they all pass.
// Call it before Start.
func (s *Server) AddService(name string, checks ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.services[name] = checks
	s.publishLocked()
}

// Register registers grpc.health.v1.Health on r, such as a *grpc.Server or
// a duet.Server.
func (s *Server) Register(r grpc.ServiceRegistrar) {
	healthpb.RegisterHealthServer(r, service{Server: s.grpc, s: s})
}

// SetReady opens or closes the application's own readiness gate, for
// example closed until caches are warm.
func (s *Server) SetReady(ready bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ready = ready
	s.publishLocked()
}

// Start runs every check once, at once, then each on its interval, in the
// background.
func (s *Server) Start() {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return
	}
	s.started = true
	// With no checks nothing else would publish: SERVING now.
	s.publishLocked()
	s.mu.Unlock()
	for _, c := range s.checks {
		s.wg.Add(1)
		go s.loop(c)
	}
}

// Shutdown marks every service NOT_SERVING and readiness failing, so load
// balancers stop sending traffic while the server drains, and stops the
// checks. Liveness still holds. Call it first in a graceful stop.
func (s *Server) Shutdown() {
	s.mu.Lock()
	already := s.draining
	s.draining = true
	s.mu.Unlock()
	s.grpc.Shutdown() // every service NOT_SERVING, and no more changes
	if !already {
		close(s.drained) // Watch streams end: NOT_SERVING, then UNAVAILABLE
	}
	s.Close()
}

// Close stops the background checks and waits for them. It does not
// change any status.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) loop(c Check) {
	defer s.wg.Done()
	t := time.NewTicker(c.Interval)
	defer t.Stop()
	for {
		err, stopped := s.run(c)
		if stopped {
			return // Close must not turn a check in flight into a failure
		}
		s.record(c, err)
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}

var errTimeout = errors.New("timed out")

// run runs one check with its timeout; a hung or panicking Func fails
// the run without taking anything else with it.
func (s *Server) run(c Check) (err error, stopped bool) {
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	done := make(chan error, 1) // buffered: a hung Func's goroutine may finish later
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- &panicError{v}
			}
		}()
		done <- c.Func(ctx)
	}()
	select {
	case err := <-done:
		return err, false
	case <-ctx.Done():
		return fmt.Errorf("%w after %v", errTimeout, c.Timeout), false
	case <-s.stop:
		return nil, true
	}
}

type panicError struct{ v any }

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.v) }

func (s *Server) record(c Check, err error) {
	r := Result{Name: c.Name, Critical: c.Critical, Liveness: c.Liveness, OK: err == nil, Time: s.now(), Err: err}
	var pe *PublicError
	var pa *panicError
	switch {
	case err == nil:
	case errors.As(err, &pe):
		r.Output = pe.Message
	case errors.Is(err, errTimeout):
		r.Output = "timed out after " + c.Timeout.String()
	case errors.As(err, &pa):
		r.Output = "panicked"
	default:
		r.Output = "check failed"
	}
	s.mu.Lock()
	s.results[c.Name] = r
	s.publishLocked()
	s.mu.Unlock()
	if s.onReport != nil {
		s.onReport(r)
	}
}

// publishLocked sets the gRPC statuses; grpc-go's server notifies watchers
// only when a status actually changes.
func (s *Server) publishLocked() {
	if s.draining {
		return
	}
	overall := s.readyLocked()
	s.grpc.SetServingStatus("", servingStatus(overall))
	for name, deps := range s.services {
		ok := s.ready && s.started
		for _, d := range deps {
			if r, found := s.results[d]; !found || !r.OK {
				ok = false
			}
		}
		s.grpc.SetServingStatus(name, servingStatus(ok))
	}
}

func servingStatus(ok bool) healthpb.HealthCheckResponse_ServingStatus {
	if ok {
		return healthpb.HealthCheckResponse_SERVING
	}
	return healthpb.HealthCheckResponse_NOT_SERVING
}

// readyLocked: started, the gate is open, not draining, and every
// critical check has passed its latest run. gRPC's overall status and
// /readyz both come from it, so they always agree.
func (s *Server) readyLocked() bool {
	if !s.started || !s.ready || s.draining {
		return false
	}
	for _, r := range s.results {
		if r.Critical && !r.OK {
			return false
		}
	}
	return true
}

// Results returns the latest result of every check, by name.
func (s *Server) Results() []Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Result, 0, len(s.results))
	for _, r := range s.results {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
