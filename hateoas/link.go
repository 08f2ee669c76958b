package hateoas

import (
	"bytes"
	"encoding/json"
	"errors"
	"sort"
	"strings"
)

// Link is a hypermedia link from a resource.
type Link struct {
	// Rel is the relation type, such as "self", "next" or "orders".
	Rel string `json:"rel"`
	// Href is the target URI, or a URI template when Templated.
	Href string `json:"href"`
	// Method is the HTTP method to use, for links to actions; empty means
	// GET.
	Method string `json:"method,omitempty"`
	// Title labels the link for humans.
	Title string `json:"title,omitempty"`
	// Type is the media type of the target.
	Type string `json:"type,omitempty"`
	// Templated says Href is an RFC 6570 URI template.
	Templated bool `json:"templated,omitempty"`
}

// Style selects how links are rendered into a JSON resource.
type Style int

const (
	// Array adds "links": [{"rel", "href", "method"}, …]: one object per
	// link, in order, the method telling clients which HTTP method the
	// action takes.
	Array Style = iota
	// HAL adds "_links": {rel: {"href", …}} (an array where a rel repeats),
	// as draft-kelly-json-hal defines.
	HAL
)

// Render adds links to a JSON object in the given style, after its
// existing members. A body that is not a JSON object is returned with an
// error. No links leaves the body as it is.
func Render(body []byte, links []Link, style Style) ([]byte, error) {
	if len(links) == 0 {
		return body, nil
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) < 2 || trimmed[0] != '{' || trimmed[len(trimmed)-1] != '}' {
		return body, errors.New("hateoas: body is not a JSON object")
	}
	var member []byte
	var err error
	switch style {
	case HAL:
		member, err = json.Marshal(halLinks(links))
		member = append([]byte(`"_links":`), member...)
	default:
		member, err = json.Marshal(links)
		member = append([]byte(`"links":`), member...)
	}
	if err != nil {
		return body, err
	}
	return appendMember(trimmed, member), nil
}

// appendMember adds a "name":value member at the end of a JSON object.
func appendMember(obj, member []byte) []byte {
	out := make([]byte, 0, len(obj)+len(member)+1)
	if len(bytes.TrimSpace(obj[1:len(obj)-1])) == 0 {
		out = append(out, '{')
	} else {
		out = append(out, obj[:len(obj)-1]...)
		out = append(out, ',')
	}
	out = append(out, member...)
	return append(out, '}')
}

type halLink struct {
	Href      string `json:"href"`
	Templated bool   `json:"templated,omitempty"`
	Type      string `json:"type,omitempty"`
	Title     string `json:"title,omitempty"`
	Method    string `json:"method,omitempty"` // not in HAL; kept so actions stay usable
}

// halLinks groups links by rel, in order of first appearance; HAL has no
// place for the method, so it becomes a "method" property, which HAL
// clients ignore.
func halLinks(links []Link) orderedObject {
	var obj orderedObject
	index := map[string]int{}
	for _, l := range links {
		h := halLink{Href: l.Href, Templated: l.Templated, Type: l.Type, Title: l.Title, Method: l.Method}
		if i, ok := index[l.Rel]; ok {
			switch v := obj[i].value.(type) {
			case []halLink:
				obj[i].value = append(v, h)
			case halLink:
				obj[i].value = []halLink{v, h}
			}
			continue
		}
		index[l.Rel] = len(obj)
		obj = append(obj, kv{l.Rel, h})
	}
	return obj
}

type kv struct {
	key   string
	value any
}

// orderedObject is a JSON object that keeps its members' order.
type orderedObject []kv

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(m.value)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Embed adds "_embedded": {rel: [resources…]} to a HAL resource, for
// related resources sent along with it. Each resource is a JSON object,
// typically already rendered with its own links.
func Embed(body []byte, embedded map[string][]json.RawMessage) ([]byte, error) {
	if len(embedded) == 0 {
		return body, nil
	}
	rels := make([]string, 0, len(embedded))
	for r := range embedded {
		rels = append(rels, r)
	}
	sort.Strings(rels)
	obj := make(orderedObject, 0, len(rels))
	for _, r := range rels {
		obj = append(obj, kv{r, embedded[r]})
	}
	member, err := json.Marshal(obj)
	if err != nil {
		return body, err
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) < 2 || trimmed[0] != '{' || trimmed[len(trimmed)-1] != '}' {
		return body, errors.New("hateoas: body is not a JSON object")
	}
	return appendMember(trimmed, append([]byte(`"_embedded":`), member...)), nil
}

// Header formats links as an RFC 8288 Link header value:
// <href>; rel="next", <href>; rel="first".
func Header(links []Link) string {
	var b strings.Builder
	for i, l := range links {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("<" + l.Href + `>; rel="` + l.Rel + `"`)
		if l.Title != "" {
			b.WriteString(`; title=` + quote(l.Title))
		}
		if l.Type != "" {
			b.WriteString(`; type=` + quote(l.Type))
		}
		if l.Method != "" {
			b.WriteString(`; method=` + quote(l.Method))
		}
	}
	return b.String()
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// ParseHeader parses an RFC 8288 Link header value. A link with several
// relation types ("next last") yields one Link per type. Malformed input
// is an error naming what is wrong, never a panic.
func ParseHeader(v string) ([]Link, error) {
	var out []Link
	p := &headerParser{s: v}
	for {
		p.space()
		if p.done() {
			return out, nil
		}
		if !p.eat('<') {
			return nil, p.errorf("expected <")
		}
		end := strings.IndexByte(p.s[p.i:], '>')
		if end < 0 {
			return nil, p.errorf("unterminated <")
		}
		href := p.s[p.i : p.i+end]
		p.i += end + 1
		l := Link{Href: href}
		var rels []string
		for {
			p.space()
			if !p.eat(';') {
				break
			}
			p.space()
			name := strings.ToLower(p.token())
			if name == "" {
				return nil, p.errorf("expected a parameter name")
			}
			p.space()
			val := ""
			if p.eat('=') {
				p.space()
				var err error
				if val, err = p.value(); err != nil {
					return nil, err
				}
			}
			switch name {
			case "rel":
				if rels == nil {
					rels = strings.Fields(val)
				}
			case "title":
				l.Title = val
			case "type":
				l.Type = val
			case "method":
				l.Method = val
			}
		}
		if len(rels) == 0 {
			return nil, p.errorf("link <" + href + "> has no rel")
		}
		for _, r := range rels {
			l.Rel = r
			out = append(out, l)
		}
		p.space()
		if p.done() {
			return out, nil
		}
		if !p.eat(',') {
			return nil, p.errorf("expected , between links")
		}
	}
}

type headerParser struct {
	s string
	i int
}

func (p *headerParser) done() bool { return p.i >= len(p.s) }
func (p *headerParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}
func (p *headerParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}
func (p *headerParser) token() string {
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune(" \t;,=\"<>", rune(p.s[p.i])) {
		p.i++
	}
	return p.s[start:p.i]
}
func (p *headerParser) value() (string, error) {
	if !p.eat('"') {
		return p.token(), nil
	}
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch c {
		case '\\':
			if p.i < len(p.s) {
				b.WriteByte(p.s[p.i])
				p.i++
			}
		case '"':
			return b.String(), nil
		default:
			b.WriteByte(c)
		}
	}
	return "", p.errorf("unterminated quoted string")
}
func (p *headerParser) errorf(msg string) error {
	return errors.New("hateoas: Link header at offset " + itoa(p.i) + ": " + msg)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
