package ui

import (
	"context"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/internal/safetext"
	"github.com/shadowview/shadow/ui/banner"
	"github.com/shadowview/shadow/ui/common"
	"github.com/shadowview/shadow/ui/compare"
	"github.com/shadowview/shadow/ui/dashboards"
	"github.com/shadowview/shadow/ui/journalview"
	"github.com/shadowview/shadow/ui/matrix"
)

// session is one impersonation session while it is shown: the read-only view the
// client gave, what the banner names, and the pages made for it. Pages are made anew
// for every session, so nothing of one can carry over to the next.
type session struct {
	id   string
	view *client.View
	info banner.Info
	user api.UserRef // the impersonated user
	// reason is the reason given for the session (the server's record of it), cleaned.
	reason string

	// name is the impersonated user's name: info.User names a compare's second user too
	// while its session is open.
	name string
	// compare is the compare view, shown over the tabs while open; second is its
	// session on the second user once the root has heard of its start (comparing.go).
	// Until the server confirms its end it is also in the root's registry (seconds.go),
	// from the moment the server started it: what ends it goes through that.
	compare *compare.Model
	second  *session

	// ctx is cancelled when the session ends, so its requests still on their way stop.
	ctx    context.Context
	cancel context.CancelFunc

	dash    *dashboards.Model
	perms   *matrix.Model
	journal *journalview.Model
	tabs    []tab // in order: the number keys pick them (TabDashboards…)
	tab     int   // the one shown
	pending int   // page requests on their way

	// failedPolls counts the polls in a row the server did not answer; past LostAfter
	// info.Lost is set and lostErr is the last poll's error.
	failedPolls int
	lostErr     error
	// byYou is set when the admin asked to end it (q, y).
	byYou bool

	// loads are the views on their way, by their tag's Seq: what they are, since when,
	// and how to cancel them (esc).
	loads map[uint64]*load
	// matrixPage is the Seq of the matrix's latest later page asked for (a reload
	// cancels it if it is still on its way: matrixload.go).
	matrixPage uint64
}

// load is one view on its way.
type load struct {
	tab       int
	label     string // what loads, for people: "the permission matrix"
	started   time.Time
	cancel    context.CancelFunc
	cancelled atomic.Bool // by the admin (esc, or r for a matrix page), not by the session's end
	why       error       // what a cancelled view is journaled as; nil: errCancelled (esc)
}

// startLoad registers a view on its way and gives the context its call runs on: the
// session's, bounded by timeout, cancelled by cancelLoads.
func (s *session) startLoad(tag common.Tag, tab int, label string, now time.Time, timeout time.Duration) (context.Context, *load) {
	ctx, cancel := context.WithTimeout(s.ctx, timeout)
	l := &load{tab: tab, label: label, started: now, cancel: cancel}
	if s.loads == nil {
		s.loads = map[uint64]*load{}
	}
	s.loads[tag.Seq] = l
	return ctx, l
}

// endLoad forgets a view that came back.
func (s *session) endLoad(tag common.Tag) {
	if l := s.loads[tag.Seq]; l != nil {
		l.cancel()
		delete(s.loads, tag.Seq)
	}
}

// oldestLoad is the longest-waiting view of a tab, nil when none.
func (s *session) oldestLoad(tab int) *load {
	var oldest *load
	for _, l := range s.loads {
		if l.tab == tab && !l.cancelled.Load() && (oldest == nil || l.started.Before(oldest.started)) {
			oldest = l
		}
	}
	return oldest
}

// cancelLoads cancels every view of a tab still on its way; false when there was none.
func (s *session) cancelLoads(tab int) bool {
	any := false
	for _, l := range s.loads {
		if l.tab == tab && !l.cancelled.Load() {
			l.cancelled.Store(true)
			l.cancel()
			any = true
		}
	}
	return any
}

// cancelledAs is what a view cancelled by the admin is journaled as (nil: not cancelled).
func (l *load) cancelledAs() error {
	switch {
	case !l.cancelled.Load():
		return nil
	case l.why != nil:
		return l.why
	}
	return errCancelled
}

// cancelLoad cancels the view of tag Seq seq if it is still on its way, to be journaled
// as why.
func (s *session) cancelLoad(seq uint64, why error) {
	if l := s.loads[seq]; l != nil && !l.cancelled.Load() {
		l.why = why
		l.cancelled.Store(true) // after why: the call reads why once it sees cancelled
		l.cancel()
	}
}

// tab is one of a session's tabs (soft-serve's TabComponent): its title, its page, and
// what to ask for the first time it is shown, so nothing is fetched (or journaled as
// seen) that the admin did not open.
type tab struct {
	title  string
	page   common.Component
	open   func(m *Model) tea.Cmd
	opened bool
}

// newSession makes the pages of a session; its requests derive from parent (the
// program's context).
func newSession(parent context.Context, ctx *common.Context, v *client.View, s api.Session, u api.User, admin string, now time.Time) *session {
	length := s.ExpiresAt.Sub(s.StartedAt)
	if s.StartedAt.IsZero() || length <= 0 {
		length = v.Remaining()
	}
	name := s.User.Name
	if name == "" {
		name = u.Name
	}
	user := s.User
	if user.ID == "" {
		user = u.Ref()
	}
	sctx, cancel := context.WithCancel(parent)
	sess := &session{
		id: s.ID, view: v, user: user,
		// The countdown runs on this machine's clock from the session's length, as the
		// client's own deadline does, so clock skew cannot stretch it.
		info: banner.Info{User: name, Admin: admin, ExpiresAt: now.Add(length)},
		name: name, ctx: sctx, cancel: cancel, reason: safetext.Clean(s.Reason),
		dash: dashboards.New(ctx), perms: matrix.New(ctx), journal: journalview.New(ctx),
	}
	// The order is TabDashboards, TabPermissions, TabJournal.
	sess.tabs = []tab{
		{title: "Dashboards", page: sess.dash, open: func(*Model) tea.Cmd { return sess.dash.Init() }},
		{title: "Permissions", page: sess.perms, open: func(*Model) tea.Cmd { return sess.perms.Init() }},
		{title: "Journal", page: sess.journal, open: (*Model).readRecords},
	}
	return sess
}

func (s *session) page() common.Component {
	if s.compare != nil {
		return s.compare
	}
	return s.tabs[s.tab].page
}

func (s *session) titles() []string {
	titles := make([]string, len(s.tabs))
	for i, t := range s.tabs {
		titles[i] = t.title
	}
	return titles
}

func (s *session) setSize(w, h int) {
	for _, t := range s.tabs {
		t.page.SetSize(w, h)
	}
	if s.compare != nil {
		s.compare.SetSize(w, h)
	}
}

func (s *session) loading() bool { return s.pending > 0 || (s.compare != nil && s.compare.Busy()) }

// expired reports whether the countdown has run out, or the client closed the view
// (its own deadline passed, or the server said the session is over).
func (s *session) expired(now time.Time) bool {
	return !now.Before(s.info.ExpiresAt) || s.view.Closed()
}

// showTab switches tabs, asking for a tab's data the first time it is shown.
func (m *Model) showTab(i int) tea.Cmd {
	s := m.sess
	s.tab = i
	if t := &s.tabs[i]; !t.opened {
		t.opened = true
		return t.open(m)
	}
	return nil
}
