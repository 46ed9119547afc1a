package localapi

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/msgguard/msgguard/agent/status"
)

// Snapshotter is implemented by a Backend that can hand out its latest
// report without copying it: the report returned is shared and never
// modified (a new scan replaces it with another pointer), and the service
// state is returned apart because it changes between scans. The server
// then encodes each view of a report (the administrators', each user's)
// once per scan and answers /v1/status, /v1/findings and /v1/inventory
// from the bytes, adding only the small service part per request: a
// status request costs no re-read and no re-encode of the report.
type Snapshotter interface {
	Snapshot(ctx context.Context) (*status.Report, *status.Service, error)
}

// maxCachedViews bounds the encoded views kept for one report (one per
// local account that asked, plus the administrators'); beyond it the cache
// starts over rather than grow.
const maxCachedViews = 64

// viewCache holds the encoded views of the two latest reports (the newest
// is warmed before the backend serves it, while requests are still
// answered from the one before: see Server.Warm), and the encoded service
// part of the last status answered to administrators and to others.
type viewCache struct {
	mu sync.Mutex
	// gens[0] is the newest report's views, gens[1] the one before.
	gens [2]viewGen
	// svc[1] is the administrators' service part, svc[0] the redacted one.
	// It changes with a scan or a health reading (at most once a second in
	// a burst), not per request: encoding it per request was a tenth of a
	// status request's cost, most of it in growing the handler's stack.
	svc [2]struct {
		val status.Service
		b   []byte
	}
}

// service returns the encoded service part for an administrator or not.
func (c *viewCache) service(svc *status.Service, admin bool) ([]byte, error) {
	sv := *svc
	i := 1
	if !admin {
		sv.Health = sv.Health.Redact()
		i = 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &c.svc[i]
	if e.b != nil && sameService(e.val, sv) {
		return e.b, nil
	}
	b, err := json.Marshal(&sv)
	if err != nil {
		return nil, err
	}
	e.val, e.b = sv, b
	return b, nil
}

// sameService reports whether a and b encode the same; a false "no" only
// costs an encode.
func sameService(a, b status.Service) bool {
	ha, hb := a.Health, b.Health
	return a.Running == b.Running && a.StartedAt.Equal(b.StartedAt) && a.LastScan.Equal(b.LastScan) &&
		a.NextScan.Equal(b.NextScan) && a.ScanDuration == b.ScanDuration &&
		ha.OK == hb.OK && ha.State == hb.State && ha.RSSBytes == hb.RSSBytes && ha.ProblemCount == hb.ProblemCount &&
		ha.Redacted == hb.Redacted && slices.Equal(ha.Problems, hb.Problems) && slices.EqualFunc(ha.Sinks, hb.Sinks, sameSink)
}

func sameSink(a, b status.SinkHealth) bool {
	return a.Name == b.Name && a.LastSuccess.Equal(b.LastSuccess) && a.QueueDepth == b.QueueDepth &&
		a.LastError == b.LastError && a.Failing == b.Failing
}

// viewGen is the encoded views of one report.
type viewGen struct {
	report *status.Report
	views  map[viewKey]*view
}

type viewKey struct {
	path  string
	admin bool
	user  string
}

// view is one encoded view of a report and, once a client asked for it,
// its gzip form.
type view struct {
	body []byte
	gz   *gzipPrefix
}

// get returns the encoded view of rep at path for peer, encoding it on
// first use.
func (c *viewCache) get(rep *status.Report, path string, peer Peer) (*view, error) {
	k := viewKey{path: path, admin: peer.Admin}
	if !peer.Admin {
		k.user = peer.User
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.gen(rep)
	if v, ok := g.views[k]; ok {
		return v, nil
	}
	b, err := encodeView(rep, path, peer)
	if err != nil {
		return nil, err
	}
	v := &view{body: b}
	g.views[k] = v
	return v, nil
}

// gen returns rep's generation, making it the newest when rep is neither
// of the two kept (c.mu held).
func (c *viewCache) gen(rep *status.Report) *viewGen {
	for i := range c.gens {
		if g := &c.gens[i]; g.report == rep && g.views != nil {
			if len(g.views) >= maxCachedViews {
				g.views = map[viewKey]*view{}
			}
			return g
		}
	}
	c.gens[1] = c.gens[0]
	c.gens[0] = viewGen{report: rep, views: map[viewKey]*view{}}
	return &c.gens[0]
}

// put installs a view encoded outside the lock (Server.Warm).
func (c *viewCache) put(rep *status.Report, k viewKey, v *view) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen(rep).views[k] = v
}

// gzipped returns v's gzip prefix, compressing it on first use.
func (c *viewCache) gzipped(v *view) *gzipPrefix {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v.gz == nil {
		v.gz = compressPrefix(v.body[:len(v.body)-1])
	}
	return v.gz
}

// encodeView encodes what path shows peer of rep (without the service
// part), with every list non-nil.
func encodeView(rep *status.Report, path string, peer Peer) ([]byte, error) {
	if !peer.Admin {
		rep = rep.Redact(peer.User)
	}
	rep = normalize(rep)
	switch path {
	case PathFindings:
		return json.Marshal(rep.Findings)
	case PathInventory:
		return json.Marshal(rep.Inventory)
	}
	r := *rep
	r.Service = nil
	return json.Marshal(&r)
}

// normalize is status.Report.Normalized.
func normalize(rep *status.Report) *status.Report { return rep.Normalized() }

// serveSnapshot answers a report endpoint from the cache. The cached
// body ends with its closing brace or bracket; what follows it per request
// (the service part of /v1/status, the newline) is written after it. A
// client that accepts gzip gets the body compressed once per view and the
// per-request end as a stored block (see gzipPrefix): the answer to a
// status request on a 50-user machine shrinks from about 100 KB to a tenth,
// and copying those bytes into the socket was most of the service's cost
// per request.
func (s *Server) serveSnapshot(w http.ResponseWriter, r *http.Request, peer Peer, snap Snapshotter) int {
	rep, svc, err := snap.Snapshot(r.Context())
	if err != nil {
		return backendError(w, err)
	}
	v, err := s.cache.get(rep, r.URL.Path, peer)
	if err != nil {
		return writeError(w, http.StatusInternalServerError, "encoding the response failed")
	}
	body := v.body
	last := body[len(body)-1:]
	tail := [][]byte{last, newline}
	if r.URL.Path == PathStatus && svc != nil {
		sb, err := s.cache.service(svc, peer.Admin)
		if err != nil {
			return writeError(w, http.StatusInternalServerError, "encoding the response failed")
		}
		// body is a JSON object without "service"; add it before the
		// closing brace (written in parts: the shared bytes are never
		// copied). Consumers read JSON by name, not by position.
		tail = [][]byte{serviceKey, sb, closeObject}
	}
	w.Header().Set("Vary", "Accept-Encoding")
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		gz := s.cache.gzipped(v)
		w.Header().Set("Content-Encoding", "gzip")
		return writeRaw(w, http.StatusOK, gz.bytes, gz.finish(tail...))
	}
	return writeRaw(w, http.StatusOK, append([][]byte{body[:len(body)-1]}, tail...)...)
}

var (
	serviceKey  = []byte(`,"service":`)
	closeObject = []byte("}\n")
	newline     = []byte("\n")
)

// writeRaw writes a JSON body given in parts.
func writeRaw(w http.ResponseWriter, code int, parts ...[]byte) int {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(code)
	for _, p := range parts {
		w.Write(p)
	}
	return code
}

// Warm encodes and compresses what an administrator's GET /v1/status shows
// of rep (the backend's next Snapshot report), before the backend serves
// it. A scan's end then costs the requests arriving meanwhile nothing:
// they are answered from the previous report's views, where each used to
// wait on the cache while the first of them encoded and compressed the new
// report (a few milliseconds per scan, with every status request behind
// it). Other views are still encoded on first use.
func (s *Server) Warm(rep *status.Report) {
	if rep == nil {
		return
	}
	peer := Peer{Admin: true}
	b, err := encodeView(rep, PathStatus, peer)
	if err != nil {
		return // the request that asks reports the error
	}
	v := &view{body: b, gz: compressPrefix(b[:len(b)-1])}
	s.cache.put(rep, viewKey{path: PathStatus, admin: true}, v)
}
