package server

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/shadowview/shadow/api"
)

// The data views (the directory, dashboards, the permission matrix and its explain) are
// a function of the organisation and of who asks, nothing else. So their ETag is not a
// hash of the rendered body but of what the body is a function of: the identity's
// cache scope, the request's route, path and query, and the organisation's version,
// which every change to it moves on (dataVersion.changed, in the same critical section
// as the change). A revalidation whose tag still holds is answered 304 before the view
// is rendered: it costs authentication, auditing and one hash, not the render.
//
// Why it is right: a tag is read before the view is rendered and the version only
// grows, so a body is never older than its tag's version; a 304 needs the tag's
// version to be the current one, so the body the client holds was rendered from the
// organisation as it is now. A random nonce per server instance keeps tags of another
// run (whose versions restart from 0, maybe over another seed) from ever matching.

// versionedRoutes are the routes whose replies depend on the organisation and the
// identity alone.
var versionedRoutes = map[string]bool{
	api.RouteUsers: true, api.RouteDashboards: true, api.RouteDashboard: true,
	api.RoutePermissions: true, api.RouteExplain: true,
}

// dataVersion is the organisation's version and this instance's nonce.
type dataVersion struct {
	once  sync.Once
	nonce [16]byte
	n     atomic.Uint64
}

// changed moves the version on. The caller holds s.mu for writing and has applied its
// change.
func (d *dataVersion) changed() { d.n.Add(1) }

// tag is the ETag of route's reply to r for id at the current version.
func (d *dataVersion) tag(id *identity, route string, r *http.Request) string {
	d.once.Do(func() { rand.Read(d.nonce[:]) })
	h := sha256.New()
	h.Write(d.nonce[:])
	for _, part := range []string{id.cacheScope(), route, r.URL.Path, r.URL.RawQuery} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(binary.BigEndian.AppendUint64(nil, d.n.Load()))
	sum := h.Sum(nil)
	return `"v` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

// revalidate gives a GET or HEAD of a versioned route its tag (writeJSON sends it with
// the reply) and answers 304 at once when If-None-Match names that tag. "*" is left to
// the handler: it means "if the resource exists", which only rendering tells.
func (s *Server) revalidate(w http.ResponseWriter, r *http.Request, rt api.Route, id *identity) bool {
	if !versionedRoutes[rt.Name] || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	if q := r.URL.Query(); rt.Name == api.RoutePermissions && (q.Has("limit") || q.Has("cursor")) {
		// A page of the matrix is not a function of the organisation alone: each first
		// page opens a view of its own (matrixcursor.go), and every page is counted to its
		// view, so a page is always served, never answered 304 from another view's reply.
		return false
	}
	tag := s.data.tag(id, rt.Name, r)
	infoOf(r).etag = tag
	for _, part := range strings.Split(r.Header.Get("If-None-Match"), ",") {
		if strings.TrimPrefix(strings.TrimSpace(part), "W/") == tag {
			notModified(w, tag)
			return true
		}
	}
	return false
}

// notModified answers 304 with the headers of the 200 it stands for.
func notModified(w http.ResponseWriter, tag string) {
	h := w.Header()
	h.Set("ETag", tag)
	h.Set("Cache-Control", "private, no-cache")
	h.Add("Vary", "Authorization")
	w.WriteHeader(http.StatusNotModified)
}

// bodyTag is the ETag of any other reply: the identity's scope hashed with the body, so
// the same bytes shown to Nora and to an admin impersonating Nora get different tags
// and no cache can cross them.
func bodyTag(id *identity, body []byte) string {
	h := sha256.New()
	h.Write([]byte(id.cacheScope()))
	h.Write([]byte{0})
	h.Write(body)
	sum := h.Sum(nil)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}
