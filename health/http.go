package health

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// MediaType is the draft-inadarei-api-health-check media type of probe
// bodies.
const MediaType = "application/health+json"

// ServeHTTP serves the Kubernetes-style probes, by the last element of the
// path: /livez (is the process able to serve), /readyz (are its critical
// dependencies passing and is it not draining) and /healthz (both). Each
// answers 200 or 503 with an application/health+json body whose status is
// pass, warn (a non-critical check fails) or fail; ?verbose adds every
// check with its time and public output. Mount it on each of the three
// paths.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	if kind != "livez" && kind != "readyz" && kind != "healthz" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	s.mu.Lock()
	live := true
	ready := s.readyLocked()
	warn := false
	type check struct {
		Status string `json:"status"`
		Time   string `json:"time,omitempty"`
		Output string `json:"output,omitempty"`
		Type   string `json:"componentType"`
	}
	checks := map[string][]check{}
	for name, res := range s.results {
		counts := (kind == "livez" && res.Liveness) || kind != "livez"
		if !counts {
			continue
		}
		st := "pass"
		if !res.OK {
			switch {
			case res.Liveness || res.Critical:
				st = "fail"
			default:
				st = "warn"
				warn = true
			}
			if res.Liveness {
				live = false
			}
			if res.Critical {
				ready = false
			}
		}
		c := check{Status: st, Output: res.Output, Type: "component"}
		if !res.Time.IsZero() {
			c.Time = res.Time.UTC().Format(time.RFC3339Nano)
		}
		checks[name] = []check{c}
	}
	if s.draining {
		checks["server:draining"] = []check{{Status: "fail", Output: "shutting down", Type: "system"}}
	} else if !s.started {
		checks["server:ready"] = []check{{Status: "fail", Output: "not started", Type: "system"}}
	} else if !s.ready {
		checks["server:ready"] = []check{{Status: "fail", Output: "not ready", Type: "system"}}
	}
	s.mu.Unlock()

	ok := live
	switch kind {
	case "readyz":
		ok = ready
	case "healthz":
		ok = live && ready
	}
	if kind == "livez" {
		delete(checks, "server:draining")
		delete(checks, "server:ready")
	}
	body := struct {
		Status string             `json:"status"`
		Checks map[string][]check `json:"checks,omitempty"`
	}{Status: "pass"}
	switch {
	case !ok:
		body.Status = "fail"
	case warn && kind != "livez":
		body.Status = "warn"
	}
	if _, verbose := r.URL.Query()["verbose"]; verbose {
		body.Checks = checks
	}
	w.Header().Set("Content-Type", MediaType)
	w.Header().Set("Cache-Control", "no-store")
	if ok {
		w.WriteHeader(http.StatusOK)
	} else {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	if r.Method == http.MethodGet {
		_ = json.NewEncoder(w).Encode(body)
	}
}
