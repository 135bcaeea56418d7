// Package api is the wire contract between shadow and a SaaS API that supports read-only
// impersonation: request and response types, error codes, the route table, and the
// journal's hash and receipt formats.
//
// It owns the shape of every byte that crosses the wire and nothing else. It must never
// import anything beyond the standard library, and must never hold behaviour that belongs
// to one side only: both the reference server and the client compile against it, and a
// SaaS team implementing the contract reads docs/API.md, which describes these types.
package api

import "net/http"

// Prefix is the path every API route lives under.
const Prefix = "/api/v1"

// Auth says which identity a route accepts.
type Auth int

const (
	// AuthNone: no token (login, health, the audit public key).
	AuthNone Auth = iota
	// AuthAny: any valid token — a user's own, staff, or impersonation.
	AuthAny
	// AuthStaff: the caller's own token, and the caller is an identity that may
	// impersonate (support staff, or a customer's company admin); never an
	// impersonation token. Finer rules (which companies) are the server's.
	AuthStaff
	// AuthOwn: a token for the caller's own identity, never an impersonation token.
	// Used by the app's real write routes, which exist so that the read-only guarantee
	// is tested against real mutations.
	AuthOwn
)

// Route is one entry of the route table. Pattern uses net/http.ServeMux syntax
// ("GET /api/v1/dashboards/{id}"), so the server registers the table as is and a test
// can walk it.
type Route struct {
	Name   string // stable identifier, e.g. "dashboards.get"
	Method string
	Path   string // e.g. "/api/v1/dashboards/{id}"
	Auth   Auth
}

// Pattern is the ServeMux pattern for the route.
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// Safe reports whether the method is one an impersonation token may use.
func (r Route) Safe() bool { return SafeMethod(r.Method) }

// SafeMethod reports whether an impersonation token may use method. Everything else is
// refused with 403 read_only_impersonation before routing, whatever the path.
func SafeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}

// UnsafeMethods lists the methods the read-only guarantee must refuse, for tests that
// walk the route table.
var UnsafeMethods = []string{
	http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
	http.MethodConnect, http.MethodTrace, "PROPFIND", "MKCOL",
}

// Route names, so client, server and tests refer to the same entry.
const (
	RouteHealth          = "health"
	RouteLogin           = "auth.login"
	RouteMe              = "me.get"
	RouteUpdateProfile   = "me.update"
	RouteUpdateSettings  = "me.settings"
	RouteChangePassword  = "me.password"
	RouteUsers           = "users.list"
	RouteStartSession    = "sessions.start"
	RouteGetSession      = "sessions.get"
	RouteEndSession      = "sessions.end"
	RouteDashboards      = "dashboards.list"
	RouteDashboard       = "dashboards.get"
	RouteCreateDashboard = "dashboards.create"
	RouteUpdateDashboard = "dashboards.update"
	RouteDeleteDashboard = "dashboards.delete"
	RouteShareDashboard  = "dashboards.share"
	RoutePermissions     = "permissions.matrix"
	RouteExplain         = "permissions.explain"
	RoutePutJournal      = "audit.journal.put"
	RouteAuditEvents     = "audit.events"
	RouteAuditKey        = "audit.key"
	RouteAuditSession    = "audit.session"
	RouteJournalRecords  = "audit.journal.records"
	// Transparency for the user shadowed, and the contract's own description.
	RouteMyImpersonations = "me.impersonations"
	RouteOpenAPI          = "openapi"
)

// Routes is the whole route table. The server registers exactly these; anything else
// is 404 (or, for an impersonation token with an unsafe method, 403 first).
var Routes = []Route{
	{RouteHealth, http.MethodGet, "/healthz", AuthNone},
	{RouteLogin, http.MethodPost, Prefix + "/auth/login", AuthNone},
	{RouteMe, http.MethodGet, Prefix + "/me", AuthAny},
	{RouteUpdateProfile, http.MethodPatch, Prefix + "/me", AuthOwn},
	{RouteUpdateSettings, http.MethodPut, Prefix + "/me/settings", AuthOwn},
	{RouteChangePassword, http.MethodPost, Prefix + "/me/password", AuthOwn},
	{RouteUsers, http.MethodGet, Prefix + "/users", AuthStaff},
	{RouteStartSession, http.MethodPost, Prefix + "/impersonation/sessions", AuthStaff},
	{RouteGetSession, http.MethodGet, Prefix + "/impersonation/sessions/{id}", AuthAny},
	{RouteEndSession, http.MethodDelete, Prefix + "/impersonation/sessions/{id}", AuthStaff},
	{RouteDashboards, http.MethodGet, Prefix + "/dashboards", AuthAny},
	{RouteDashboard, http.MethodGet, Prefix + "/dashboards/{id}", AuthAny},
	{RouteCreateDashboard, http.MethodPost, Prefix + "/dashboards", AuthOwn},
	{RouteUpdateDashboard, http.MethodPatch, Prefix + "/dashboards/{id}", AuthOwn},
	{RouteDeleteDashboard, http.MethodDelete, Prefix + "/dashboards/{id}", AuthOwn},
	{RouteShareDashboard, http.MethodPost, Prefix + "/dashboards/{id}/shares", AuthOwn},
	{RoutePermissions, http.MethodGet, Prefix + "/permissions", AuthAny},
	{RouteExplain, http.MethodGet, Prefix + "/permissions/explain", AuthAny},
	{RoutePutJournal, http.MethodPut, Prefix + "/audit/journals/{journal_id}/records", AuthStaff},
	{RouteAuditEvents, http.MethodGet, Prefix + "/audit/events", AuthStaff},
	{RouteAuditKey, http.MethodGet, Prefix + "/audit/key", AuthNone},
	{RouteAuditSession, http.MethodGet, Prefix + "/audit/sessions/{id}", AuthStaff},
	{RouteJournalRecords, http.MethodGet, Prefix + "/audit/journals/{journal_id}/records", AuthStaff},
	{RouteMyImpersonations, http.MethodGet, Prefix + "/me/impersonations", AuthOwn},
	{RouteOpenAPI, http.MethodGet, Prefix + "/openapi.json", AuthNone},
}

// RouteByName returns the route with that name; ok is false if there is none.
func RouteByName(name string) (Route, bool) {
	for _, r := range Routes {
		if r.Name == name {
			return r, true
		}
	}
	return Route{}, false
}
