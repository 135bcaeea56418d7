// Package client is shadow's typed API client: sign-in, the user directory,
// impersonation sessions, the impersonated read views, and the audit journal's sync —
// one method per route of the contract in package api.
//
// It has two faces. A *Client speaks with the caller's own token. A *View speaks with
// an impersonation token and can be had only from Client.StartSession; its type has
// read methods alone, and beneath it a guard refuses any unsafe method carrying an
// impersonation token, so a change made "as the user" cannot leave the process even if
// some future code builds the request by hand.
//
// It owns the wire: retries (safe methods and the idempotent journal PUT only, full
// jitter, Retry-After, bounded attempts), the reply size cap, decoding, typed errors
// written for a person, TLS settings, and use of package cache. It must never write a
// token or password anywhere — not to the cache, not to a log, not into an error — and
// never import the UI.
package client

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/cache"
)

// Client speaks to the server as the caller's own identity: a support engineer or
// company admin (and, for the app's own write routes, any user). It is safe for
// concurrent use.
type Client struct {
	w        *wire
	warnings []string

	mu    sync.RWMutex
	token string // in memory only; see String
	me    *api.User
	scope *cache.Scope
	memo  *memo

	viewsMu sync.Mutex
	views   map[string]*View // sessions started by this client, by id
}

// New builds a client for opts.BaseURL. It sends nothing; call Login or SetToken.
func New(opts Options) (*Client, error) {
	w, warns, err := newWire(opts)
	if err != nil {
		return nil, err
	}
	return &Client{w: w, warnings: warns, views: map[string]*View{}}, nil
}

// Warning is what the CLI must print on every start about this connection (TLS
// verification off, plain http to a remote host), or "" when there is nothing to say.
func (c *Client) Warning() string { return strings.Join(c.warnings, "\n") }

// BaseURL is the server this client talks to.
func (c *Client) BaseURL() string { return c.w.base }

// String describes the client without its token, so printing one cannot leak it.
func (c *Client) String() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	who := "not signed in"
	if c.me != nil {
		who = c.me.Email
	} else if c.token != "" {
		who = "token set"
	}
	return "client.Client{" + c.w.base + ", " + who + ", token: [redacted]}"
}

// GoString is String, so %#v cannot print the token either.
func (c *Client) GoString() string { return c.String() }

// SetToken uses an existing token (e.g. from SHADOW_TOKEN). The identity is learnt on
// the next Me call; until then nothing is cached.
func (c *Client) SetToken(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token = strings.TrimSpace(token)
	c.me = nil
	c.scope = nil
	c.memo = nil
}

// User is the signed-in identity, once Login or Me has told it.
func (c *Client) User() (api.User, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.me == nil {
		return api.User{}, false
	}
	return *c.me, true
}

func (c *Client) auth() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.token
}

// cached gives rq the client's cache scope and memo.
func (c *Client) cached(rq request) request {
	c.mu.RLock()
	defer c.mu.RUnlock()
	rq.scope, rq.memo = c.scope, c.memo
	return rq
}

// signedIn records who the token is and opens that identity's cache scope.
func (c *Client) signedIn(token string, u api.User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sameIdentity := c.me != nil && c.me.ID == u.ID && c.scope != nil
	c.token = token
	c.me = &u
	if !sameIdentity {
		c.scope = c.w.opts.Cache.Persistent(c.w.base + "\x00" + u.ID)
		c.memo = newMemo()
	}
}

// Health asks GET /healthz. No token needed.
func (c *Client) Health(ctx context.Context) (api.HealthResponse, error) {
	var out api.HealthResponse
	err := c.w.call(ctx, request{op: "check the server's health", route: api.RouteHealth, out: &out})
	return out, err
}

// Login signs in with email and password; the token stays inside the client.
func (c *Client) Login(ctx context.Context, email, password string) (api.User, error) {
	return c.takeToken(ctx, request{op: "sign in", route: api.RouteLogin,
		body: api.LoginRequest{Email: email, Password: password}})
}

// takeToken sends a request answered with a fresh own token (sign-in, password
// change) and signs in with it. A sign-in carries no token; rq says which it sends.
func (c *Client) takeToken(ctx context.Context, rq request) (api.User, error) {
	var out api.LoginResponse
	rq.out = &out
	if err := c.w.call(ctx, rq); err != nil {
		return api.User{}, err
	}
	if out.Token == "" {
		return api.User{}, newError(&Error{Op: rq.op, Kind: ErrMalformedResponse, Status: 200, Attempts: 1,
			detail: "the server's reply carries no token; sign in again"})
	}
	c.signedIn(out.Token, out.User)
	return out.User, nil
}

// Me asks who the token is (GET /me) and remembers it.
func (c *Client) Me(ctx context.Context) (api.Me, error) {
	token := c.auth()
	var out api.Me
	rq := meRequest(&out)
	rq.token = token
	if err := c.w.call(ctx, rq); err != nil {
		return api.Me{}, err
	}
	if out.Impersonating {
		// An impersonation token given as one's own: the guard already refuses its
		// writes by its claims; make sure it does whatever the token's format.
		c.w.guard.register(token)
		return out, nil
	}
	c.signedIn(token, out.User)
	return out, nil
}

// UsersQuery is a directory search (GET /users).
type UsersQuery struct {
	Query  string // matches name, email and company, case-insensitively
	Cursor string // from the previous page's NextCursor
	Limit  int    // 0 is the server's default; the server caps it at api.MaxPageLimit
}

// Users searches the directory, one page at a time.
func (c *Client) Users(ctx context.Context, q UsersQuery) (api.UsersPage, error) {
	query := url.Values{}
	if q.Query != "" {
		query.Set("q", q.Query)
	}
	pageQuery(query, q.Cursor, q.Limit)
	var out api.UsersPage
	err := c.own(ctx, c.cached(request{op: "search the directory", route: api.RouteUsers, query: query, out: &out}))
	return out, err
}

// pageQuery adds a paged route's place and size to q: cursor ("" for the first page) and
// limit (0 or less: the server's default).
func pageQuery(q url.Values, cursor string, limit int) {
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
}

// SessionOption adjusts a session start request.
type SessionOption func(*api.StartSessionRequest)

// WithTTL asks for a session shorter than the server's default (it caps the TTL at
// api.MaxSessionTTL).
func WithTTL(d time.Duration) SessionOption {
	return func(r *api.StartSessionRequest) {
		// Whole seconds on the wire; round up so a short TTL never reads as 0, "the default".
		r.TTLSeconds = int((max(d, 0) + time.Second - 1) / time.Second)
	}
}

// StartSession starts a read-only impersonation session for userID with a reason, and
// returns the View through which that user's data can be read. A refusal is
// ErrNotAllowed (or ErrValidation for a missing reason) with the server's reason.
// Never retried: a second POST would start a second session.
func (c *Client) StartSession(ctx context.Context, userID, reason string, opts ...SessionOption) (*View, api.Session, error) {
	const op = "start the impersonation session"
	req := api.StartSessionRequest{UserID: userID, Reason: reason}
	for _, o := range opts {
		o(&req)
	}
	var out api.StartSessionResponse
	if err := c.own(ctx, request{op: op, route: api.RouteStartSession, body: req, out: &out}); err != nil {
		return nil, api.Session{}, err
	}
	if out.Token == "" || out.Session.ID == "" {
		return nil, api.Session{}, newError(&Error{Op: op, Kind: ErrMalformedResponse, Status: 201, Attempts: 1,
			detail: "the server started a session but sent no token or session id"})
	}
	// Registered before the view exists, so no request with it can be unsafe.
	c.w.guard.register(out.Token)
	v, err := newView(c, out.Session, out.Token)
	if err != nil {
		// The session is live on the server but unusable here: end it rather than
		// leave it running unseen.
		_ = c.endOnServer(context.WithoutCancel(ctx), out.Session.ID)
		return nil, api.Session{}, err
	}
	c.viewsMu.Lock()
	c.views[out.Session.ID] = v
	c.viewsMu.Unlock()
	return v, out.Session, nil
}

// GetSession reads a session's state (GET /impersonation/sessions/{id}).
func (c *Client) GetSession(ctx context.Context, id string) (api.Session, error) {
	var out api.Session
	err := c.own(ctx, sessionRequest(id, &out))
	return out, err
}

// EndSession ends a session on the server (DELETE; its token is dead at once) and
// closes its View here: the token is forgotten and the session's cache entries purged.
// The local close happens even when the server cannot be told, so the caller can
// always leave; the error then says the session runs until it expires.
func (c *Client) EndSession(ctx context.Context, id string) error {
	c.viewsMu.Lock()
	v := c.views[id]
	delete(c.views, id)
	c.viewsMu.Unlock()
	if v != nil {
		v.close()
	}
	return c.endOnServer(ctx, id)
}

func (c *Client) endOnServer(ctx context.Context, id string) error {
	return c.own(ctx, request{op: "end session " + id, route: api.RouteEndSession,
		params: map[string]string{"id": id}})
}

// own sends rq with the client's own token (and no cache scope unless rq has one).
func (c *Client) own(ctx context.Context, rq request) error {
	rq.token = c.auth()
	return c.w.call(ctx, rq)
}

// forget drops a view that closed itself (its session expired).
func (c *Client) forget(id string, v *View) {
	c.viewsMu.Lock()
	if c.views[id] == v {
		delete(c.views, id)
	}
	c.viewsMu.Unlock()
}

// PutJournalRecords sends one contiguous range of journal records (PUT, idempotent,
// so retried like a read). A gap or conflict is ErrConflict with the server's head in
// api.ErrorBody.Head.
func (c *Client) PutJournalRecords(ctx context.Context, journalID string, records []api.WireRecord) (api.PutRecordsResponse, error) {
	var out api.PutRecordsResponse
	err := c.own(ctx, request{op: "sync the journal", route: api.RoutePutJournal,
		params: map[string]string{"journal_id": journalID},
		body:   api.PutRecordsRequest{Records: records}, out: &out})
	return out, err
}

// SessionAudit fetches the reconciliation view of one impersonation session: the
// requests the server saw its token make set against the impersonator's journal
// records naming it (GET /audit/sessions/{id}). A session the caller may not read is
// ErrNotFound.
func (c *Client) SessionAudit(ctx context.Context, sessionID string) (api.SessionAudit, error) {
	var out api.SessionAudit
	err := c.own(ctx, request{op: "reconcile session " + sessionID, route: api.RouteAuditSession,
		params: map[string]string{"id": sessionID}, out: &out})
	return out, err
}

// AuditKey fetches the public key receipts are signed with. No token needed.
func (c *Client) AuditKey(ctx context.Context) (api.AuditKey, error) {
	var out api.AuditKey
	err := c.w.call(ctx, c.cached(request{op: "fetch the audit key", route: api.RouteAuditKey, out: &out}))
	return out, err
}

// JournalRecords reads what the server holds of a journal after seq after: its head
// and each record's seq and hash, at most limit of them (0: the server's most), for
// comparing with the local journal. Another organisation's journal is ErrNotAllowed.
func (c *Client) JournalRecords(ctx context.Context, journalID string, after uint64, limit int) (api.JournalRecordsPage, error) {
	q := url.Values{}
	if after > 0 {
		q.Set("after", strconv.FormatUint(after, 10))
	}
	pageQuery(q, "", limit)
	var out api.JournalRecordsPage
	err := c.own(ctx, request{op: "read the server's copy of journal " + journalID, route: api.RouteJournalRecords,
		params: map[string]string{"journal_id": journalID}, query: q, out: &out})
	return out, err
}

// AuditFilter selects server audit events (GET /audit/events). Zero fields match all.
type AuditFilter struct {
	Session string
	User    string // the impersonated user's id
	Actor   string // the admin's id
	Kind    string // an api.Event* kind
	Since   time.Time
	Until   time.Time
	Cursor  string
	Limit   int
}

// AuditEvents lists the server's audit log, one page at a time, in time order.
func (c *Client) AuditEvents(ctx context.Context, f AuditFilter) (api.AuditEventsPage, error) {
	q := url.Values{}
	for k, v := range map[string]string{"session": f.Session, "user": f.User, "actor": f.Actor, "kind": f.Kind} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.UTC().Format(time.RFC3339Nano))
	}
	pageQuery(q, f.Cursor, f.Limit)
	var out api.AuditEventsPage
	err := c.own(ctx, request{op: "list audit events", route: api.RouteAuditEvents, query: q, out: &out})
	return out, err
}
