// Package httprule parses google.api.http path templates and matches and
// expands them. It is the one place both directions live, so the rest
// transcoder's routing and hateoas's reverse routing cannot disagree.
//
// The grammar (google/api/http.proto):
//
//	Template = "/" Segments [ Verb ] ;
//	Segments = Segment { "/" Segment } ;
//	Segment  = "*" | "**" | LITERAL | Variable ;
//	Variable = "{" FieldPath [ "=" Segments ] "}" ;
//	FieldPath = IDENT { "." IDENT } ;
//	Verb     = ":" LITERAL ;
package httprule

import (
	"fmt"
	"net/url"
	"strings"
)

// Kind is the kind of a path segment.
type Kind uint8

const (
	Literal    Kind = iota // a fixed segment
	Star                   // "*": exactly one segment
	DoubleStar             // "**": zero or more segments, last only
)

// Segment is one segment of a template.
type Segment struct {
	Kind    Kind
	Literal string // for Literal: the decoded text
}

// Var is a variable: the field it binds and the segments it spans.
type Var struct {
	// Path is the field path, such as "name" or "book.shelf_id".
	Path string
	// Start and End delimit the segments the variable captures: [Start, End).
	Start, End int
	// Pattern is the variable's own template, "*" when none was given.
	Pattern string
}

// Template is a parsed path template.
type Template struct {
	Segments []Segment
	Verb     string
	Vars     []Var
	raw      string
}

// String returns the template as written.
func (t *Template) String() string { return t.raw }

// Multi reports whether v may capture more than one segment, in which case
// its value keeps "/" (and "%2F") instead of decoding them.
func (t *Template) Multi(v Var) bool {
	return v.End-v.Start != 1 || t.Segments[v.Start].Kind == DoubleStar
}

// Shape is the template with variables replaced by their wildcards, for
// finding templates that match the same paths: "/v1/*/books/*:verb".
func (t *Template) Shape() string {
	var b strings.Builder
	for _, s := range t.Segments {
		b.WriteByte('/')
		switch s.Kind {
		case Literal:
			b.WriteString(s.Literal)
		case Star:
			b.WriteByte('*')
		case DoubleStar:
			b.WriteString("**")
		}
	}
	if t.Verb != "" {
		b.WriteString(":" + t.Verb)
	}
	return b.String()
}

// Parse parses a path template.
func Parse(tmpl string) (*Template, error) {
	p := &parser{in: tmpl}
	t, err := p.template()
	if err != nil {
		return nil, fmt.Errorf("path template %q: %w", tmpl, err)
	}
	t.raw = tmpl
	return t, nil
}

type parser struct {
	in  string
	pos int
	t   Template
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("at offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *parser) template() (*Template, error) {
	if !strings.HasPrefix(p.in, "/") {
		return nil, p.errorf("must start with /")
	}
	p.pos = 1
	if err := p.segments(false); err != nil {
		return nil, err
	}
	if p.pos < len(p.in) && p.in[p.pos] == ':' {
		p.pos++
		verb := p.in[p.pos:]
		// A verb may itself hold ':' ("custom:custom"), as grpc-gateway
		// accepts; the router tries each ':' of the last segment.
		if verb == "" || strings.ContainsAny(verb, "/{}*") || strings.HasPrefix(verb, ":") {
			return nil, p.errorf("malformed verb %q", verb)
		}
		dec, err := url.PathUnescape(verb)
		if err != nil {
			return nil, p.errorf("verb %q: %v", verb, err)
		}
		p.t.Verb = dec
		p.pos = len(p.in)
	}
	if p.pos != len(p.in) {
		return nil, p.errorf("unexpected %q", p.in[p.pos:])
	}
	for i, s := range p.t.Segments {
		if s.Kind == DoubleStar && i != len(p.t.Segments)-1 {
			return nil, fmt.Errorf("** must be the last segment")
		}
	}
	return &p.t, nil
}

// segments parses Segments; inVar stops at "}".
func (p *parser) segments(inVar bool) error {
	for {
		if err := p.segment(inVar); err != nil {
			return err
		}
		if p.pos < len(p.in) && p.in[p.pos] == '/' {
			p.pos++
			continue
		}
		return nil
	}
}

func (p *parser) segment(inVar bool) error {
	rest := p.in[p.pos:]
	switch {
	case strings.HasPrefix(rest, "**"):
		p.pos += 2
		p.t.Segments = append(p.t.Segments, Segment{Kind: DoubleStar})
	case strings.HasPrefix(rest, "*"):
		p.pos++
		p.t.Segments = append(p.t.Segments, Segment{Kind: Star})
	case strings.HasPrefix(rest, "{"):
		if inVar {
			return p.errorf("variables cannot nest")
		}
		return p.variable()
	default:
		end := strings.IndexAny(rest, "/:{}*")
		if end < 0 {
			end = len(rest)
		}
		lit := rest[:end]
		if lit == "" {
			return p.errorf("empty segment")
		}
		dec, err := url.PathUnescape(lit)
		if err != nil {
			return p.errorf("literal %q: %v", lit, err)
		}
		p.pos += end
		p.t.Segments = append(p.t.Segments, Segment{Kind: Literal, Literal: dec})
	}
	return nil
}

func (p *parser) variable() error {
	p.pos++ // {
	rest := p.in[p.pos:]
	end := strings.IndexAny(rest, "=}")
	if end < 0 {
		return p.errorf("unterminated variable")
	}
	path := rest[:end]
	for _, ident := range strings.Split(path, ".") {
		if !isIdent(ident) {
			return p.errorf("bad field path %q", path)
		}
	}
	for _, v := range p.t.Vars {
		if v.Path == path {
			return p.errorf("field %q is bound twice", path)
		}
	}
	p.pos += end
	start := len(p.t.Segments)
	pattern := "*"
	if p.in[p.pos] == '=' {
		p.pos++
		patStart := p.pos
		if err := p.segments(true); err != nil {
			return err
		}
		pattern = p.in[patStart:p.pos]
	} else {
		p.t.Segments = append(p.t.Segments, Segment{Kind: Star})
	}
	if p.pos >= len(p.in) || p.in[p.pos] != '}' {
		return p.errorf("unterminated variable %q", path)
	}
	p.pos++
	p.t.Vars = append(p.t.Vars, Var{Path: path, Start: start, End: len(p.t.Segments), Pattern: pattern})
	return nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
