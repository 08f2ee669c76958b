package rest

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// optionCheck remembers whether the options that name methods
// ([WithRule], [WithCacheControl]) were checked against the registered
// services. Options come before registration, so a name can only be
// judged once every service is in: at the first request.
type optionCheck struct {
	done atomic.Bool
	once sync.Once
	err  error
}

// CheckMethods returns an error naming every method that an option
// ([WithRule], [WithCacheControl]) names and no registered service has,
// such as a misspelt "/pkg.Service/Method"; nil when there is none.
// Call it after registering every service, to fail at start-up.
// ServeHTTP panics with the same error on every request, from the first,
// as an invalid rule makes RegisterService panic: a misspelt name must not
// go unnoticed as a route or header silently missing. duet.Server checks
// it when it starts serving.
func (h *Handler) CheckMethods() error {
	known := make(map[string]bool, len(h.methods))
	for _, m := range h.methods {
		known[m.fullName] = true
	}
	var bad []string
	for name := range h.cfg.rules {
		if !known[name] {
			bad = append(bad, fmt.Sprintf("WithRule(%q)", name))
		}
	}
	for name := range h.cfg.cacheControl {
		if !known[name] {
			bad = append(bad, fmt.Sprintf("WithCacheControl(%q)", name))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("rest: %s: no registered service has this method (want \"/package.Service/Method\")", strings.Join(bad, ", "))
}

// mustCheckMethods panics with [Handler.CheckMethods]'s error; after the
// first request it costs one atomic load.
func (h *Handler) mustCheckMethods() {
	if !h.check.done.Load() {
		h.check.once.Do(func() {
			h.check.err = h.CheckMethods()
			h.check.done.Store(true)
		})
	}
	if h.check.err != nil {
		panic(h.check.err.Error())
	}
}
