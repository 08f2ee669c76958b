package rest

import (
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/duetrpc/duet/hateoas"
	"github.com/duetrpc/duet/internal/budget"
)

// Option configures a [Handler].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	unary         []grpc.UnaryServerInterceptor
	stream        []grpc.StreamServerInterceptor
	rules         map[string][]*annotations.HttpRule
	defaultRoutes bool
	marshal       protojson.MarshalOptions
	unmarshal     protojson.UnmarshalOptions
	protojson     bool
	maxBody       int64
	incoming      []string
	outgoing      map[string]bool
	stats         []stats.Handler
	cacheControl  map[string]string
	statusErrors  bool
	debug         bool
	heartbeat     time.Duration
	links         map[protoreflect.FullName]LinkFunc
	linkStyle     hateoas.Style
	noSelf        bool
	hypermedia    bool
	// Limits and timeouts, in limits.go.
	budget       *budget.Bytes
	budgetSet    bool
	bodyTimeout  time.Duration
	writeTimeout time.Duration
	strictRules  bool
	errorWriter  ErrorWriter
}

func defaultConfig() *config {
	return &config{
		// grpc-gateway v2's default marshaler: unpopulated fields are
		// emitted, lowerCamel names, enums as names; unknown fields in
		// requests are discarded. Clients moving over notice nothing.
		marshal:      protojson.MarshalOptions{EmitUnpopulated: true},
		unmarshal:    protojson.UnmarshalOptions{DiscardUnknown: true},
		maxBody:      4 << 20,
		rules:        map[string][]*annotations.HttpRule{},
		cacheControl: map[string]string{},
		budget:       budget.New(DefaultBodyBudget),
		bodyTimeout:  DefaultBodyTimeout,
		writeTimeout: DefaultWriteTimeout,
	}
}

// WithUnaryInterceptor adds unary server interceptors, run around every
// unary call in order, the first outermost, as grpc.ChainUnaryInterceptor
// does. Pass the same interceptors the grpc.Server runs (for example
// grpcx.Server{}.UnaryInterceptors()) so that both protocols behave alike.
func WithUnaryInterceptor(interceptors ...grpc.UnaryServerInterceptor) Option {
	return optionFunc(func(c *config) { c.unary = append(c.unary, interceptors...) })
}

// WithStreamInterceptor adds stream server interceptors for streaming
// methods served over REST, in order, the first outermost.
func WithStreamInterceptor(interceptors ...grpc.StreamServerInterceptor) Option {
	return optionFunc(func(c *config) { c.stream = append(c.stream, interceptors...) })
}

// WithRule gives the HTTP rule of a method whose proto has no
// google.api.http annotation, or replaces the annotation. fullMethod is
// "/package.Service/Method"; rule has the annotation's syntax, including
// additional_bindings. Give it more than once to add bindings. A name no
// registered service has makes ServeHTTP panic (see [Handler.CheckMethods]).
func WithRule(fullMethod string, rule *annotations.HttpRule) Option {
	return optionFunc(func(c *config) { c.rules[fullMethod] = append(c.rules[fullMethod], rule) })
}

// WithDefaultRoutes gives each method without any rule (no
// google.api.http annotation, no [WithRule]) the route
// POST /package.Service/Method with body "*", as grpc-gateway's
// generate_unbound_methods does. Off by default: only what a rule names is
// served, and listed in the OpenAPI document. Services whose names begin
// with "grpc." (health, reflection) never get default routes.
func WithDefaultRoutes() Option {
	return optionFunc(func(c *config) { c.defaultRoutes = true })
}

// WithMarshalOptions sets how response messages become JSON. The default
// matches grpc-gateway v2: protojson.MarshalOptions{EmitUnpopulated: true}.
func WithMarshalOptions(o protojson.MarshalOptions) Option {
	return optionFunc(func(c *config) { c.marshal = o })
}

// WithProtojson makes protojson itself write every JSON message, instead
// of the Handler's own encoder. That encoder writes the same JSON (the
// same tokens as protojson with the same MarshalOptions, in a fraction of
// the time) from plans built when a service registers; this option is for
// those who want protojson's code path all the same. On a duet.Server it
// applies to gRPC-Web's and Connect's JSON as well.
func WithProtojson() Option {
	return optionFunc(func(c *config) { c.protojson = true })
}

// WithUnmarshalOptions sets how request bodies are read. The default
// discards unknown fields, as grpc-gateway does; without DiscardUnknown an
// unknown field, in the body or the query, is a 400 naming it.
func WithUnmarshalOptions(o protojson.UnmarshalOptions) Option {
	return optionFunc(func(c *config) { c.unmarshal = o })
}

// WithMaxBodyBytes limits request bodies (default 4 MiB, gRPC's default
// message size); a larger body is answered 413. For client-streaming
// methods it limits each message.
func WithMaxBodyBytes(n int64) Option {
	return optionFunc(func(c *config) { c.maxBody = n })
}

// WithIncomingHeaders adds request headers that become incoming gRPC
// metadata, so interceptors and handlers see them with
// metadata.FromIncomingContext. Authorization, the W3C trace context
// (Traceparent, Tracestate, Baggage) and Grpc-Metadata-* (prefix removed)
// always do; hop-by-hop headers never do; Cookie only if named here. A
// name ending in "*" is a prefix. duet.Server gives gRPC-Web the same list.
func WithIncomingHeaders(names ...string) Option {
	return optionFunc(func(c *config) { c.incoming = append(c.incoming, names...) })
}

// WithCacheControl sets the Cache-Control header of successful GET
// responses of a method ("/package.Service/Method"), such as
// "max-age=60". Without it, responses carry no Cache-Control, and clients
// still revalidate cheaply with the ETag. A name no registered service
// has makes ServeHTTP panic (see [Handler.CheckMethods]).
func WithCacheControl(fullMethod, value string) Option {
	return optionFunc(func(c *config) { c.cacheControl[fullMethod] = value })
}

// WithStatusErrors writes errors as the google.rpc.Status JSON that
// grpc-gateway writes ({"code": 5, "message": "...", "details": [...]}),
// with the same HTTP status, instead of application/problem+json: for
// services whose clients already parse that shape.
func WithStatusErrors() Option {
	return optionFunc(func(c *config) { c.statusErrors = true })
}

// WithDebugErrors puts internal error messages and DebugInfo on the wire.
// Never in production.
func WithDebugErrors() Option {
	return optionFunc(func(c *config) { c.debug = true })
}

// WithStrictRules makes RegisterService panic on an HTTP binding it cannot
// serve, instead of leaving that binding out and reporting it (see
// [Handler.Skipped]): for services that must not start with a route
// missing.
func WithStrictRules() Option {
	return optionFunc(func(c *config) { c.strictRules = true })
}

// WithOutgoingHeaders names header metadata keys that a handler's
// grpc.SetHeader or grpc.SendHeader sends as plain response headers, such
// as "set-cookie" or "x-request-id", instead of under Grpc-Metadata-
// (grpc-gateway's convention, which stays for every other key).
func WithOutgoingHeaders(keys ...string) Option {
	return optionFunc(func(c *config) {
		if c.outgoing == nil {
			c.outgoing = map[string]bool{}
		}
		for _, k := range keys {
			c.outgoing[strings.ToLower(k)] = true
		}
	})
}

// WithStatsHandler adds a stats.Handler, such as OpenTelemetry's
// otelgrpc.NewServerHandler(), that receives the events of every call
// served over REST in the order grpc-go emits them for native calls.
func WithStatsHandler(h stats.Handler) Option {
	return optionFunc(func(c *config) { c.stats = append(c.stats, h) })
}

// WithHeartbeat makes Server-Sent Events streams send a comment line every
// d while no message is sent, so proxies keep idle streams open. Zero (the
// default) sends none.
func WithHeartbeat(d time.Duration) Option {
	return optionFunc(func(c *config) { c.heartbeat = d })
}

// JSONOptions returns the protojson options h reads and writes messages
// with (WithMarshalOptions, WithUnmarshalOptions), so that other JSON
// protocols on the same server, such as gRPC-Web's +json, encode alike.
func (h *Handler) JSONOptions() (protojson.MarshalOptions, protojson.UnmarshalOptions) {
	return h.cfg.marshal, h.cfg.unmarshal
}

// Protojson reports whether h hands every JSON message to protojson itself
// ([WithProtojson], or marshal options such as Multiline that only
// protojson implements), so that other JSON protocols on the same server,
// such as gRPC-Web's and Connect's, take the same code path.
func (h *Handler) Protojson() bool {
	return h.json.Protojson()
}
