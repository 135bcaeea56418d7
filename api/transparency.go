package api

import "time"

// Transparency for the user shadowed: GET /me/impersonations tells a user, with their own
// token, every session in which they were impersonated, and tells their company's admins
// the same for every user of the company. It is the one place the person looked at learns
// who looked, when, for how long, why, and at what.

// Scopes of an ImpersonationsPage.
const (
	TransparencySelf    = "self"    // the caller's own sessions as the shadowed user
	TransparencyCompany = "company" // a company admin: every session on a user of the company
)

// ImpersonationsPage is the reply to GET /me/impersonations?user=&cursor=&limit=:
// newest first. NextCursor is empty on the last page.
type ImpersonationsPage struct {
	// Scope says whose sessions these are: TransparencySelf or TransparencyCompany.
	Scope          string          `json:"scope"`
	Impersonations []Impersonation `json:"impersonations"`
	NextCursor     string          `json:"next_cursor,omitempty"`
}

// Impersonation is one session in which a user was shadowed, as the user (or their
// company's admin) is told of it.
type Impersonation struct {
	// Session is the session as the server keeps it: the user shadowed, the impersonator,
	// the reason, when it started and expires, its state, when it ended.
	Session Session `json:"session"`
	// ImpersonatorKind is KindStaff (the vendor's support) or KindUser (an admin or
	// operations lead of the user's own company).
	ImpersonatorKind string `json:"impersonator_kind"`
	// ImpersonatorOrganisation names whom the impersonator works for: their company's
	// name, or the vendor's support organisation for staff.
	ImpersonatorOrganisation string `json:"impersonator_organisation"`
	// DurationSeconds is how long the session lasted: from its start to its end, or to
	// now while it is active (whole seconds, rounded down).
	DurationSeconds int64 `json:"duration_seconds"`
	// Viewed lists what the session read, one entry per distinct path, in the order first
	// read. Only successful reads are listed; Refused counts the rest.
	Viewed []ViewedItem `json:"viewed"`
	// Refused counts the session's requests the server refused (writes, reads of things
	// the user may not see, requests after the session ended).
	Refused int `json:"refused"`
	// Truncated is set when the session made more requests than one listing reads
	// (docs/API.md, limits): Viewed and Refused then count the first of them only.
	Truncated bool `json:"truncated,omitempty"`
}

// ViewedItem is one thing a session read.
type ViewedItem struct {
	Route string `json:"route,omitempty"` // the api route name, e.g. "dashboards.get"; "" if none matched
	Path  string `json:"path"`            // e.g. "/api/v1/dashboards/d-acme-fleet"
	// What says it in words for a person: "dashboard Fleet overview", "the permission
	// matrix". Untrusted text, as every string from a server.
	What  string    `json:"what"`
	Count int       `json:"count"` // successful reads of this path
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}
