package audit

import (
	"cmp"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/shadowview/shadow/api"
)

// Archive is every journal under a state dir, read for offline review: list, show,
// export. Journals in use by another process are read from a consistent snapshot.
type Archive struct {
	Journals []*JournalData
	// SetAside are damaged journal files moved out of the way.
	SetAside []string
	// Unreadable are journals that could not be read at all, with why.
	Unreadable []error
}

// JournalData is one journal, read whole.
type JournalData struct {
	Path    string
	ID      string
	Live    bool // in use by another process; read from a snapshot
	Created time.Time
	Head    api.JournalHead
	Acked   Acknowledgement
	Key     *api.AuditKey
	Entries []Entry
}

// LoadArchive reads every journal under stateDir.
func LoadArchive(stateDir string) (*Archive, error) {
	paths, aside, odd, err := journalFiles(JournalsDir(stateDir))
	if err != nil {
		return nil, err
	}
	a := &Archive{SetAside: aside}
	for _, p := range odd {
		a.Unreadable = append(a.Unreadable, oddError(p))
	}
	for _, p := range paths {
		jd, err := loadJournal(p)
		if err != nil {
			a.Unreadable = append(a.Unreadable, err)
			continue
		}
		a.Journals = append(a.Journals, jd)
	}
	return a, nil
}

func loadJournal(path string) (*JournalData, error) {
	v, err := openView(path)
	if err != nil {
		return nil, err
	}
	defer v.close()
	jd := &JournalData{Path: path, Live: v.Live}
	err = guard(path, func() error {
		return v.db.View(func(tx *bolt.Tx) error {
			st, err := readState(tx)
			if err != nil {
				return err
			}
			jd.ID, jd.Created, jd.Head, jd.Acked, jd.Key = st.JournalID, st.Created, st.Head.API(), st.Acked, st.Key
			cd, err := readCodec(tx)
			if err != nil {
				return err
			}
			c := tx.Bucket(bucketRecords).Cursor()
			for k, val := c.First(); k != nil; k, val = c.Next() {
				seq, kok := keySeq(k)
				prev, hash, body, ok := cd.decode(val)
				if !ok || !kok {
					return fmt.Errorf("%w: unreadable record after seq %d; run `shadow journal verify`", ErrDamaged, seq)
				}
				rec := Record{JournalID: st.JournalID, Seq: seq, PrevHash: prev, Hash: hash, Body: append([]byte(nil), body...)}
				data, err := rec.Decode()
				if err != nil {
					return err
				}
				jd.Entries = append(jd.Entries, Entry{Record: rec, Data: data, Synced: seq <= st.Acked.Seq})
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read journal %s: %w", path, err)
	}
	return jd, nil
}

// SessionSummary is one row of `shadow journal list`.
type SessionSummary struct {
	JournalID string
	SessionID string // empty for the journal's own records (journal.recovered)
	Started   time.Time
	Ended     time.Time // time of the last record
	Admin     api.UserRef
	User      *api.UserRef
	Reason    string
	Records   int
	Pending   int // records the server has not acknowledged
	Live      bool
	// Refused is the server's code for a refused start (a session.refused record, which
	// has no session): each is a summary of its own, never a session.
	Refused api.Code
}

// Sessions summarises the archive's sessions, oldest first.
func (a *Archive) Sessions() []SessionSummary {
	var out []SessionSummary
	for _, jd := range a.Journals {
		index := map[string]int{}
		for _, e := range jd.Entries {
			group := e.Data.SessionID
			refused := e.Data.SessionID == "" && e.Data.Action == api.ActionSessionRefused
			if refused {
				group = fmt.Sprintf("\x00refused %d", e.Seq) // each refused start alone
			}
			i, ok := index[group]
			if !ok {
				i = len(out)
				index[group] = i
				out = append(out, SessionSummary{JournalID: jd.ID, SessionID: e.Data.SessionID,
					Started: e.Data.Time, Admin: e.Data.Actor, Live: jd.Live})
				if refused {
					code, _, _ := strings.Cut(e.Data.Details, ":")
					out[i].Refused = api.Code(cmp.Or(strings.TrimSpace(code), "no code given"))
				}
			}
			s := &out[i]
			s.Records++
			s.Ended = e.Data.Time
			if !e.Synced {
				s.Pending++
			}
			if s.User == nil && e.Data.User != nil {
				s.User = e.Data.User
			}
			if s.Reason == "" && e.Data.Reason != "" {
				s.Reason = e.Data.Reason
			}
			if s.Admin.ID == "" && s.Admin.Name == "" {
				s.Admin = e.Data.Actor
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out
}

// ErrNoSuchSession reports a session (or journal) id that matches nothing, or more than
// one thing.
var ErrNoSuchSession = errors.New("no such session")

// Select returns the entries of one session, or of one whole journal when id names a
// journal. A unique prefix of either id is enough.
func (a *Archive) Select(id string) (journal *JournalData, entries []Entry, err error) {
	if id == "" {
		return nil, nil, fmt.Errorf("%w: give a session id (see `shadow journal list`)", ErrNoSuchSession)
	}
	type match struct {
		jd      *JournalData
		session string // "" for a whole journal
	}
	seen := map[match]bool{}
	var matches []match
	add := func(m match) {
		if !seen[m] {
			seen[m] = true
			matches = append(matches, m)
		}
	}
	for _, jd := range a.Journals {
		if jd.ID == id || strings.HasPrefix(jd.ID, id) {
			add(match{jd, ""})
		}
		for _, e := range jd.Entries {
			if s := e.Data.SessionID; s != "" && (s == id || strings.HasPrefix(s, id)) {
				add(match{jd, s})
			}
		}
	}
	exact := matches[:0:0]
	for _, m := range matches {
		if m.session == id || (m.session == "" && m.jd.ID == id) {
			exact = append(exact, m)
		}
	}
	if len(exact) > 0 {
		matches = exact
	}
	switch {
	case len(matches) == 0:
		return nil, nil, fmt.Errorf("%w: %q", ErrNoSuchSession, id)
	case len(matches) > 1 && matches[0].session == "":
		return nil, nil, fmt.Errorf("%w: %q matches more than one journal or session; give more of it", ErrNoSuchSession, id)
	}
	// A session whose records sit in one journal is the usual case; gather across all
	// matches of the same session id to be safe.
	m := matches[0]
	if m.session == "" {
		return m.jd, m.jd.Entries, nil
	}
	for _, other := range matches[1:] {
		if other.session != m.session {
			return nil, nil, fmt.Errorf("%w: %q matches more than one session; give more of it", ErrNoSuchSession, id)
		}
	}
	for _, mm := range matches {
		for _, e := range mm.jd.Entries {
			if e.Data.SessionID == m.session {
				entries = append(entries, e)
			}
		}
	}
	return m.jd, entries, nil
}
