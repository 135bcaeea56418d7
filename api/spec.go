package api

import "net/http"

// RouteSpec is what the contract says of one route beyond its method and path: its body,
// its reply, its success status, its query parameters, and the error codes it may answer.
// The OpenAPI document (package api/openapi) is built from Routes, Specs and the types
// named here, and tests hold servers to it: a code a server sends that the route's spec
// (with CommonCodes) does not list is a failure.
type RouteSpec struct {
	Summary  string
	Request  any // a value of the JSON body's type; nil for no body
	Response any // a value of the reply's type; nil for none (204)
	Status   int // the success status
	Query    []QueryParam
	// Codes are the errors this route itself may answer, beyond CommonCodes.
	Codes []Code
}

// QueryParam is one query parameter of a route.
type QueryParam struct {
	Name        string
	Description string
	Required    bool
}

var pageParams = []QueryParam{
	{Name: "cursor", Description: "opaque; the previous page's next_cursor"},
	{Name: "limit", Description: "page size: default 50, values above 200 are capped"},
}

// Specs holds one RouteSpec per route of Routes, by route name (TestEveryRouteHasASpec).
var Specs = map[string]RouteSpec{
	RouteHealth: {Summary: "Is the server up", Response: HealthResponse{}, Status: http.StatusOK},
	RouteLogin: {Summary: "Sign in with email and password", Request: LoginRequest{}, Response: LoginResponse{}, Status: http.StatusOK,
		Codes: []Code{CodeInvalidCredentials, CodeValidation, CodeRateLimited}},
	RouteMe:            {Summary: "Who the token is", Response: Me{}, Status: http.StatusOK},
	RouteUpdateProfile: {Summary: "Change the own name or phone", Request: ProfileUpdate{}, Response: User{}, Status: http.StatusOK, Codes: []Code{CodeValidation}},
	RouteUpdateSettings: {Summary: "Replace the own settings", Request: Settings{}, Response: Settings{}, Status: http.StatusOK,
		Codes: []Code{CodeValidation}},
	RouteChangePassword: {Summary: "Change the own password; every earlier token is signed out", Request: PasswordChange{}, Response: LoginResponse{},
		Status: http.StatusOK, Codes: []Code{CodeValidation, CodeRateLimited}},
	RouteUsers: {Summary: "Search the directory, with the caller's impersonation decision for each user", Response: UsersPage{}, Status: http.StatusOK,
		Query: append([]QueryParam{{Name: "q", Description: "words to match in name, email or company; at most 200 characters"}}, pageParams...),
		Codes: []Code{CodeImpersonationForbidden, CodeNestedImpersonation}},
	RouteStartSession: {Summary: "Start a read-only impersonation session", Request: StartSessionRequest{}, Response: StartSessionResponse{},
		Status: http.StatusCreated,
		Codes: []Code{CodeNestedImpersonation, CodeImpersonationForbidden, CodeSelfImpersonation, CodeTargetPrivileged,
			CodeTargetOutOfScope, CodeImpersonationDisabled, CodeReasonRequired, CodeValidation, CodeRateLimited}},
	RouteGetSession: {Summary: "A session's state", Response: Session{}, Status: http.StatusOK},
	RouteEndSession: {Summary: "End a session; its token is dead at once", Status: http.StatusNoContent},
	RouteDashboards: {Summary: "The dashboards the caller may read", Response: DashboardList{}, Status: http.StatusOK},
	RouteDashboard:  {Summary: "One dashboard, its widgets computed as the caller", Response: Dashboard{}, Status: http.StatusOK},
	RouteCreateDashboard: {Summary: "Create a dashboard", Request: DashboardCreate{}, Response: Dashboard{}, Status: http.StatusCreated,
		Codes: []Code{CodeValidation}},
	RouteUpdateDashboard: {Summary: "Change a dashboard's title or description", Request: DashboardUpdate{}, Response: Dashboard{}, Status: http.StatusOK,
		Codes: []Code{CodeValidation}},
	RouteDeleteDashboard: {Summary: "Delete a dashboard", Status: http.StatusNoContent},
	RouteShareDashboard: {Summary: "Share a dashboard with a user or a team (201 new, 200 already shared)", Request: DashboardShare{}, Response: Dashboard{},
		Status: http.StatusCreated, Codes: []Code{CodeValidation, CodeUserNotFound}},
	RoutePermissions: {Summary: "The caller's effective permission matrix, whole or in pages of rows", Response: PermissionMatrix{}, Status: http.StatusOK,
		Query: []QueryParam{
			{Name: "cursor", Description: "opaque; the previous page's next_cursor (with neither parameter the reply is the whole matrix)"},
			{Name: "limit", Description: "rows per page: default 500, values above 5000 are capped"}}},
	RouteExplain: {Summary: "The chain of rules that decided one cell", Response: Explanation{}, Status: http.StatusOK,
		Query: []QueryParam{{Name: "resource", Description: "a resource id, e.g. vehicle:acme-n1", Required: true},
			{Name: "action", Description: "one of the matrix's actions", Required: true}}},
	RoutePutJournal: {Summary: "Sync one contiguous range of a client journal", Request: PutRecordsRequest{}, Response: PutRecordsResponse{},
		Status: http.StatusOK, Codes: []Code{CodeValidation, CodeJournalConflict, CodeJournalGap, CodeRateLimited,
			CodeJournalActorMismatch, CodeJournalSessionMismatch, CodeJournalUserMismatch}},
	RouteAuditEvents: {Summary: "The server audit log, in time order", Response: AuditEventsPage{}, Status: http.StatusOK,
		Query: append([]QueryParam{
			{Name: "session", Description: "a session id"}, {Name: "user", Description: "the impersonated user's id"},
			{Name: "actor", Description: "who acted"}, {Name: "kind", Description: "an event kind"},
			{Name: "since", Description: "RFC 3339, inclusive"}, {Name: "until", Description: "RFC 3339, exclusive"}}, pageParams...)},
	RouteAuditKey: {Summary: "The public key journal receipts are signed with", Response: AuditKey{}, Status: http.StatusOK},
	RouteJournalRecords: {Summary: "What the server holds of one journal (its head, each record's seq and hash), for online reconciliation",
		Response: JournalRecordsPage{}, Status: http.StatusOK,
		Query: []QueryParam{{Name: "after", Description: "a seq: records after it (default 0)"},
			{Name: "limit", Description: "at most this many records (default and most 1000)"}}},
	RouteAuditSession: {Summary: "One session with what the server served set against the journals' records of it",
		Response: SessionAudit{}, Status: http.StatusOK},
	RouteMyImpersonations: {Summary: "The sessions in which the caller (or, for a company admin, a user of the company) was shadowed",
		Response: ImpersonationsPage{}, Status: http.StatusOK,
		Query: append([]QueryParam{{Name: "user", Description: "a company admin: only this user of the company"}}, pageParams...)},
	RouteOpenAPI: {Summary: "This contract as an OpenAPI 3.1 document", Status: http.StatusOK},
}

// CommonCodes are the codes any request to route r may be answered with, whatever the
// route: a Host the server does not answer to, a token that does not hold (any route,
// since a token sent is checked before routing), the per-route access rule, the read-only guarantee for an unsafe method,
// body rules for a route that reads one, bad query parameters, and failures of the
// server itself.
func CommonCodes(r Route) []Code {
	codes := []Code{CodeUnauthenticated, CodeTokenExpired, CodeSessionExpired, CodeInternal, CodeUnavailable, CodeHostNotAllowed}
	switch r.Auth {
	case AuthOwn, AuthStaff:
		codes = append(codes, CodeForbidden)
	}
	if !r.Safe() {
		codes = append(codes, CodeReadOnlyImpersonation)
	}
	spec := Specs[r.Name]
	if spec.Request != nil {
		codes = append(codes, CodeBadRequest, CodePayloadTooLarge, CodeUnsupportedMediaType)
	}
	if len(spec.Query) > 0 || hasParam(r.Path) {
		codes = append(codes, CodeBadRequest)
	}
	if hasParam(r.Path) {
		codes = append(codes, CodeNotFound)
	}
	return codes
}

// RouteCodes is every code route r may answer: its spec's and CommonCodes, each once.
func RouteCodes(r Route) []Code {
	seen := map[Code]bool{}
	var out []Code
	for _, c := range append(CommonCodes(r), Specs[r.Name].Codes...) {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

func hasParam(path string) bool {
	for i := 0; i < len(path); i++ {
		if path[i] == '{' {
			return true
		}
	}
	return false
}
