// Command openapicheck validates OpenAPI documents against the OpenAPI 3.1
// specification with libopenapi-validator, an independent validator, and
// optionally validates recorded HTTP exchanges (requests and responses)
// against a document.
//
// It lives in the tools module so that users of duet never download it.
//
// Usage:
//
//	openapicheck doc.json...
//	openapicheck -exchanges exchanges.jsonl doc.json
//
// An exchanges file holds one JSON object a line, as written by duet's
// example tests when DUET_EXCHANGES is set (see internal/exchange).
//
// Exchanges are checked strictly: every object schema that declares its
// properties and says nothing of others gets "additionalProperties": false
// first, so a member the server sends and the document does not describe
// fails the check. Schemas that allow other members on purpose say so
// (a Problem's RFC 9457 extension members, google.protobuf.Struct, maps).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	verrors "github.com/pb33f/libopenapi-validator/errors"
)

// exchange is one recorded request and its response.
type exchange struct {
	Method          string      `json:"method"`
	URL             string      `json:"url"`
	RequestHeader   http.Header `json:"request_header"`
	RequestBody     []byte      `json:"request_body"`
	Status          int         `json:"status"`
	ResponseHeader  http.Header `json:"response_header"`
	ResponseBody    []byte      `json:"response_body"`
	SkipRequestBody bool        `json:"skip_request_body,omitempty"`
}

func main() {
	exchanges := flag.String("exchanges", "", "a JSON-lines file of recorded exchanges to validate against the (single) document")
	flag.Parse()
	if flag.NArg() == 0 || (*exchanges != "" && flag.NArg() != 1) {
		fmt.Fprintln(os.Stderr, "usage: openapicheck [-exchanges file.jsonl] doc.json...")
		os.Exit(2)
	}
	failed := false
	for _, path := range flag.Args() {
		v, err := load(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			failed = true
			continue
		}
		if ok, errs := v.ValidateDocument(); !ok {
			report(path+": not a valid OpenAPI document", errs)
			failed = true
			continue
		}
		fmt.Printf("%s: valid OpenAPI 3.1\n", path)
		if *exchanges != "" {
			sv, err := loadSplitVerbs(path)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
				failed = true
				continue
			}
			v, err := loadStrict(path)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
				failed = true
				continue
			}
			n, bad, err := checkExchanges(v, sv, *exchanges)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", *exchanges, err)
				failed = true
			}
			fmt.Printf("%s: %d exchanges, %d not matching the document\n", *exchanges, n, bad)
			failed = failed || bad > 0
		}
	}
	if failed {
		os.Exit(1)
	}
}

// verbSuffix finds a custom verb after a path parameter: "{id}:deactivate".
var verbSuffix = regexp.MustCompile(`\}:([A-Za-z0-9_.-]+)"`)

func load(path string) (validator.Validator, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return build(b)
}

// loadStrict loads the document with [strict] applied.
func loadStrict(path string) (validator.Validator, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if b, err = strict(b); err != nil {
		return nil, err
	}
	return build(b)
}

// strict adds "additionalProperties": false to every object schema of the
// document that lists properties and does not mention additional ones.
func strict(doc []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return nil, err
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			_, props := v["properties"].(map[string]any)
			_, additional := v["additionalProperties"]
			_, unevaluated := v["unevaluatedProperties"]
			if props && !additional && !unevaluated && isObject(v["type"]) {
				v["additionalProperties"] = false
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return json.Marshal(v)
}

func isObject(t any) bool {
	switch t := t.(type) {
	case string:
		return t == "object"
	case []any:
		for _, e := range t {
			if e == "object" {
				return true
			}
		}
	}
	return false
}

// loadSplitVerbs loads the document with every custom verb moved into a
// segment of its own ("/v1/users/{id}:deactivate" becomes
// "/v1/users/{id}/:deactivate"). libopenapi-validator matches parameters
// only as whole segments, so it cannot route "/v1/users/42:deactivate"
// against the template as written; requests are rewritten the same way
// (splitVerb), a one-to-one change that keeps every other check intact.
func loadSplitVerbs(path string) (validator.Validator, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if b, err = strict(b); err != nil {
		return nil, err
	}
	return build(verbSuffix.ReplaceAll(b, []byte(`}/:$1"`)))
}

func splitVerb(u *url.URL) bool {
	i := strings.LastIndexByte(u.Path, '/')
	last := u.Path[i+1:]
	j := strings.LastIndexByte(last, ':')
	if j <= 0 {
		return false
	}
	u.Path = u.Path[:i+1] + last[:j] + "/" + last[j:]
	u.RawPath = ""
	return true
}

func build(b []byte) (validator.Validator, error) {
	doc, err := libopenapi.NewDocument(b)
	if err != nil {
		return nil, err
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return nil, fmt.Errorf("building validator: %v", errs)
	}
	return v, nil
}

func checkExchanges(v, splitVerbs validator.Validator, path string) (n, bad int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var ex exchange
		if err := json.Unmarshal(sc.Bytes(), &ex); err != nil {
			return n, bad, fmt.Errorf("line %d: %v", n+1, err)
		}
		n++
		req, err := http.NewRequest(ex.Method, ex.URL, bytes.NewReader(ex.RequestBody))
		if err != nil {
			return n, bad, fmt.Errorf("line %d: %v", n, err)
		}
		req.Header = ex.RequestHeader
		use := v
		if splitVerb(req.URL) {
			use = splitVerbs
		}
		resp := &http.Response{
			StatusCode: ex.Status,
			Header:     ex.ResponseHeader,
			Body:       io.NopCloser(bytes.NewReader(ex.ResponseBody)),
			Request:    req,
		}
		var errs []*verrors.ValidationError
		if ok, e := use.ValidateHttpRequestResponse(req, resp); !ok {
			errs = e
		}
		if len(errs) > 0 {
			bad++
			report(fmt.Sprintf("%s %s → %d", ex.Method, ex.URL, ex.Status), errs)
		}
	}
	return n, bad, sc.Err()
}

func report(what string, errs []*verrors.ValidationError) {
	fmt.Fprintln(os.Stderr, what)
	for _, e := range errs {
		fmt.Fprintf(os.Stderr, "  - %s: %s\n", e.Message, strings.TrimSpace(e.Reason))
		for _, se := range e.SchemaValidationErrors {
			fmt.Fprintf(os.Stderr, "      %s at %s\n", se.Reason, se.FieldPath)
		}
	}
}
