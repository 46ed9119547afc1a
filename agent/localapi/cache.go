package localapi

import (
	"context"
	"encoding/json"
	"net/http"
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

// viewCache holds the encoded views of one report.
type viewCache struct {
	mu     sync.Mutex
	report *status.Report
	views  map[viewKey][]byte
}

type viewKey struct {
	path  string
	admin bool
	user  string
}

// get returns the encoded view of rep at path for peer, encoding it on
// first use.
func (c *viewCache) get(rep *status.Report, path string, peer Peer) ([]byte, error) {
	k := viewKey{path: path, admin: peer.Admin}
	if !peer.Admin {
		k.user = peer.User
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.report != rep || len(c.views) >= maxCachedViews {
		c.report, c.views = rep, map[viewKey][]byte{}
	}
	if b, ok := c.views[k]; ok {
		return b, nil
	}
	b, err := encodeView(rep, path, peer)
	if err != nil {
		return nil, err
	}
	c.views[k] = b
	return b, nil
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

// serveSnapshot answers a report endpoint from the cache.
func (s *Server) serveSnapshot(w http.ResponseWriter, r *http.Request, peer Peer, snap Snapshotter) int {
	rep, svc, err := snap.Snapshot(r.Context())
	if err != nil {
		return backendError(w, err)
	}
	body, err := s.cache.get(rep, r.URL.Path, peer)
	if err != nil {
		return writeError(w, http.StatusInternalServerError, "encoding the response failed")
	}
	if r.URL.Path == PathStatus && svc != nil {
		sv := *svc
		if !peer.Admin {
			sv.Health = sv.Health.Redact()
		}
		sb, err := json.Marshal(&sv)
		if err != nil {
			return writeError(w, http.StatusInternalServerError, "encoding the response failed")
		}
		// body is a JSON object without "service"; add it before the
		// closing brace (written in parts: the shared bytes are never
		// copied). Consumers read JSON by name, not by position.
		return writeRaw(w, http.StatusOK, body[:len(body)-1], serviceKey, sb, closeObject)
	}
	return writeRaw(w, http.StatusOK, body, newline)
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
