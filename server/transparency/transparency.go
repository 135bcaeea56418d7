// Package transparency decides what a shadowed user, and their company's admins, are
// told of the sessions in which the user was impersonated (GET /me/impersonations): which
// sessions a caller may see, in which order, and what each session viewed, summarised from
// the server's own request log.
//
// It owns those rules and nothing else. It has no HTTP and no storage in it: the server
// hands it sessions and audit events. It must never show a caller a session on someone
// outside their reach (a user sees their own; a company admin their company's), and
// never take "what was viewed" from anything a client wrote (only the server's request
// events).
package transparency

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shadowview/shadow/api"
)

// Caller is who asks.
type Caller struct {
	ID        string
	CompanyID string
	Admin     bool // a company admin: sees every session on the company's users
}

// Scope is what the caller is shown: api.TransparencySelf or api.TransparencyCompany.
func (c Caller) Scope() string {
	if c.Admin && c.CompanyID != "" {
		return api.TransparencyCompany
	}
	return api.TransparencySelf
}

// Session is a stored session with the company of the user it shadowed.
type Session struct {
	api.Session
	CompanyID string
}

// ErrNotYours is returned when a caller who is not a company admin asks about another user.
var ErrNotYours = errors.New("only a company admin may ask about another user")

// ErrBadCursor is returned for a cursor Page did not issue.
var ErrBadCursor = errors.New("cursor is not one this server issued")

// Visible reports whether c may see sess: their own, or any on their company if admin.
func (c Caller) Visible(sess Session) bool {
	if sess.User.ID == c.ID {
		return true
	}
	return c.Scope() == api.TransparencyCompany && sess.CompanyID == c.CompanyID
}

// Page selects the sessions c may see (only user's, when user is not ""), newest first,
// starting after cursor, at most limit of them, and the cursor of the next page ("" at
// the end).
func Page(c Caller, all []Session, user, cursor string, limit int) ([]Session, string, error) {
	if user != "" && user != c.ID && c.Scope() != api.TransparencyCompany {
		return nil, "", ErrNotYours
	}
	var after *key
	if cursor != "" {
		k, err := parseCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		after = &k
	}
	var mine []Session
	for _, s := range all {
		if c.Visible(s) && (user == "" || s.User.ID == user) {
			mine = append(mine, s)
		}
	}
	sort.Slice(mine, func(i, j int) bool { return keyOf(mine[j]).less(keyOf(mine[i])) })
	var out []Session
	for _, s := range mine {
		if after != nil && !keyOf(s).less(*after) {
			continue
		}
		if len(out) == limit {
			return out, keyOf(out[len(out)-1]).cursor(), nil
		}
		out = append(out, s)
	}
	return out, "", nil
}

// key orders sessions newest first: by start, then id.
type key struct {
	at int64
	id string
}

func keyOf(s Session) key { return key{s.StartedAt.UnixNano(), s.ID} }

func (k key) less(o key) bool { return k.at < o.at || (k.at == o.at && k.id < o.id) }

func (k key) cursor() string { return "t" + strconv.FormatInt(k.at, 36) + "." + k.id }

func parseCursor(s string) (key, error) {
	rest, ok := strings.CutPrefix(s, "t")
	at, id, ok2 := strings.Cut(rest, ".")
	n, err := strconv.ParseInt(at, 36, 64)
	if !ok || !ok2 || err != nil || id == "" || len(s) > 200 {
		return key{}, ErrBadCursor
	}
	return key{n, id}, nil
}

// Impersonator is what the server knows of who shadowed.
type Impersonator struct {
	Kind         string // api.KindStaff or api.KindUser
	Organisation string
}

// Summarise is what the caller is told of one session: who, their organisation, how long
// it lasted (so far, while active), and what it viewed, from the server's request events
// for it. describe says in words what a route and path are ("dashboard Fleet overview").
func Summarise(sess Session, who Impersonator, requests []api.AuditEvent, now time.Time, describe func(route, path string) string) api.Impersonation {
	end := now
	if sess.EndedAt != nil {
		end = *sess.EndedAt
	} else if sess.State != api.SessionActive || now.After(sess.ExpiresAt) {
		end = sess.ExpiresAt
	}
	out := api.Impersonation{
		Session: sess.Session, ImpersonatorKind: who.Kind, ImpersonatorOrganisation: who.Organisation,
		DurationSeconds: int64(max(end.Sub(sess.StartedAt), 0) / time.Second), Viewed: []api.ViewedItem{},
	}
	index := map[string]int{}
	for _, ev := range requests {
		if ev.Kind != api.EventRequest || ev.SessionID != sess.ID {
			continue
		}
		if !read(ev) {
			out.Refused++
			continue
		}
		i, seen := index[ev.Path]
		if !seen {
			route := RouteOf(ev.Path)
			i = len(out.Viewed)
			index[ev.Path] = i
			out.Viewed = append(out.Viewed, api.ViewedItem{Route: route, Path: ev.Path, What: describe(route, ev.Path), First: ev.Time})
		}
		v := &out.Viewed[i]
		v.Count++
		v.Last = ev.Time
	}
	return out
}

// read reports a request that showed something: a safe method answered 2xx or 304.
func read(ev api.AuditEvent) bool {
	return api.SafeMethod(ev.Method) && ev.Method != "OPTIONS" &&
		((ev.Status >= 200 && ev.Status < 300) || ev.Status == 304)
}

// RouteOf names the GET route whose path pattern matches path, or "".
func RouteOf(path string) string {
	for _, r := range api.Routes {
		if r.Method == "GET" && matches(r.Path, path) {
			return r.Name
		}
	}
	return ""
}

func matches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], "{") {
			if xs[i] == "" {
				return false
			}
			continue
		}
		if ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// PathParam is the last segment of path: the {id} of the routes that have one at the end.
func PathParam(path string) string {
	return path[strings.LastIndexByte(path, '/')+1:]
}
