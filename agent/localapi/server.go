// Package localapi answers `agent status` and friends while the daemon runs:
// HTTP/JSON over a Unix socket (Linux, macOS) or a named pipe (Windows),
// with every request authorized by the peer's operating-system identity
// (SO_PEERCRED, LOCAL_PEERCRED, the pipe client's token). Administrators see
// everything, may trigger scans and record attestations, exemptions and
// drift baselines; any other local user gets a redacted, read-only view
// with device-level findings and records and their own, without other
// people's names (reads.go says exactly what).
//
// The design follows Tailscale's LocalAPI (ipn/localapi, safesocket): a fake
// Host name, refusal of browser-originated requests (Origin/Referer) and a
// typed client over the same transport.
package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/msgguard/msgguard/agent/apitype"
	"github.com/msgguard/msgguard/agent/status"
)

// Host is the HTTP Host every request must carry. It is not resolvable; the
// client dials the socket whatever the URL says. Requiring it defeats DNS
// rebinding should the API ever be reached through something else.
const Host = "local-msgguard"

// APIVersion is sent in the Msgguard-API header of every response.
const APIVersion = "1"

// Paths of the endpoints.
const (
	PathStatus    = "/v1/status"
	PathFindings  = "/v1/findings"
	PathInventory = "/v1/inventory"
	PathDrift     = "/v1/drift"
	PathHealth    = "/v1/health"
	PathScan      = "/v1/scan"
)

// ErrNoReport is returned by a Backend that has no scan to show yet; the
// API answers 503 so the client can fall back or wait.
var ErrNoReport = errors.New("no scan has completed yet")

// ErrUnavailable is returned by a Backend for a feature it does not offer
// (yet); the API answers 501.
var ErrUnavailable = errors.New("not available in this version")

// ErrStopping is returned by a Backend that is shutting down; the API
// answers 503.
var ErrStopping = errors.New("agent is stopping")

// ErrWaiting is returned by a Backend of a service that is up but waits
// for something it needs (its database); the API answers 503 with the
// error's text.
var ErrWaiting = errors.New("is waiting")

// Backend is the running agent as the API sees it.
type Backend interface {
	// Status is the latest report with the service state filled in.
	Status(ctx context.Context) (*status.Report, error)
	// ScanNow runs (or joins) a scan that starts after the call and returns
	// its report.
	ScanNow(ctx context.Context) (*status.Report, error)
	// Drift returns what changed since the given time.
	Drift(ctx context.Context, since time.Time) (*apitype.DriftResponse, error)
	// Health is the agent's own health.
	Health(ctx context.Context) status.Health
}

// Peer is the local account on the other end of a connection.
type Peer struct {
	// UID is the numeric user id (-1 on Windows).
	UID int
	// SID is the user's security identifier on Windows.
	SID string
	// User is the account name as the inventory names users ("alice");
	// empty if it could not be resolved, which redacts everything personal.
	User string
	// Admin is true for root (uid 0), SYSTEM and members of Administrators.
	Admin bool
}

// Server serves the local API.
type Server struct {
	// backend is swapped once a service has what it needs (SetBackend).
	backend atomic.Pointer[backendRef]
	log     zerolog.Logger
	// identify resolves a connection's peer; per-OS (see peer_*.go),
	// replaceable in tests.
	identify func(net.Conn) (Peer, error)
	// uidOf is the listener's uid lookup for Limits; replaceable in
	// tests.
	uidOf  func(net.Conn) (int, bool)
	limits Limits
	// cache holds the encoded views of the latest report (Snapshotter).
	cache viewCache
	srv   *http.Server
}

// NewServer returns a server for b.
func NewServer(b Backend, log zerolog.Logger) *Server {
	s := &Server{log: log.With().Str("component", "localapi").Logger(), identify: peerOf,
		uidOf: acceptUID, limits: DefaultLimits}
	s.SetBackend(b)
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, &connPeer{conn: c, identify: s.identify})
		},
		// net/http's own errors (accept failures, handler panics) go to
		// the agent's log rather than to stderr through package log.
		ErrorLog: stdlog.New(s.log.Level(zerolog.WarnLevel), "", 0),
	}
	return s
}

// backendRef holds a Backend for the atomic pointer.
type backendRef struct{ Backend }

// SetBackend makes b answer the requests that arrive from now on: a
// service serves its API while it waits for its database (health says
// why) and hands over to the running agent when it has it.
func (s *Server) SetBackend(b Backend) { s.backend.Store(&backendRef{b}) }

// be is the current backend.
func (s *Server) be() Backend { return s.backend.Load().Backend }

// Serve accepts connections on l until Shutdown, within the server's
// Limits.
func (s *Server) Serve(l net.Listener) error {
	err := s.srv.Serve(newLimitListener(l, s.limits, s.uidOf, s.log))
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, waits for in-flight requests until ctx expires,
// then closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	return err
}

type connKey struct{}

// connPeer resolves a connection's peer once, on its first request: on
// Windows the server must have read from the pipe before it may impersonate
// the client (ImpersonateNamedPipeClient docs), so identification cannot
// happen at accept time.
type connPeer struct {
	conn     net.Conn
	identify func(net.Conn) (Peer, error)
	once     sync.Once
	peer     Peer
	err      error
}

func (c *connPeer) get() (Peer, error) {
	c.once.Do(func() { c.peer, c.err = c.identify(c.conn) })
	return c.peer, c.err
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	h := w.Header()
	h.Set("Msgguard-API", APIVersion)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'")
	h.Set("Cache-Control", "no-store")
	code := s.serve(w, r)
	s.log.Debug().Str("method", r.Method).Str("path", r.URL.Path).Int("code", code).
		Dur("took", time.Since(start)).Msg("request")
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) int {
	// A browser can be tricked into sending requests to local endpoints
	// (CSRF, DNS rebinding); browsers always add Origin to such requests
	// and usually Referer. Tailscale's localapi refuses both.
	if r.Header.Get("Origin") != "" || r.Header.Get("Referer") != "" {
		return writeError(w, http.StatusForbidden, "requests from browsers are not allowed")
	}
	if r.Host != Host {
		return writeError(w, http.StatusForbidden, "unexpected Host")
	}
	cp, _ := r.Context().Value(connKey{}).(*connPeer)
	if cp == nil {
		return writeError(w, http.StatusForbidden, "unknown peer")
	}
	peer, err := cp.get()
	if err != nil {
		s.log.Warn().Err(err).Msg("peer_identify_failed")
		return writeError(w, http.StatusForbidden, "cannot identify the caller")
	}
	limit := int64(1 << 10)
	if isRecordPath(r.URL.Path) {
		limit = maxRecordBody
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	switch r.URL.Path {
	case PathAttest, PathExempt, PathBaselineAccept:
		return s.serveRecord(w, r, peer)
	case PathAttestations, PathExemptions, PathBaselines, PathExplain:
		return s.serveRead(w, r, peer)
	case PathStatus, PathFindings, PathInventory:
		if !allow(w, r, http.MethodGet) {
			return http.StatusMethodNotAllowed
		}
		return s.serveReport(w, r, peer)
	case PathHealth:
		if !allow(w, r, http.MethodGet) {
			return http.StatusMethodNotAllowed
		}
		h := s.be().Health(r.Context())
		if !peer.Admin {
			h = h.Redact()
		}
		return writeJSON(w, http.StatusOK, h)
	case PathDrift:
		if !allow(w, r, http.MethodGet) {
			return http.StatusMethodNotAllowed
		}
		return s.serveDrift(w, r, peer)
	case PathScan:
		if !allow(w, r, http.MethodPost) {
			return http.StatusMethodNotAllowed
		}
		if !peer.Admin {
			return writeError(w, http.StatusForbidden, "only administrators may start a scan")
		}
		rep, err := s.be().ScanNow(r.Context())
		if err != nil {
			return backendError(w, err)
		}
		return writeJSON(w, http.StatusOK, rep)
	}
	return writeError(w, http.StatusNotFound, "no such endpoint")
}

func allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	writeError(w, http.StatusMethodNotAllowed, "use "+method)
	return false
}

func (s *Server) serveReport(w http.ResponseWriter, r *http.Request, peer Peer) int {
	if snap, ok := s.be().(Snapshotter); ok {
		return s.serveSnapshot(w, r, peer, snap)
	}
	rep, err := s.be().Status(r.Context())
	if err != nil {
		return backendError(w, err)
	}
	if !peer.Admin {
		rep = rep.Redact(peer.User)
	}
	rep = normalize(rep)
	switch r.URL.Path {
	case PathFindings:
		return writeJSON(w, http.StatusOK, rep.Findings)
	case PathInventory:
		return writeJSON(w, http.StatusOK, rep.Inventory)
	}
	return writeJSON(w, http.StatusOK, rep)
}

func (s *Server) serveDrift(w http.ResponseWriter, r *http.Request, peer Peer) int {
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := ParseSince(v, time.Now())
		if err != nil {
			return writeError(w, http.StatusBadRequest, "since: "+err.Error())
		}
		since = t
	}
	d, err := s.be().Drift(r.Context(), since)
	if err != nil {
		return backendError(w, err)
	}
	if !peer.Admin {
		d = d.Redact(peer.User)
	}
	return writeJSON(w, http.StatusOK, d)
}

// ParseSince reads a "since" value as `agent drift --since` and
// /v1/drift?since= take it: "all" (or "0", or empty) for everything, a
// number of days ("7d"), a Go duration ("36h", "90m") or an RFC 3339 time.
// Pure, fuzz-tested.
func ParseSince(v string, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	switch v {
	case "all", "0", "":
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return clampSince(t, now), nil
	}
	if d, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(d)
		if err == nil && n >= 0 && n <= 36500 {
			return clampSince(now.AddDate(0, 0, -n), now), nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return clampSince(now.Add(-d), now), nil
	}
	return time.Time{}, fmt.Errorf("want an age such as 7d or 24h, an RFC 3339 time, or all; got %q", v)
}

// clampSince keeps a since time where the store can use it: the store
// keys scans by Unix nanoseconds, which overflow after 2262 (year 3000
// came out as "everything"). A time in the future means nothing yet: now;
// one before 1970 means everything: the zero time.
func clampSince(t, now time.Time) time.Time {
	switch {
	case t.After(now):
		return now
	case t.Before(time.Unix(0, 0)):
		return time.Time{}
	}
	return t
}

func backendError(w http.ResponseWriter, err error) int {
	var invalid *RequestError
	switch {
	case errors.As(err, &invalid):
		return writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, ErrNoReport), errors.Is(err, ErrStopping), errors.Is(err, ErrWaiting):
		return writeError(w, http.StatusServiceUnavailable, err.Error())
	case errors.Is(err, ErrUnavailable):
		return writeError(w, http.StatusNotImplemented, err.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return writeError(w, http.StatusServiceUnavailable, err.Error())
	}
	return writeError(w, http.StatusInternalServerError, err.Error())
}

// errorBody is the JSON body of every non-2xx response.
type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) int {
	return writeJSON(w, code, errorBody{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b = []byte(`{"error":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
	return code
}
