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
	return AppendSegments(nil, escaped)
}

// AppendSegments is SplitPath appending to dst, so that a caller can split
// into storage it already has. A path that does not start with "/" appends
// nothing and returns nil.
func AppendSegments(dst []string, escaped string) []string {
	if !strings.HasPrefix(escaped, "/") {
		return nil
	}
	rest := escaped[1:]
	for {
		seg, tail, more := strings.Cut(rest, "/")
		dst = append(dst, seg)
		if !more {
			return dst
		}
		rest = tail
	}
}

// Match reports whether the raw segments match the template's segments
// (the verb, if any, already removed from the last segment) and, if so,
// calls bind for each variable with its decoded value. Single-segment
// variables decode everything, "%2F" included; multi-segment ones keep
// "%2F" so that the segments they span stay distinguishable.
//
// escaped is the path that segs were split from by SplitPath or
// AppendSegments (the last segment may since have lost its ":verb"
// suffix), or "" when there is none: with it, a multi-segment value that
// has nothing to decode is a substring of the path rather than a copy.
func (t *Template) Match(escaped string, segs []string, bind func(v Var, value string) error) (bool, error) {
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
			value, err = decodeMulti(escaped, segs, v.Start, end)
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

// Error names the variable and what is wrong with its encoding.
func (e *DecodeError) Error() string { return "path variable " + e.Var + ": " + e.Err.Error() }

// Unwrap returns the url package's error.
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

// decodeMulti decodes the value of a variable spanning all[start:end],
// keeping "%2F" escaped.
func decodeMulti(path string, all []string, start, end int) (string, error) {
	segs := all[start:end]
	escaped := false
	for _, s := range segs {
		if strings.IndexByte(s, '%') >= 0 {
			escaped = true
			break
		}
	}
	if !escaped { // the common case: nothing to decode
		if path == "" || len(segs) == 0 {
			return strings.Join(segs, "/"), nil
		}
		// The segments lie in path one "/" apart, after its leading "/".
		off := 1
		for _, s := range all[:start] {
			off += len(s) + 1
		}
		n := len(segs) - 1
		for _, s := range segs {
			n += len(s)
		}
		if off+n <= len(path) {
			return path[off : off+n], nil
		}
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
	b.Grow(t.expandSize())
	vi := 0
	for i := 0; i < len(t.Segments); {
		if vi < len(t.Vars) && t.Vars[vi].Start == i {
			v := t.Vars[vi]
			val, ok := value(v.Path)
			if !ok {
				return "", &ExpandError{Var: v.Path, Err: ErrMissing}
			}
			b.WriteByte('/')
			if err := t.writeVar(&b, v, val); err != nil {
				return "", &ExpandError{Var: v.Path, Err: err}
			}
			i = v.End
			vi++
			continue
		}
		s := t.Segments[i]
		b.WriteByte('/')
		switch s.Kind {
		case Literal:
			writeEscaped(&b, s.Literal)
		default:
			return "", &ExpandError{Var: "*", Err: errors.New("template has an anonymous wildcard")}
		}
		i++
	}
	if t.Verb != "" {
		b.WriteByte(':')
		writeEscaped(&b, t.Verb)
	}
	return b.String(), nil
}

// expandSize guesses the length of an expanded path, so that Expand
// allocates once in the common case.
func (t *Template) expandSize() int {
	n := len(t.Verb) + 1
	for _, s := range t.Segments {
		n += len(s.Literal) + 1
	}
	return n + 24*len(t.Vars)
}

// ExpandError is a variable that Expand could not fill.
type ExpandError struct {
	Var string
	Err error
}

// Error names the variable and why it could not be filled.
func (e *ExpandError) Error() string { return "expanding {" + e.Var + "}: " + e.Err.Error() }

// Unwrap returns the reason, such as ErrMissing.
func (e *ExpandError) Unwrap() error { return e.Err }

// writeVar writes a variable's value, escaped, or says why it does not
// fit the variable's pattern.
func (t *Template) writeVar(b *strings.Builder, v Var, val string) error {
	if !t.Multi(v) {
		if val == "" {
			return errors.New("empty value")
		}
		writeEscaped(b, val)
		return nil
	}
	if !t.fits(v, val) {
		return errors.New("value " + val + " does not match " + v.Pattern)
	}
	for {
		part, rest, more := strings.Cut(val, "/")
		writeEscaped(b, part)
		if !more {
			return nil
		}
		b.WriteByte('/')
		val = rest
	}
}

// fits reports whether a multi-segment value, split at "/", matches the
// segments of v's pattern.
func (t *Template) fits(v Var, val string) bool {
	rest, more := val, true
	for _, s := range t.Segments[v.Start:v.End] {
		if s.Kind == DoubleStar { // always last; takes what is left
			return true
		}
		if !more {
			return false
		}
		var part string
		part, rest, more = strings.Cut(rest, "/")
		switch s.Kind {
		case Literal:
			if !literalEqual(part, s.Literal) {
				return false
			}
		case Star:
			if part == "" {
				return false
			}
		}
	}
	return !more
}

// writeEscaped writes s with all but RFC 3986 unreserved characters and the
// sub-delimiters that are safe in a segment escaped.
func writeEscaped(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		if !segmentSafe(s[i]) {
			b.WriteString(escapeSegment(s))
			return
		}
	}
	b.WriteString(s)
}

// segmentSafe reports whether url.PathEscape leaves c alone and it is not
// the ":" that escapeSegment adds.
func segmentSafe(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '_', '.', '~', '$', '&', '+', '=', '@':
		return true
	}
	return false
}

// escapeSegment escapes all but RFC 3986 unreserved characters and the
// sub-delimiters that are safe in a segment.
func escapeSegment(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
}
