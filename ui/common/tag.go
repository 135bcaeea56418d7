package common

import "sync/atomic"

// Tag stamps an asynchronous request and the reply to it, so a reply that arrives after
// the user moved on (typed another letter, opened another dashboard, ended the session)
// is recognised and dropped instead of drawn.
//
// The convention, used by every component:
//
//   - A component that needs data emits a request message embedding a Tag it got from
//     its Latest for that stream (Latest.Issue(ctx.Session)), e.g.
//     picker.SearchRequested{Tag, Query}.
//   - The root model performs the request (client call, journal write) in a tea.Cmd and
//     replies with the matching reply message carrying the SAME Tag, e.g.
//     picker.PageLoaded{Tag: req.Tag, …}. The root drops any reply whose Tag.Session is
//     not the active session (StaleFor) before routing it.
//   - The component accepts the reply only if Latest.Current(reply): a newer request on
//     that stream, or a new session, makes every older reply stale.
type Tag struct {
	// Session is the impersonation session the request was made in ("" outside one).
	Session string
	// Seq is unique in the process and never 0 for an issued tag.
	Seq uint64
}

// RequestTag makes every message that embeds a Tag a Tagged.
func (t Tag) RequestTag() Tag { return t }

// Tagged is a message stamped with the request it answers.
type Tagged interface{ RequestTag() Tag }

// StaleFor reports whether a tagged message belongs to a session other than the active
// one; the root drops such messages before any component sees them.
func StaleFor(session string, msg Tagged) bool { return msg.RequestTag().Session != session }

// seq numbers every tag in the process, so no two requests ever share one, even across
// components or copies of a model.
var seq atomic.Uint64

// Latest remembers the newest tag issued on one stream of requests (the picker's
// search, the dashboard being opened, the cell being explained …). Its zero value has
// issued nothing, so nothing is current.
type Latest struct{ tag Tag }

// Issue makes a new tag for a request in session; every tag issued before it on this
// stream becomes stale.
func (l *Latest) Issue(session string) Tag {
	l.tag = Tag{Session: session, Seq: seq.Add(1)}
	return l.tag
}

// Current reports whether msg answers the newest request on this stream.
func (l Latest) Current(msg Tagged) bool {
	t := msg.RequestTag()
	return t.Seq != 0 && t == l.tag
}

// Tag is the newest tag issued (the zero Tag if none).
func (l Latest) Tag() Tag { return l.tag }

// Forget makes every issued tag stale, e.g. when the view that asked is closed.
func (l *Latest) Forget() { l.tag = Tag{} }
