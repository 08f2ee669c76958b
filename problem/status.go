package problem

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/duetrpc/duet/internal/pbjson"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Extension member names this package reads and writes.
const (
	memberCode          = "code"          // gRPC code name, e.g. "NOT_FOUND"
	memberMessage       = "grpc_message"  // status message, when detail was localized
	memberReason        = "reason"        // ErrorInfo.reason
	memberDomain        = "domain"        // ErrorInfo.domain
	memberMetadata      = "metadata"      // ErrorInfo.metadata
	memberErrors        = "errors"        // BadRequest field violations
	memberRetryDelay    = "retry_delay"   // RetryInfo.retry_delay, "1.5s"
	memberRequestID     = "request_id"    // RequestInfo.request_id
	memberServingData   = "serving_data"  // RequestInfo.serving_data
	memberDetails       = "details"       // anything else, as {"@type", "value"}
	memberDebugInfo     = "debug_info"    // DebugInfo (redacted by Write)
	memberQuotaFailure  = "quota_failure" // QuotaFailure
	memberPrecondition  = "precondition_failure"
	memberResourceInfo  = "resource_info"
	memberHelp          = "help"
	memberLocalizedMsg  = "localized_message"
	memberViolationCode = "code" // inside an errors[] element: FieldViolation.reason
)

// objectMembers maps the detail types rendered as one object member (or an
// array of them, when a status carries several) to their member name.
var objectMembers = []struct {
	name string
	new  func() proto.Message
}{
	{memberDebugInfo, func() proto.Message { return new(errdetails.DebugInfo) }},
	{memberQuotaFailure, func() proto.Message { return new(errdetails.QuotaFailure) }},
	{memberPrecondition, func() proto.Message { return new(errdetails.PreconditionFailure) }},
	{memberResourceInfo, func() proto.Message { return new(errdetails.ResourceInfo) }},
	{memberHelp, func() proto.Message { return new(errdetails.Help) }},
	{memberLocalizedMsg, func() proto.Message { return new(errdetails.LocalizedMessage) }},
}

func objectMember(name protoreflect.FullName) string {
	switch name {
	case "google.rpc.DebugInfo":
		return memberDebugInfo
	case "google.rpc.QuotaFailure":
		return memberQuotaFailure
	case "google.rpc.PreconditionFailure":
		return memberPrecondition
	case "google.rpc.ResourceInfo":
		return memberResourceInfo
	case "google.rpc.Help":
		return memberHelp
	case "google.rpc.LocalizedMessage":
		return memberLocalizedMsg
	}
	return ""
}

// detailJSON writes and reads the details problems carry as members: with
// their proto field names, as errdetails' JSON is usually shown, and
// reading past members a newer version of a detail may add.
var detailJSON = pbjson.New(protojson.MarshalOptions{UseProtoNames: true}, protojson.UnmarshalOptions{DiscardUnknown: true})

// FromStatus converts a gRPC status to a problem. The HTTP status comes from
// [HTTPStatus], the title is its reason phrase, the detail is the status
// message, and the code name and every error detail become extension
// members (see the package documentation), so that [Problem.GRPCStatus]
// restores an equal status, also after a JSON round trip. A nil or OK status
// yields nil.
func FromStatus(st *status.Status) *Problem {
	if st == nil || st.Code() == codes.OK {
		return nil
	}
	httpStatus := HTTPStatus(st.Code())
	p := &Problem{
		Title:      http.StatusText(httpStatus),
		Status:     httpStatus,
		Detail:     st.Message(),
		Extensions: map[string]any{memberCode: CodeName(st.Code())},
	}
	if httpStatus == 499 {
		p.Title = "Client Closed Request"
	}
	for _, a := range st.Proto().GetDetails() {
		p.addDetail(a)
	}
	return p
}

// addDetail renders one status detail as extension members; details it
// cannot render readably, or that would collide with a member already set,
// go to the "details" array as type URL and base64 value.
func (p *Problem) addDetail(a *anypb.Any) {
	ext := p.Extensions
	m, err := a.UnmarshalNew()
	if err != nil {
		p.addRaw(a)
		return
	}
	switch d := m.(type) {
	case *errdetails.ErrorInfo:
		if _, dup := ext[memberReason]; dup {
			break
		}
		ext[memberReason] = d.GetReason()
		ext[memberDomain] = d.GetDomain()
		if len(d.GetMetadata()) > 0 {
			md := make(map[string]any, len(d.GetMetadata()))
			for k, v := range d.GetMetadata() {
				md[k] = v
			}
			ext[memberMetadata] = md
		}
		if d.GetDomain() != "" && d.GetReason() != "" {
			p.Type = "https://" + d.GetDomain() + "/errors/" + d.GetReason()
		}
		return
	case *errdetails.BadRequest:
		if _, dup := ext[memberErrors]; dup {
			break
		}
		list := make([]any, 0, len(d.GetFieldViolations()))
		for _, v := range d.GetFieldViolations() {
			e := map[string]any{"field": v.GetField(), "message": v.GetDescription()}
			if v.GetReason() != "" {
				e[memberViolationCode] = v.GetReason()
			}
			if lm := v.GetLocalizedMessage(); lm != nil {
				e[memberLocalizedMsg] = map[string]any{"locale": lm.GetLocale(), "message": lm.GetMessage()}
			}
			list = append(list, e)
		}
		ext[memberErrors] = list
		return
	case *errdetails.RetryInfo:
		if _, dup := ext[memberRetryDelay]; dup || d.GetRetryDelay() == nil {
			break
		}
		b, err := detailJSON.Marshal(d.GetRetryDelay())
		if err != nil {
			break
		}
		var s string
		_ = json.Unmarshal(b, &s)
		ext[memberRetryDelay] = s
		return
	case *errdetails.RequestInfo:
		if _, dup := ext[memberRequestID]; dup {
			break
		}
		ext[memberRequestID] = d.GetRequestId()
		if d.GetServingData() != "" {
			ext[memberServingData] = d.GetServingData()
		}
		return
	default:
		name := objectMember(m.ProtoReflect().Descriptor().FullName())
		if name == "" {
			break
		}
		b, err := detailJSON.Marshal(m)
		if err != nil {
			break
		}
		var v any
		if json.Unmarshal(b, &v) != nil {
			break
		}
		switch prev := ext[name].(type) {
		case nil:
			ext[name] = v
		case []any:
			ext[name] = append(prev, v)
		default:
			ext[name] = []any{prev, v}
		}
		return
	}
	p.addRaw(a)
}

func (p *Problem) addRaw(a *anypb.Any) {
	raw := map[string]any{"@type": a.GetTypeUrl(), "value": base64.StdEncoding.EncodeToString(a.GetValue())}
	list, _ := p.Extensions[memberDetails].([]any)
	p.Extensions[memberDetails] = append(list, raw)
}

// GRPCStatus returns the gRPC status this problem stands for, so that
// status.FromError and grpc-go understand a *Problem as it is. The code is
// the "code" member when it names a gRPC code, else [Code] of the HTTP
// status; the message is the detail (or the title, for problems that carry
// no code); the details are rebuilt from the extension members. Members
// that do not parse are left out rather than failing the conversion.
func (p *Problem) GRPCStatus() *status.Status {
	c, fromCode := codes.Unknown, false
	if name, ok := p.Extensions[memberCode].(string); ok {
		c, fromCode = ParseCode(name)
	}
	if !fromCode {
		c = Code(p.statusOr500())
	}
	msg := p.Detail
	if m, ok := p.Extensions[memberMessage].(string); ok {
		msg = m
	} else if msg == "" && !fromCode {
		msg = p.Title
	}
	sp := &spb.Status{Code: int32(c), Message: msg}
	for _, d := range p.details() {
		a, err := anypb.New(d)
		if err == nil {
			sp.Details = append(sp.Details, a)
		}
	}
	sp.Details = append(sp.Details, p.rawDetails()...)
	return status.FromProto(sp)
}

// details rebuilds the standard error details from the extension members,
// in a fixed order: ErrorInfo, BadRequest, RetryInfo, RequestInfo, then the
// object members in the order of objectMembers.
func (p *Problem) details() []proto.Message {
	ext := p.Extensions
	if len(ext) == 0 {
		return nil
	}
	var out []proto.Message
	reason, hasReason := ext[memberReason].(string)
	if hasReason {
		info := &errdetails.ErrorInfo{Reason: reason}
		info.Domain, _ = ext[memberDomain].(string)
		if md, ok := ext[memberMetadata].(map[string]any); ok {
			info.Metadata = make(map[string]string, len(md))
			for k, v := range md {
				if s, ok := v.(string); ok {
					info.Metadata[k] = s
				}
			}
		}
		out = append(out, info)
	}
	if list, ok := ext[memberErrors].([]any); ok {
		br := &errdetails.BadRequest{}
		for _, e := range list {
			m, ok := e.(map[string]any)
			if !ok {
				continue
			}
			v := &errdetails.BadRequest_FieldViolation{}
			v.Field, _ = m["field"].(string)
			v.Description, _ = m["message"].(string)
			v.Reason, _ = m[memberViolationCode].(string)
			if lm, ok := m[memberLocalizedMsg].(map[string]any); ok {
				v.LocalizedMessage = &errdetails.LocalizedMessage{}
				v.LocalizedMessage.Locale, _ = lm["locale"].(string)
				v.LocalizedMessage.Message, _ = lm["message"].(string)
			}
			br.FieldViolations = append(br.FieldViolations, v)
		}
		out = append(out, br)
	}
	if s, ok := ext[memberRetryDelay].(string); ok {
		var d durationpb.Duration
		if b, err := json.Marshal(s); err == nil && detailJSON.Unmarshal(b, &d) == nil {
			out = append(out, &errdetails.RetryInfo{RetryDelay: &d})
		}
	}
	if id, ok := ext[memberRequestID].(string); ok {
		ri := &errdetails.RequestInfo{RequestId: id}
		ri.ServingData, _ = ext[memberServingData].(string)
		out = append(out, ri)
	}
	for _, om := range objectMembers {
		v, ok := ext[om.name]
		if !ok {
			continue
		}
		items, isList := v.([]any)
		if !isList {
			items = []any{v}
		}
		for _, item := range items {
			if _, ok := item.(map[string]any); !ok {
				continue
			}
			b, err := json.Marshal(item)
			if err != nil {
				continue
			}
			m := om.new()
			if detailJSON.Unmarshal(b, m) == nil {
				out = append(out, m)
			}
		}
	}
	return out
}

func (p *Problem) rawDetails() []*anypb.Any {
	list, _ := p.Extensions[memberDetails].([]any)
	var out []*anypb.Any
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		url, _ := m["@type"].(string)
		val, _ := m["value"].(string)
		b, err := base64.StdEncoding.DecodeString(val)
		if url == "" || err != nil {
			continue
		}
		out = append(out, &anypb.Any{TypeUrl: url, Value: b})
	}
	return out
}

// CodeName returns the canonical name of c as used in google/rpc/code.proto
// and in the "code" member, such as "NOT_FOUND".
func CodeName(c codes.Code) string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "CODE(" + strconv.Itoa(int(c)) + ")"
}

// ParseCode returns the code named name (as [CodeName] writes it), and
// whether the name was one.
func ParseCode(name string) (codes.Code, bool) {
	for i, n := range codeNames {
		if n == name {
			return codes.Code(i), true
		}
	}
	if s, ok := strings.CutPrefix(name, "CODE("); ok {
		if n, err := strconv.ParseUint(strings.TrimSuffix(s, ")"), 10, 32); err == nil {
			return codes.Code(n), true
		}
	}
	return codes.Unknown, false
}

var codeNames = [...]string{
	codes.OK:                 "OK",
	codes.Canceled:           "CANCELLED",
	codes.Unknown:            "UNKNOWN",
	codes.InvalidArgument:    "INVALID_ARGUMENT",
	codes.DeadlineExceeded:   "DEADLINE_EXCEEDED",
	codes.NotFound:           "NOT_FOUND",
	codes.AlreadyExists:      "ALREADY_EXISTS",
	codes.PermissionDenied:   "PERMISSION_DENIED",
	codes.ResourceExhausted:  "RESOURCE_EXHAUSTED",
	codes.FailedPrecondition: "FAILED_PRECONDITION",
	codes.Aborted:            "ABORTED",
	codes.OutOfRange:         "OUT_OF_RANGE",
	codes.Unimplemented:      "UNIMPLEMENTED",
	codes.Internal:           "INTERNAL",
	codes.Unavailable:        "UNAVAILABLE",
	codes.DataLoss:           "DATA_LOSS",
	codes.Unauthenticated:    "UNAUTHENTICATED",
}
