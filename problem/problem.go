package problem

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"
)

// MediaType is the media type of a problem details document (RFC 9457 §3).
const MediaType = "application/problem+json"

// BlankType is the default problem type: the problem has no semantics
// beyond its HTTP status code, and its title should be that code's reason
// phrase (RFC 9457 §4.2.1).
const BlankType = "about:blank"

// Problem is an RFC 9457 problem details object. It is an error, and it
// converts to and from a gRPC status through [Problem.GRPCStatus] and
// [FromStatus] without losing the code, the message or any error detail.
//
// The zero value is a valid, empty problem that stands for an internal
// error. Use the constructors ([InvalidArgument], [NotFound], …) or
// [FromStatus] to build one with a gRPC code and details.
type Problem struct {
	// Type is a URI reference identifying the problem type. Empty means
	// "about:blank".
	Type string
	// Title is a short, human-readable summary of the problem type.
	Title string
	// Status is the HTTP status code; 0 means it is not known.
	Status int
	// Detail is a human-readable explanation specific to this occurrence.
	// For a problem made from a gRPC status it is the status message.
	Detail string
	// Instance is a URI reference identifying this occurrence.
	Instance string
	// Extensions holds every other member, keyed by member name, as
	// encoding/json decodes JSON (map[string]any, []any, string, float64,
	// bool, nil). The members this package writes are listed in the package
	// documentation.
	Extensions map[string]any
}

// Error implements error. It returns "title: detail", or whichever of the
// two is set, or the reason phrase of the status.
func (p *Problem) Error() string {
	switch {
	case p.Detail != "" && p.Title != "":
		return p.Title + ": " + p.Detail
	case p.Detail != "":
		return p.Detail
	case p.Title != "":
		return p.Title
	}
	return http.StatusText(p.statusOr500())
}

func (p *Problem) statusOr500() int {
	if p.Status == 0 {
		return http.StatusInternalServerError
	}
	return p.Status
}

// standard member names; extensions may not use them.
var standardMembers = map[string]bool{"type": true, "title": true, "status": true, "detail": true, "instance": true}

// MarshalJSON implements json.Marshaler. The standard members come first,
// then the extension members in sorted order at the top level (RFC 9457
// §3.2). Extension members named like a standard member are dropped.
func (p *Problem) MarshalJSON() ([]byte, error) {
	return p.appendJSON(make([]byte, 0, 256))
}

// appendJSON appends the problem's JSON to buf.
func (p *Problem) appendJSON(buf []byte) ([]byte, error) {
	buf = append(buf, '{')
	typ := p.Type
	if typ == "" {
		typ = BlankType
	}
	buf = appendMember(buf, "type")
	buf = appendString(buf, typ)
	if p.Title != "" {
		buf = appendString(appendMember(append(buf, ','), "title"), p.Title)
	}
	if p.Status != 0 {
		buf = strconv.AppendInt(appendMember(append(buf, ','), "status"), int64(p.Status), 10)
	}
	if p.Detail != "" {
		buf = appendString(appendMember(append(buf, ','), "detail"), p.Detail)
	}
	if p.Instance != "" {
		buf = appendString(appendMember(append(buf, ','), "instance"), p.Instance)
	}
	var kbuf [8]string // most problems have a few extensions
	keys := kbuf[:0]
	for k := range p.Extensions {
		if !standardMembers[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		buf = appendMember(append(buf, ','), k)
		if s, ok := p.Extensions[k].(string); ok {
			buf = appendString(buf, s)
			continue
		}
		b, err := json.Marshal(p.Extensions[k])
		if err != nil {
			return nil, err
		}
		buf = append(buf, b...)
	}
	return append(buf, '}'), nil
}

// appendMember appends a JSON member name and its colon.
func appendMember(buf []byte, name string) []byte {
	return append(appendString(buf, name), ':')
}

// appendString appends s as a JSON string exactly as encoding/json would
// write it. Most problem strings are plain ASCII, which is copied as it is;
// anything else goes through encoding/json, so escaping rules live in one
// place.
func appendString(buf []byte, s string) []byte {
	quotes := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			quotes = true
		case c < 0x20 || c >= utf8.RuneSelf || c == '<' || c == '>' || c == '&':
			b, _ := json.Marshal(s) // a string always marshals
			return append(buf, b...)
		}
	}
	buf = append(buf, '"')
	if !quotes {
		buf = append(buf, s...)
		return append(buf, '"')
	}
	// Quotes and backslashes, as in a message that quotes a name, are
	// the only escapes needed: a backslash before each.
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			buf = append(buf, '\\')
		}
		buf = append(buf, s[i])
	}
	return append(buf, '"')
}

// errNotObject is returned for JSON that is not an object.
var errNotObject = errors.New("problem: JSON value is not an object")

// UnmarshalJSON implements json.Unmarshaler. Members of the wrong JSON type
// are ignored, as RFC 9457 §3.1 asks of consumers; unknown members are kept
// in Extensions.
func (p *Problem) UnmarshalJSON(b []byte) error {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return err
	}
	if m == nil {
		return errNotObject
	}
	if dec.More() {
		return errors.New("problem: trailing data after JSON object")
	}
	*p = Problem{}
	for k, v := range m {
		switch k {
		case "type":
			p.Type, _ = v.(string)
		case "title":
			p.Title, _ = v.(string)
		case "detail":
			p.Detail, _ = v.(string)
		case "instance":
			p.Instance, _ = v.(string)
		case "status":
			if n, ok := v.(json.Number); ok {
				if i, err := n.Int64(); err == nil && i >= 100 && i <= 599 {
					p.Status = int(i)
				}
			}
		default:
			if p.Extensions == nil {
				p.Extensions = make(map[string]any, len(m))
			}
			p.Extensions[k] = plainNumbers(v)
		}
	}
	if p.Type == BlankType {
		p.Type = ""
	}
	return nil
}

// plainNumbers turns the json.Numbers that UseNumber produced back into
// float64, so Extensions hold what encoding/json users expect.
func plainNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return x.String()
		}
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = plainNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = plainNumbers(e)
		}
	}
	return v
}
