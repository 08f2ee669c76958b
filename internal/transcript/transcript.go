// Package transcript reads the curl sessions shown in the examples'
// READMEs, so that their tests can replay them against a fresh server and
// keep the READMEs true.
//
// A session lives in fenced code blocks: a "$ curl -i ..." (or -iN) line,
// then what curl printed: the status line, headers up to a blank line, and
// the body up to the next blank line; or a "$ grpcurl ..." line and what
// grpcurl printed, up to a blank line. "$ printf 'text' > file" lines
// create the files that -T uploads. Other lines are left alone.
package transcript

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// Call is one curl command and what it printed.
type Call struct {
	Tool    string      // "curl" or "grpcurl"
	Command string      // the line after "$ "
	Args    []string    // the command's words after the tool's name
	Method  string      // -X, else POST for -d, else GET, as curl does
	URL     string      // path and query, as typed after the host
	Header  http.Header // -H
	Body    string      // -d
	Upload  string      // the file name given to -T
	Status  string      // "HTTP/1.1 200 OK"
	Shown   [][2]string // the response headers shown, canonical names, in order
	Resp    []string    // the body's lines; grpcurl's whole output
}

// Session is a README's calls, in order, and the files its printf lines
// create.
type Session struct {
	Calls []Call
	Files map[string]string
}

// Read parses the README at path. It fails on a command it does not
// understand, so that a README cannot show what its test skips.
func Read(path string) (Session, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Session{}, err
	}
	s := Session{Files: map[string]string{}}
	var (
		cur     *Call
		inFence bool
		part    int // 0 status, 1 headers, 2 body
	)
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			inFence, cur = !inFence, nil
			continue
		}
		if !inFence {
			continue
		}
		if cmd, ok := strings.CutPrefix(line, "$ "); ok {
			cur = nil
			words, err := shellWords(cmd)
			if err != nil {
				return Session{}, err
			}
			switch {
			case words[0] == "printf":
				if len(words) != 4 || words[2] != ">" {
					return Session{}, fmt.Errorf("%q: only printf 'text' > file is understood", line)
				}
				s.Files[words[3]] = strings.ReplaceAll(words[1], `\n`, "\n")
			case words[0] == "curl" && len(words) > 1 && (words[1] == "-i" || words[1] == "-iN"):
				c, err := parseCurl(cmd, words)
				if err != nil {
					return Session{}, err
				}
				s.Calls = append(s.Calls, c)
				cur, part = &s.Calls[len(s.Calls)-1], 0
			case words[0] == "grpcurl":
				s.Calls = append(s.Calls, Call{Tool: "grpcurl", Command: cmd, Args: words[1:]})
				cur, part = &s.Calls[len(s.Calls)-1], 2 // no status or headers
			}
			continue
		}
		if cur == nil {
			continue
		}
		switch {
		case part == 0:
			cur.Status, part = line, 1
		case part == 1 && line == "":
			part = 2
		case part == 1:
			k, v, _ := strings.Cut(line, ": ")
			cur.Shown = append(cur.Shown, [2]string{http.CanonicalHeaderKey(k), v})
		case line == "":
			cur = nil
		default:
			cur.Resp = append(cur.Resp, line)
		}
	}
	if len(s.Calls) == 0 {
		return Session{}, fmt.Errorf("%s: no curl -i or grpcurl transcripts", path)
	}
	return s, sc.Err()
}

// shellWords splits a command line into words, with single-quoted words
// as in a POSIX shell.
func shellWords(cmd string) ([]string, error) {
	var words []string
	for rest := strings.TrimSpace(cmd); rest != ""; rest = strings.TrimSpace(rest) {
		if rest[0] == '\'' {
			end := strings.IndexByte(rest[1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote in %q", cmd)
			}
			words, rest = append(words, rest[1:1+end]), rest[2+end:]
			continue
		}
		w, r, _ := strings.Cut(rest, " ")
		words, rest = append(words, w), r
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("empty command")
	}
	return words, nil
}

// parseCurl reads the curl options the READMEs use: -i, -N, -X, -H, -d, -T
// and the URL.
func parseCurl(cmd string, words []string) (Call, error) {
	c := Call{Tool: "curl", Command: cmd, Args: words[1:], Header: http.Header{}}
	for i := 1; i < len(words); i++ {
		w := words[i]
		switch w {
		case "-i", "-iN", "-N":
			continue
		case "-X", "-H", "-d", "-T":
			if i+1 == len(words) {
				return Call{}, fmt.Errorf("%q: %s without a value", cmd, w)
			}
			i++
		}
		switch v := words[i]; w {
		case "-X":
			c.Method = v
		case "-H":
			k, val, _ := strings.Cut(v, ": ")
			c.Header.Add(k, val)
		case "-d":
			c.Body = v
		case "-T":
			c.Upload = v
		default:
			if strings.HasPrefix(w, "-") {
				return Call{}, fmt.Errorf("%q: option %s not understood", cmd, w)
			}
			_, c.URL, _ = strings.Cut(w, "/") // drop the host
			c.URL = "/" + c.URL
		}
	}
	if c.Method == "" {
		switch {
		case c.Body != "":
			c.Method = http.MethodPost
		case c.Upload != "":
			c.Method = http.MethodPut
		default:
			c.Method = http.MethodGet
		}
	}
	return c, nil
}
