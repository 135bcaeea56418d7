// Command gen made the journals in the directory above it, with shadow at commit 7697047
// (journal format v2), so that every later build is tested on journals an earlier one
// wrote. It is kept as it was run, for the record: it lives under testdata, so no build
// compiles it, and it need not compile against later code.
//
//	go run ./audit/testdata/v2-7697047/gen audit/testdata/v2-7697047
//
// It starts the reference server (demo and hostile seeds) on loopback, signs in as the
// demo support admin and journals what the UI journals, in the UI's words, while the
// sync loop pushes it:
//
//	journal A (all synced, with a receipt): a session on Nora (the reason, the dashboard
//	list, two dashboards, the matrix, an allowed and a denied explain, the end), a refused
//	start on Ada (a company admin: target_privileged), a session on a hostile user whose
//	names and titles hold escape sequences, ended.
//	journal B (an unsynced tail): a session whose first records the server acknowledged
//	before the network went away, and whose last ones it never saw.
//
// The server's data directory is kept too, so a test can bring the same server back
// and sync journal B's tail to it.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/audit"
	"github.com/shadowview/shadow/client"
	"github.com/shadowview/shadow/server"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen OUTDIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// Manifest is what the fixture's test checks the journals against.
type Manifest struct {
	Commit    string        `json:"commit"`
	Made      time.Time     `json:"made"`
	ServerKey api.AuditKey  `json:"server_key"`
	KeyBase64 string        `json:"key_base64"`
	Journals  []JournalFact `json:"journals"`
}

// JournalFact is what is known of one fixture journal.
type JournalFact struct {
	ID       string   `json:"id"`
	Records  uint64   `json:"records"`
	HeadHash string   `json:"head_hash"`
	Acked    uint64   `json:"acked"`
	Sessions []string `json:"sessions"`
	Actions  []string `json:"actions"`
}

// cuttable is the staff client with a switch that makes the network go away.
type cuttable struct {
	*client.Client
	cut atomic.Bool
}

var errCut = errors.New("network unreachable (the fixture cut it)")

func (c *cuttable) PutJournalRecords(ctx context.Context, id string, recs []api.WireRecord) (api.PutRecordsResponse, error) {
	if c.cut.Load() {
		return api.PutRecordsResponse{}, errCut
	}
	return c.Client.PutJournalRecords(ctx, id, recs)
}

func run(out string) error {
	ctx := context.Background()
	stateDir, dataDir := filepath.Join(out, "state"), filepath.Join(out, "server")
	for _, d := range []string{stateDir, dataDir} {
		if _, err := os.Stat(d); err == nil {
			return fmt.Errorf("%s exists: the fixture is made once", d)
		}
	}
	srv, err := server.New(server.Options{DataDir: dataDir, Seed: server.Seed{Demo: true, Hostile: true}})
	if err != nil {
		return err
	}
	defer srv.Close()
	base, err := srv.Start("")
	if err != nil {
		return err
	}
	c, err := client.New(client.Options{BaseURL: base, Version: "fixture"})
	if err != nil {
		return err
	}
	admin, err := c.Login(ctx, server.DemoSupportEmail, server.DemoSupportPassword)
	if err != nil {
		return err
	}
	key, err := c.AuditKey(ctx)
	if err != nil {
		return err
	}
	remote := &cuttable{Client: c}

	// Journal A: everything synced.
	ja, _, err := audit.Open(audit.Options{StateDir: stateDir, Actor: admin.Ref()})
	if err != nil {
		return err
	}
	if err := ja.StartSync(remote, audit.SyncOptions{}); err != nil {
		return err
	}
	rec := recorder{c: c, j: ja, admin: admin.Ref()}
	nora, err := rec.findUser(ctx, server.DemoFleetManagerEmail)
	if err != nil {
		return err
	}
	if err := rec.session(ctx, nora, "TICKET-4711 Nora cannot see the North-East fleet", true); err != nil {
		return err
	}
	ada, err := rec.findUser(ctx, server.DemoCompanyAdminEmail)
	if err != nil {
		return err
	}
	if err := rec.refused(ctx, ada, "TICKET-4712 check Ada's view"); err != nil {
		return err
	}
	eve, err := rec.findUser(ctx, server.DemoHostileEmail)
	if err != nil {
		return err
	}
	if err := rec.session(ctx, eve, "TICKET-4713 names and titles with escape sequences", false); err != nil {
		return err
	}
	closeCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := ja.Close(closeCtx); err != nil {
		return fmt.Errorf("journal A did not sync whole: %w", err)
	}

	// Journal B: a session begun online, continued after the network went away.
	jb, _, err := audit.Open(audit.Options{StateDir: stateDir, Actor: admin.Ref()})
	if err != nil {
		return err
	}
	if err := jb.StartSync(remote, audit.SyncOptions{MinBackoff: time.Hour, MaxBackoff: time.Hour}); err != nil {
		return err
	}
	rec.j = jb
	tomas, err := rec.findUser(ctx, server.DemoTechnicianEmail)
	if err != nil {
		return err
	}
	sess, err := rec.start(ctx, tomas, "TICKET-4714 Tomas's jobs list is empty")
	if err != nil {
		return err
	}
	if err := rec.viewList(ctx, sess); err != nil {
		return err
	}
	for deadline := time.Now().Add(20 * time.Second); jb.Status().Pending > 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return errors.New("journal B's first records were never acknowledged")
		}
	}
	remote.cut.Store(true)
	if err := rec.viewPermissions(ctx, sess); err != nil {
		return err
	}
	if err := rec.end(ctx, sess, "ended by the admin"); err != nil {
		return err
	}
	short, cancel2 := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel2()
	if err := jb.Close(short); !errors.Is(err, audit.ErrUnsynced) {
		return fmt.Errorf("journal B should close with its tail unsynced, got %v", err)
	}

	return writeManifest(out, stateDir, key)
}

type recorder struct {
	c     *client.Client
	j     *audit.Journal
	admin api.UserRef
}

type openSession struct {
	view *client.View
	s    api.Session
	user api.UserRef
}

func (r recorder) append(ctx context.Context, b api.RecordBody) error {
	b.Actor = r.admin
	_, err := r.j.Append(ctx, b)
	return err
}

func (r recorder) findUser(ctx context.Context, email string) (api.User, error) {
	page, err := r.c.Users(ctx, client.UsersQuery{Query: email})
	if err != nil {
		return api.User{}, err
	}
	for _, u := range page.Users {
		if u.Email == email {
			return u, nil
		}
	}
	return api.User{}, fmt.Errorf("no user %s", email)
}

// start and the other steps write what ui/lifecycle.go and ui/requests.go write.
func (r recorder) start(ctx context.Context, u api.User, reason string) (openSession, error) {
	ref := u.Ref()
	v, s, err := r.c.StartSession(ctx, u.ID, reason)
	if err != nil {
		return openSession{}, err
	}
	rec := api.RecordBody{Action: api.ActionSessionStart, SessionID: s.ID, User: &ref, Reason: reason,
		Details: "read-only until " + s.ExpiresAt.UTC().Format(time.RFC3339)}
	if err := r.append(ctx, rec); err != nil {
		return openSession{}, err
	}
	user := s.User
	if user.ID == "" {
		user = ref
	}
	return openSession{view: v, s: s, user: user}, nil
}

func (r recorder) refused(ctx context.Context, u api.User, reason string) error {
	ref := u.Ref()
	_, _, err := r.c.StartSession(ctx, u.ID, reason)
	var body api.ErrorBody
	if !errors.As(err, &body) || !body.Code.ImpersonationRefusal() {
		return fmt.Errorf("starting a session on %s should be refused, got %v", u.Email, err)
	}
	return r.append(ctx, api.RecordBody{Action: api.ActionSessionRefused, User: &ref, Reason: reason,
		Details: string(body.Code) + ": " + body.Message})
}

func (r recorder) view(ctx context.Context, s openSession, action, details string) error {
	return r.append(ctx, api.RecordBody{Action: action, SessionID: s.s.ID, User: &s.user, Details: details})
}

func (r recorder) viewList(ctx context.Context, s openSession) error {
	l, err := s.view.Dashboards(ctx)
	if err != nil {
		return err
	}
	return r.view(ctx, s, api.ActionView, fmt.Sprintf("dashboards: the list (%d)", len(l.Dashboards)))
}

func (r recorder) viewPermissions(ctx context.Context, s openSession) error {
	p, err := s.view.Permissions(ctx)
	if err != nil {
		return err
	}
	return r.view(ctx, s, api.ActionView, fmt.Sprintf("permissions: %d resources × %d actions", len(p.Rows), len(p.Actions)))
}

func (r recorder) end(ctx context.Context, s openSession, why string) error {
	if err := r.c.EndSession(ctx, s.s.ID); err != nil {
		return err
	}
	return r.view(ctx, s, api.ActionSessionEnd, why)
}

func (r recorder) session(ctx context.Context, u api.User, reason string, explain bool) error {
	s, err := r.start(ctx, u, reason)
	if err != nil {
		return err
	}
	l, err := s.view.Dashboards(ctx)
	if err != nil {
		return err
	}
	if err := r.view(ctx, s, api.ActionView, fmt.Sprintf("dashboards: the list (%d)", len(l.Dashboards))); err != nil {
		return err
	}
	ids := []string{}
	for _, d := range l.Dashboards {
		if d.ID == "d-hostile-title" { // its title is hostile: shown first
			ids = append([]string{d.ID}, ids...)
		} else {
			ids = append(ids, d.ID)
		}
	}
	for i, id := range ids {
		if i == 2 {
			break
		}
		full, err := s.view.Dashboard(ctx, id)
		if err != nil {
			return err
		}
		if err := r.view(ctx, s, api.ActionView, "dashboard "+full.ID+": "+full.Title); err != nil {
			return err
		}
	}
	if explain { // a failed read is journaled as an error, as the UI does
		if _, err := s.view.Dashboard(ctx, "d-missing"); err == nil {
			return errors.New("dashboard d-missing exists")
		} else if err := r.view(ctx, s, api.ActionError, "dashboard d-missing: "+err.Error()); err != nil {
			return err
		}
	}
	p, err := s.view.Permissions(ctx)
	if err != nil {
		return err
	}
	if err := r.view(ctx, s, api.ActionView, fmt.Sprintf("permissions: %d resources × %d actions", len(p.Rows), len(p.Actions))); err != nil {
		return err
	}
	if explain {
		seen := map[string]bool{}
		for _, row := range p.Rows {
			for _, a := range p.Actions {
				e, err := s.view.Explain(ctx, row.Resource.ID, a)
				if err != nil {
					return err
				}
				if seen[e.Effect] {
					continue
				}
				seen[e.Effect] = true
				what := a + " on " + row.Resource.ID
				if err := r.view(ctx, s, api.ActionExplain, "explain "+what+" ("+e.Resource.Name+"): "+e.Effect); err != nil {
					return err
				}
			}
			if seen[api.EffectNameAllow] && seen[api.EffectNameDeny] {
				break
			}
		}
	}
	return r.end(ctx, s, "ended by the admin")
}

func writeManifest(out, stateDir string, key api.AuditKey) error {
	a, err := audit.LoadArchive(stateDir)
	if err != nil {
		return err
	}
	m := Manifest{Commit: commit(), Made: time.Now().UTC(), ServerKey: key,
		KeyBase64: base64.StdEncoding.EncodeToString(key.PublicKey)}
	for _, jd := range a.Journals {
		f := JournalFact{ID: jd.ID, Records: jd.Head.Seq, HeadHash: jd.Head.Hash, Acked: jd.Acked.Seq}
		seen := map[string]bool{}
		for _, e := range jd.Entries {
			f.Actions = append(f.Actions, e.Data.Action)
			if s := e.Data.SessionID; s != "" && !seen[s] {
				seen[s] = true
				f.Sessions = append(f.Sessions, s)
			}
		}
		m.Journals = append(m.Journals, f)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "manifest.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	exp, err := os.Create(filepath.Join(out, "export.jsonl"))
	if err != nil {
		return err
	}
	defer exp.Close()
	_, _, err = a.Export(exp, audit.FormatJSONL, "")
	return err
}

func commit() string {
	b, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	return string(b[:len(b)-1])
}
