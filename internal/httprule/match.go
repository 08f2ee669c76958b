package httprule

import (
	"errors"
	"net/url"
	"strings"
)

// SplitPath splits an escaped request path ("/v1/a%2Fb/c:verb") into its
// raw segments, without decoding. A path that does not start with "/"
// yields nil.
func SplitPath(escaped string) []string {
	if !strings.HasPrefix(escaped, "/") {
		return nil
	}
	return strings.Split(escaped[1:], "/")
}

// Match reports whether the raw segments match the template's segments
// (the verb, if any, already removed from the last segment) and, if so,
// calls bind for each variable with its decoded value. Single-segment
// variables decode everything, "%2F" included; multi-segment ones keep
// "%2F" so that the segments they span stay distinguishable.
func (t *Template) Match(segs []string, bind func(v Var, value string) error) (bool, error) {
	if !t.matchShape(segs) {
		return false, nil
	}
	if bind == nil {
		return true, nil
	}
	for _, v := range t.Vars {
		end := v.End
		if end == len(t.Segments) && len(t.Segments) > 0 && t.Segments[end-1].Kind == DoubleStar {
			end = len(segs)
		}
		var value string
		var err error
		if t.Multi(v) {
			value, err = decodeMulti(segs[v.Start:end])
		} else {
			value, err = url.PathUnescape(segs[v.Start])
		}
		if err != nil {
			return true, &DecodeError{Var: v.Path, Err: err}
		}
		if err := bind(v, value); err != nil {
			return true, err
		}
	}
	return true, nil
}

// DecodeError is a path variable that is not validly percent-encoded.
type DecodeError struct {
	Var string
	Err error
}

func (e *DecodeError) Error() string { return "path variable " + e.Var + ": " + e.Err.Error() }
func (e *DecodeError) Unwrap() error { return e.Err }

func (t *Template) matchShape(segs []string) bool {
	n := len(t.Segments)
	if n > 0 && t.Segments[n-1].Kind == DoubleStar {
		if len(segs) < n-1 {
			return false
		}
	} else if len(segs) != n {
		return false
	}
	for i, s := range t.Segments {
		switch s.Kind {
		case Literal:
			if !literalEqual(segs[i], s.Literal) {
				return false
			}
		case Star:
			if segs[i] == "" {
				return false
			}
		case DoubleStar:
			return true
		}
	}
	return true
}

// literalEqual compares a raw segment with a decoded literal, decoding only
// when the segment has escapes.
func literalEqual(raw, lit string) bool {
	if !strings.Contains(raw, "%") {
		return raw == lit
	}
	dec, err := url.PathUnescape(raw)
	return err == nil && dec == lit
}

func decodeMulti(segs []string) (string, error) {
	escaped := false
	for _, s := range segs {
		if strings.IndexByte(s, '%') >= 0 {
			escaped = true
			break
		}
	}
	if !escaped { // the common case: nothing to decode
		return strings.Join(segs, "/"), nil
	}
	var b strings.Builder
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('/')
		}
		dec, err := url.PathUnescape(strings.ReplaceAll(strings.ReplaceAll(s, "%2F", "%252F"), "%2f", "%252f"))
		if err != nil {
			return "", err
		}
		b.WriteString(dec)
	}
	return b.String(), nil
}

// ErrMissing is returned by Expand for a variable without a value.
var ErrMissing = errors.New("no value for path variable")

// Expand builds a path from the template, taking each variable's value
// from value. Values are percent-encoded as Match decodes them: for
// single-segment variables everything but unreserved characters is escaped,
// "/" included; multi-segment variables keep "/" as a separator. A value
// that does not fit the variable's pattern (say, "a/b" for "shelves/*") is
// an error, because the path would route elsewhere.
func (t *Template) Expand(value func(path string) (string, bool)) (string, error) {
	var b strings.Builder
	vi := 0
	for i := 0; i < len(t.Segments); {
		if vi < len(t.Vars) && t.Vars[vi].Start == i {
			v := t.Vars[vi]
			val, ok := value(v.Path)
			if !ok {
				return "", &ExpandError{Var: v.Path, Err: ErrMissing}
			}
			enc, err := t.encodeVar(v, val)
			if err != nil {
				return "", &ExpandError{Var: v.Path, Err: err}
			}
			b.WriteByte('/')
			b.WriteString(enc)
			i = v.End
			vi++
			continue
		}
		s := t.Segments[i]
		b.WriteByte('/')
		switch s.Kind {
		case Literal:
			b.WriteString(escapeSegment(s.Literal))
		default:
			return "", &ExpandError{Var: "*", Err: errors.New("template has an anonymous wildcard")}
		}
		i++
	}
	if t.Verb != "" {
		b.WriteString(":" + escapeSegment(t.Verb))
	}
	return b.String(), nil
}

// ExpandError is a variable that Expand could not fill.
type ExpandError struct {
	Var string
	Err error
}

func (e *ExpandError) Error() string { return "expanding {" + e.Var + "}: " + e.Err.Error() }
func (e *ExpandError) Unwrap() error { return e.Err }

func (t *Template) encodeVar(v Var, val string) (string, error) {
	if !t.Multi(v) {
		if val == "" {
			return "", errors.New("empty value")
		}
		return escapeSegment(val), nil
	}
	parts := strings.Split(val, "/")
	sub := &Template{Segments: t.Segments[v.Start:v.End]}
	if !sub.matchShape(parts) {
		return "", errors.New("value " + val + " does not match " + v.Pattern)
	}
	for i, p := range parts {
		parts[i] = escapeSegment(p)
	}
	return strings.Join(parts, "/"), nil
}

// escapeSegment escapes all but RFC 3986 unreserved characters and the
// sub-delimiters that are safe in a segment.
func escapeSegment(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
}
