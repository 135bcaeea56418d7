package api

import "time"

// Identity kinds.
const (
	KindUser  = "user"  // a customer's user (may be a company admin)
	KindStaff = "staff" // the SaaS vendor's support staff
)

// Token scopes, carried in the JWT "scope" claim and reported by GET /me.
const (
	ScopeFull     = "full"      // a user's or staff member's own token
	ScopeReadOnly = "read_only" // an impersonation token: safe methods only
)

// UserRef names an identity wherever another object points at one.
type UserRef struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	// Company is the identity's company display name, where the sender knows it.
	Company string `json:"company,omitempty"`
}

// User is an identity as the directory and /me describe it.
type User struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Email        string `json:"email"`
	Kind         string `json:"kind"` // KindUser or KindStaff
	CompanyID    string `json:"company_id,omitempty"`
	Company      string `json:"company,omitempty"` // company display name
	Team         string `json:"team,omitempty"`    // primary team, "North / North-East" for a sub-team
	Role         string `json:"role"`              // display name of the highest role
	Phone        string `json:"phone,omitempty"`   // sensitive: redacted for impersonation tokens
	Impersonable bool   `json:"impersonable"`
	// NotImpersonableCode and NotImpersonableReason say why Impersonable is false for
	// the caller asking: the same code and words a start request would be refused with.
	NotImpersonableCode   Code   `json:"not_impersonable_code,omitempty"`
	NotImpersonableReason string `json:"not_impersonable_reason,omitempty"`
	// Redacted lists the fields withheld from this response (see Redaction).
	Redacted []string `json:"redacted,omitempty"`
}

// Ref returns the UserRef for u.
func (u User) Ref() UserRef {
	return UserRef{ID: u.ID, Name: u.Name, Email: u.Email, Company: u.Company}
}

// LoginRequest is the body of POST /auth/login.
type LoginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// LoginResponse is the reply to a successful login.
type LoginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      User      `json:"user"`
}

// Me is the reply to GET /me: who the token is. With an impersonation token, Actor is
// the admin acting, SessionID the session, and Scope read_only.
type Me struct {
	User          User      `json:"user"`
	Actor         *UserRef  `json:"actor,omitempty"`
	SessionID     string    `json:"session_id,omitempty"`
	Scope         string    `json:"scope"`
	ExpiresAt     time.Time `json:"expires_at"`
	Impersonating bool      `json:"impersonating"`
	// CanImpersonate says whether this identity may start impersonation sessions
	// (always false for an impersonation token: no nesting).
	CanImpersonate bool `json:"can_impersonate"`
	// Settings are the user's own settings (shown to an impersonation token too: they
	// shape what the user sees).
	Settings *Settings `json:"settings,omitempty"`
}

// ProfileUpdate is the body of PATCH /me (own token only). Nil fields are unchanged.
type ProfileUpdate struct {
	Name  *string `json:"name,omitempty"`
	Phone *string `json:"phone,omitempty"`
}

// Settings is the body of PUT /me/settings and part of the user's own profile.
type Settings struct {
	Timezone   string `json:"timezone"`
	Locale     string `json:"locale"`
	EmailAlert bool   `json:"email_alerts"`
}

// PasswordChange is the body of POST /me/password.
type PasswordChange struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

// UsersPage is the reply to GET /users?q=&cursor=&limit=. Search matches name, email
// and company, case-insensitively. NextCursor is empty on the last page.
type UsersPage struct {
	Users      []User `json:"users"`
	NextCursor string `json:"next_cursor,omitempty"`
	// Total is the number of matches when the server knows it cheaply, else -1.
	Total int `json:"total"`
}

// StartSessionRequest is the body of POST /impersonation/sessions.
type StartSessionRequest struct {
	UserID string `json:"user_id"`
	Reason string `json:"reason"`
	// TTLSeconds asks for a shorter session than the server's default; the server caps
	// it at MaxSessionTTL. Zero means the default.
	TTLSeconds int `json:"ttl_seconds,omitempty"`
}

// Session states.
const (
	SessionActive  = "active"
	SessionEnded   = "ended"   // ended by DELETE
	SessionExpired = "expired" // reached expires_at
	SessionRevoked = "revoked" // ended by the server (e.g. company opted out, target's role changed)
)

// Session is one impersonation session.
type Session struct {
	ID           string     `json:"id"`
	User         UserRef    `json:"user"`         // the impersonated user
	Impersonator UserRef    `json:"impersonator"` // the admin acting
	Reason       string     `json:"reason"`
	StartedAt    time.Time  `json:"started_at"`
	ExpiresAt    time.Time  `json:"expires_at"`
	State        string     `json:"state"`
	EndedAt      *time.Time `json:"ended_at,omitempty"`
}

// StartSessionResponse is the 201 reply: the session and its read-only token.
type StartSessionResponse struct {
	Session Session `json:"session"`
	Token   string  `json:"token"`
}

// Widget kinds.
const (
	WidgetKPI    = "kpi"
	WidgetTable  = "table"
	WidgetSeries = "series" // time series, one or more lines
	WidgetBar    = "bar"
)

// DashboardSummary is one entry of GET /dashboards.
type DashboardSummary struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	Owner       UserRef   `json:"owner"`
	WidgetCount int       `json:"widget_count"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// DashboardList is the reply to GET /dashboards: the dashboards the caller may read.
type DashboardList struct {
	Dashboards []DashboardSummary `json:"dashboards"`
}

// Dashboard is the reply to GET /dashboards/{id}, with every widget's data computed as
// the caller (row-level visibility applied).
type Dashboard struct {
	DashboardSummary
	Widgets []Widget `json:"widgets"`
	// Scope says in words which rows the caller sees: "Rows of team North and its
	// sub-teams", "Rows of all of Acme Logistics", "Rows of nothing".
	Scope string `json:"scope,omitempty"`
	// SharedWith lists the users and teams the dashboard was shared with.
	SharedWith []DashboardShareRef `json:"shared_with,omitempty"`
}

// Share kinds of DashboardShareRef.
const (
	ShareUser = "user"
	ShareTeam = "team"
)

// DashboardShareRef is one user or team a dashboard is shared with.
type DashboardShareRef struct {
	Kind string `json:"kind"` // ShareUser or ShareTeam
	ID   string `json:"id"`
	Name string `json:"name"` // the user's name, or the team's path
}

// Widget is one tile of a dashboard. Exactly one of KPI, Table, Series, Bar is set,
// matching Kind.
type Widget struct {
	ID     string      `json:"id"`
	Kind   string      `json:"kind"`
	Title  string      `json:"title"`
	KPI    *KPIData    `json:"kpi,omitempty"`
	Table  *TableData  `json:"table,omitempty"`
	Series *SeriesData `json:"series,omitempty"`
	Bar    *BarData    `json:"bar,omitempty"`
	// Redacted is true when any value in this widget was withheld (see Redaction).
	Redacted bool `json:"redacted,omitempty"`
}

// KPIData is a single figure with an optional comparison.
type KPIData struct {
	Value    float64  `json:"value"`
	Unit     string   `json:"unit,omitempty"`     // "vehicles", "%", "EUR"; a count's agrees with Value ("1 vehicle")
	Previous *float64 `json:"previous,omitempty"` // the same figure one period earlier
	Redacted bool     `json:"redacted,omitempty"` // Value withheld (zero)
}

// TableData is a grid of text cells.
type TableData struct {
	Columns []TableColumn `json:"columns"`
	Rows    []TableRow    `json:"rows"`
	// TotalRows counts every row of the underlying data, visible or not, so the UI can
	// say "12 of 40 rows visible to this user".
	TotalRows int `json:"total_rows"`
}

// TableColumn describes one column. Sensitive columns are redacted for impersonation.
type TableColumn struct {
	Key       string `json:"key"`
	Title     string `json:"title"`
	Sensitive bool   `json:"sensitive,omitempty"`
	Numeric   bool   `json:"numeric,omitempty"`
}

// TableRow holds one cell per column, in column order.
type TableRow struct {
	Cells []Cell `json:"cells"`
}

// Cell is one value; a redacted cell has an empty Value and Redacted set.
type Cell struct {
	Value    string `json:"value"`
	Redacted bool   `json:"redacted,omitempty"`
}

// SeriesData is one or more lines over time.
type SeriesData struct {
	Unit  string       `json:"unit,omitempty"`
	Lines []SeriesLine `json:"lines"`
}

// SeriesLine is one named line.
type SeriesLine struct {
	Name   string        `json:"name"`
	Points []SeriesPoint `json:"points"`
}

// SeriesPoint is one sample.
type SeriesPoint struct {
	T time.Time `json:"t"`
	V float64   `json:"v"`
}

// BarData is labelled bars.
type BarData struct {
	Unit string    `json:"unit,omitempty"`
	Bars []BarItem `json:"bars"`
}

// BarItem is one bar.
type BarItem struct {
	Label string  `json:"label"`
	Value float64 `json:"value"`
}

// Redaction: responses to an impersonation token withhold sensitive fields (billing,
// personal contact data). A withheld string is sent empty, a withheld number zero, and
// the withholding is always marked (User.Redacted, Widget.Redacted, Cell.Redacted,
// KPIData.Redacted) so a client can say so instead of showing a blank.

// DashboardCreate is the body of POST /dashboards (own token only).
type DashboardCreate struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// DashboardUpdate is the body of PATCH /dashboards/{id}. Nil fields are unchanged.
type DashboardUpdate struct {
	Title       *string `json:"title,omitempty"`
	Description *string `json:"description,omitempty"`
}

// DashboardShare is the body of POST /dashboards/{id}/shares.
type DashboardShare struct {
	UserID string `json:"user_id,omitempty"`
	TeamID string `json:"team_id,omitempty"`
}

// Permission cell effects, as one byte each in PermissionRow.Effects.
const (
	EffectAllow byte = 'A'
	EffectDeny  byte = 'D' // an explicit deny: always wins
	EffectNone  byte = '.' // nothing grants it
)

// Source kinds: where a cell's effect comes from.
const (
	SourceRole   = "role"   // a role held directly by the user
	SourceTeam   = "team"   // a role held through a team (or a parent team of it)
	SourceDirect = "direct" // a direct grant to the user
	SourceDeny   = "deny"   // an explicit deny (user or team)
)

// PermissionSource is where an effect came from, e.g. {kind: team, name: "Fleet
// Manager", via: "North / North-East"}.
type PermissionSource struct {
	Kind string `json:"kind"`
	Name string `json:"name"`          // role name, or the grant/deny's label
	Via  string `json:"via,omitempty"` // the team chain, for SourceTeam and team denies
}

// Resource is one thing permissions are about.
type Resource struct {
	ID   string `json:"id"`   // "vehicle:truck-07"
	Type string `json:"type"` // "vehicle"
	Name string `json:"name"` // "Truck 07"
}

// PermissionMatrix is the reply to GET /permissions: the caller's effective permissions,
// resources × actions. Rows are in a stable order (type, then name).
//
// The matrix is sent compactly because it can be 50,000 × 6: each row's Effects holds one
// byte per action (EffectAllow/Deny/None, in Actions order) and Sources one index per
// action into the matrix's Sources table (-1 for none).
//
// Asked for a page (GET /permissions?limit=&cursor=), it holds up to limit rows after
// the cursor, NextCursor for the following page (empty on the last) and TotalRows, the
// rows of the whole matrix; Sources is then the table this page's indexes point into.
// Without either parameter it is the whole matrix and both are absent.
type PermissionMatrix struct {
	Subject    UserRef            `json:"subject"`
	Actions    []string           `json:"actions"`
	Sources    []PermissionSource `json:"sources"`
	Rows       []PermissionRow    `json:"rows"`
	NextCursor string             `json:"next_cursor,omitempty"`
	TotalRows  int                `json:"total_rows,omitempty"`
}

// Page sizes of GET /permissions?limit=: a page of the matrix is cheap, so pages may be
// larger than other lists' (MaxPageLimit), and a client fills a screen in one request.
const (
	DefaultMatrixPage = 500
	MaxMatrixPage     = 5000
)

// PermissionRow is one resource's cells.
type PermissionRow struct {
	Resource Resource `json:"resource"`
	Effects  string   `json:"effects"`
	Sources  []int    `json:"sources"`
}

// ExplainStep is one link of the chain that decided a cell.
type ExplainStep struct {
	Kind   string `json:"kind"`   // "membership", "parent_team", "role", "grant", "deny", "default"
	Text   string `json:"text"`   // a sentence for a person: "Alice is a member of team North-East"
	Effect string `json:"effect"` // "allow", "deny" or "" for steps that only lead on
	// Decisive marks the rule that decided the outcome (an explicit deny beats any allow).
	Decisive bool `json:"decisive,omitempty"`
}

// Explanation is the reply to GET /permissions/explain?resource=&action=.
type Explanation struct {
	Subject  UserRef       `json:"subject"`
	Resource Resource      `json:"resource"`
	Action   string        `json:"action"`
	Effect   string        `json:"effect"` // "allow", "deny" or "none"
	Steps    []ExplainStep `json:"steps"`
}

// Effect names used in Explanation and ExplainStep.
const (
	EffectNameAllow = "allow"
	EffectNameDeny  = "deny"
	EffectNameNone  = "none"
)

// Server audit event kinds (GET /audit/events).
const (
	EventRequest        = "request"              // a request made with an impersonation token
	EventSessionStart   = "session.start"        // a session started
	EventSessionEnd     = "session.end"          // ended by DELETE
	EventSessionExpire  = "session.expire"       // reached its expiry
	EventSessionRefused = "session.refused"      // a start request was refused (any rule)
	EventJournalRecord  = "journal.record"       // a record synced from a client journal
	EventSessionRevoke  = "session.revoke"       // the server ended a session (restart, actor's password change)
	EventLogin          = "auth.login"           // a successful login
	EventLoginFailed    = "auth.login_failed"    // a refused login (wrong credentials or throttled)
	EventPasswordChange = "auth.password_change" // a password change; earlier tokens are signed out
)

// AuditEvent is one entry of the server audit log. Actor is who acted (the admin);
// User is the impersonated user (Kubernetes' user + impersonatedUser, in our words).
type AuditEvent struct {
	ID        string    `json:"id"`
	Time      time.Time `json:"time"`
	Kind      string    `json:"kind"`
	Actor     UserRef   `json:"actor"`
	User      *UserRef  `json:"user,omitempty"`
	SessionID string    `json:"session_id,omitempty"`
	Method    string    `json:"method,omitempty"`
	Path      string    `json:"path,omitempty"`
	Status    int       `json:"status,omitempty"`
	Code      Code      `json:"code,omitempty"` // the refusal or error code, if any
	Reason    string    `json:"reason,omitempty"`
	Details   string    `json:"details,omitempty"`
	// For EventJournalRecord: the journal, the record's seq and action.
	JournalID string `json:"journal_id,omitempty"`
	Seq       uint64 `json:"seq,omitempty"`
	Action    string `json:"action,omitempty"`
	// SyncedBy is the authenticated identity that uploaded a journal record. Actor is
	// always that identity too: the server never lists a record under another name.
	SyncedBy *UserRef `json:"synced_by,omitempty"`

	// For EventJournalRecord: how far the server could check the record against its
	// own session record (RecordVerified, RecordNoSession or RecordUnverified), and in
	// words why a record is unverified.
	Verification     string `json:"verification,omitempty"`
	VerificationNote string `json:"verification_note,omitempty"`
	// ClaimedActor is the actor a journal record's body names when that is not the
	// uploader (an id the server does not know, or none): the client's word, kept
	// beside the server's.
	ClaimedActor *UserRef `json:"claimed_actor,omitempty"`
	// Count is, for a summary event, how many like events it stands for: throttled
	// sign-in attempts or refused journal writes of one key within one window, of
	// which only the first was recorded on its own.
	Count int `json:"count,omitempty"`
}

// Event kinds added with the ingest checks.
const (
	// EventJournalRefused: a journal PUT refused because the journal belongs to another
	// identity, or because a record in it was provably forged (code says which).
	EventJournalRefused = "journal.refused"
)

// Verification of a synced journal record (AuditEvent.Verification).
const (
	// RecordVerified: the record names a session the server holds, started by the
	// uploader, for the user the record names, at a time inside the session's life. It
	// is shown to whoever may see that session.
	RecordVerified = "verified"
	// RecordNoSession: the record names no session (a refused start, a journal notice);
	// the server vouches only for who uploaded it. Shown to the uploader's organisation
	// only.
	RecordNoSession = "no_session"
	// RecordUnverified: the server could not check the record (a session it does not
	// hold, a time outside the session's life, an actor it does not know): stored as
	// received, flagged, and shown to the uploader's organisation only.
	RecordUnverified = "unverified"
)

// SessionAudit is the reply to GET /audit/sessions/{id}: one impersonation session
// with the server's side (every request its token made) and the journals' side (every
// synced record naming it) set against each other.
type SessionAudit struct {
	Session Session `json:"session"`
	// Requests are the request events of the session's token, in time order.
	Requests []AuditEvent `json:"requests"`
	// Records are the journal records naming the session, uploaded by its impersonator,
	// in journal and seq order, each with what the server served for it.
	Records []ReconciledRecord `json:"records"`
	// Unjournaled are the requests answered with data (status below 400) that no
	// journal record accounts for: reads a client made without journaling them.
	Unjournaled []AuditEvent `json:"unjournaled"`
	// Refused are requests the server refused (status 400 or more) that no journal
	// record accounts for: attempts that disclosed nothing.
	Refused []AuditEvent          `json:"refused"`
	Summary ReconciliationSummary `json:"summary"`
}

// Match values of a ReconciledRecord.
const (
	MatchServed       = "served"       // a read the server served: RequestID is that request
	MatchCached       = "cached"       // a read shown again from the client's cache: the server served it earlier in the session
	MatchUnserved     = "unserved"     // a read the server never served in this session
	MatchFailed       = "failed"       // the client says a read failed; RequestID is the refused request, when there was one
	MatchLifecycle    = "lifecycle"    // the session's start, end or expiry: not a read
	MatchUnrecognised = "unrecognised" // a read whose details name nothing the server serves (see docs/API.md)
)

// ReconciledRecord is one journal record of a SessionAudit.
type ReconciledRecord struct {
	AuditEvent
	Match     string `json:"match"`
	RequestID string `json:"request_id,omitempty"`
	// PageRequestIDs are the later pages of a paged view (the permission matrix read in
	// pages) that this record accounts for besides RequestID, its first page, in time
	// order: which requests are one view's pages is the server's word (docs/API.md).
	PageRequestIDs []string `json:"page_request_ids,omitempty"`
	// Finding is what the server's log belies in the record, in words: a paged view's
	// record naming more or fewer pages than the server served that view in.
	Finding string `json:"finding,omitempty"`
}

// ReconciliationSummary counts a SessionAudit. Consistent holds when every read the
// server served is journaled, every read journaled was served, and nothing was left
// out (for size, or withheld from the caller).
type ReconciliationSummary struct {
	Requests     int `json:"requests"`
	Served       int `json:"served"`
	Records      int `json:"records"`
	Matched      int `json:"matched"`
	Cached       int `json:"cached"`
	Unjournaled  int `json:"unjournaled"`
	Unserved     int `json:"unserved"`
	Unrecognised int `json:"unrecognised"`
	Unverified   int `json:"unverified"` // records flagged RecordUnverified
	// Withheld counts records naming the session that the caller's organisation may not
	// read (unverified records stay with their uploader's): left out of the matching.
	Withheld int `json:"withheld"`
	// Findings counts records with a Finding.
	Findings   int  `json:"findings"`
	Complete   bool `json:"complete"` // false when the session had more events than one reply carries
	Consistent bool `json:"consistent"`
}

// AuditEventsPage is the reply to GET /audit/events?session=&user=&actor=&kind=&since=&until=&cursor=&limit=
// (since/until RFC 3339). Events are in time order.
type AuditEventsPage struct {
	Events     []AuditEvent `json:"events"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// AuditKey is the reply to GET /audit/key: the public key receipts are signed with.
type AuditKey struct {
	KeyID     string `json:"key_id"`
	Algorithm string `json:"algorithm"`  // "ed25519"
	PublicKey []byte `json:"public_key"` // raw 32-byte key, base64 in JSON
}

// HealthResponse is the reply to GET /healthz.
type HealthResponse struct {
	Status  string `json:"status"` // "ok"
	Version string `json:"version,omitempty"`
}
