package client

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/cache"
)

// View reads the server as an impersonated user, through a read-only session. It is
// made only by Client.StartSession and has read methods alone: there is no way to
// express a change through it. Its token lives in memory until the session ends, then
// is forgotten; its cached replies are sealed and purged with it. Safe for concurrent
// use.
type View struct {
	owner   *Client
	session api.Session
	// deadline is the session's expiry on this machine's clock (its length as the
	// server gave it, counted from when it started here), so clock skew cannot keep a
	// dead session "alive" locally or end a live one early.
	deadline time.Time

	mu     sync.RWMutex
	token  string
	scope  *cache.Scope
	memo   *memo
	closed bool
}

func newView(owner *Client, s api.Session, token string) (*View, error) {
	length := s.ExpiresAt.Sub(s.StartedAt)
	if s.StartedAt.IsZero() || length <= 0 || length > api.MaxSessionTTL {
		length = min(max(time.Until(s.ExpiresAt), 0), api.MaxSessionTTL)
	}
	scope, err := owner.w.opts.Cache.Ephemeral(owner.w.base + "\x00" + s.ID)
	if err != nil {
		return nil, newError(&Error{Op: "start the impersonation session", Kind: ErrServer, Local: true, Err: err,
			detail: "could not prepare the session's private cache: " + err.Error()})
	}
	return &View{owner: owner, session: s, deadline: time.Now().Add(length), token: token, scope: scope, memo: newMemo()}, nil
}

// Session is the session as it was started (the user, the admin, the reason, expiry).
func (v *View) Session() api.Session {
	if v == nil {
		return api.Session{}
	}
	return v.session
}

// Remaining is the time left before the session expires, by this machine's clock.
func (v *View) Remaining() time.Duration {
	if v == nil {
		return 0
	}
	return max(time.Until(v.deadline), 0)
}

// Closed reports whether the view can no longer be used: the session was ended,
// expired, or the server said it was revoked.
func (v *View) Closed() bool {
	if v == nil {
		return true
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.closed
}

// String describes the view without its token.
func (v *View) String() string {
	if v == nil {
		return "client.View{nil}"
	}
	return "client.View{session " + v.session.ID + " as " + v.session.User.Name + ", token: [redacted]}"
}

// GoString is String, so %#v cannot print the token either.
func (v *View) GoString() string { return v.String() }

// Me is who the token is: the impersonated user, the admin as actor, the session.
func (v *View) Me(ctx context.Context) (api.Me, error) {
	var out api.Me
	err := v.read(ctx, meRequest(&out))
	return out, err
}

// GetSession reads this session's state with its own token.
func (v *View) GetSession(ctx context.Context) (api.Session, error) {
	var out api.Session
	err := v.read(ctx, sessionRequest(v.Session().ID, &out))
	return out, err
}

// Dashboards lists the dashboards the user can read.
func (v *View) Dashboards(ctx context.Context) (api.DashboardList, error) {
	var out api.DashboardList
	err := v.read(ctx, dashboardsRequest(&out))
	return out, err
}

// Dashboard opens one dashboard with its widgets' data computed as the user.
func (v *View) Dashboard(ctx context.Context, id string) (api.Dashboard, error) {
	var out api.Dashboard
	err := v.read(ctx, dashboardRequest(id, &out))
	return out, err
}

// Permissions is the user's effective permission matrix, whole. It is a bulk read (not
// memoised, see permissionsRequest): the caller holds the only decoded copy.
func (v *View) Permissions(ctx context.Context) (api.PermissionMatrix, error) {
	var out api.PermissionMatrix
	err := v.read(ctx, permissionsRequest(&out))
	return out, err
}

// PermissionsPage is one page of the matrix (GET /permissions?limit=&cursor=): up to
// limit rows (the server caps it at api.MaxMatrixPage) after cursor, "" for the first
// page; NextCursor names the following page ("" on the last) and TotalRows the rows of
// the whole matrix. Each page's Sources is the table its own rows' indexes point into.
// Each page is an ordinary read through the same guarded path as every View read.
func (v *View) PermissionsPage(ctx context.Context, cursor string, limit int) (api.PermissionMatrix, error) {
	var out api.PermissionMatrix
	err := v.read(ctx, permissionsPageRequest(cursor, limit, &out))
	return out, err
}

// Explain is the chain of rules that decided one cell of the matrix.
func (v *View) Explain(ctx context.Context, resource, action string) (api.Explanation, error) {
	var out api.Explanation
	err := v.read(ctx, explainRequest(resource, action, &out))
	return out, err
}

// read sends a request with the session's token. Every View method goes through it;
// it accepts safe routes only (the guard below it would refuse the rest anyway).
func (v *View) read(ctx context.Context, rq request) error {
	if route, ok := api.RouteByName(rq.route); !ok || !route.Safe() {
		return newError(&Error{Op: rq.op, Kind: ErrReadOnly, Local: true})
	}
	if v == nil || v.owner == nil { // only StartSession makes a usable View
		return newError(&Error{Op: rq.op, Kind: ErrSessionExpired, Local: true})
	}
	if time.Now().After(v.deadline) {
		v.close()
		v.owner.forget(v.session.ID, v)
	}
	v.mu.RLock()
	closed, token, scope, memo := v.closed, v.token, v.scope, v.memo
	v.mu.RUnlock()
	if closed {
		return newError(&Error{Op: rq.op, Kind: ErrSessionExpired, Local: true})
	}
	rq.token, rq.scope = token, scope
	if !rq.bulk {
		rq.memo = memo
	}
	err := v.owner.w.call(ctx, rq)
	if errors.Is(err, ErrSessionExpired) {
		// The server says the session is over; nothing it showed may linger here.
		v.close()
		v.owner.forget(v.session.ID, v)
	}
	return err
}

// close forgets the token and purges the session's cache entries. Idempotent.
func (v *View) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return
	}
	v.closed = true
	v.token = ""
	_ = v.scope.Purge() // a purge failure disables the cache with a warning; the sealed entries are unreadable anyway
	v.scope = nil
	v.memo.clear()
	v.memo = nil
}
