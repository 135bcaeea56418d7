package audit

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/server"
)

// Journals written by earlier builds are user data: every build must read, verify,
// export and sync them. Each testdata/v1-<commit> directory was made by its gen program
// at that commit (see its README): a state dir of journals, the server's data dir they
// synced to, the JSONL export that build wrote, and a manifest of what is in them.

type fixtureManifest struct {
	Commit    string         `json:"commit"`
	ServerKey api.AuditKey   `json:"server_key"`
	KeyBase64 string         `json:"key_base64"`
	Journals  []fixtureFacts `json:"journals"`
}

type fixtureFacts struct {
	ID       string   `json:"id"`
	Records  uint64   `json:"records"`
	HeadHash string   `json:"head_hash"`
	Acked    uint64   `json:"acked"`
	Sessions []string `json:"sessions"`
	Actions  []string `json:"actions"`
}

type fixture struct {
	dir      string // the fixture, read only
	state    string // a private copy of its state dir
	manifest fixtureManifest
}

func fixtures(t *testing.T) []fixture {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("testdata", "v[0-9]*-*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no journal fixtures in testdata: %v", err)
	}
	var out []fixture
	for _, d := range dirs {
		f := fixture{dir: d, state: filepath.Join(t.TempDir(), "state")}
		data, err := os.ReadFile(filepath.Join(d, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &f.manifest); err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		copyDir(t, filepath.Join(d, "state"), f.state)
		out = append(out, f)
	}
	return out
}

func (f fixture) facts(id string) fixtureFacts {
	for _, j := range f.manifest.Journals {
		if j.ID == id {
			return j
		}
	}
	return fixtureFacts{}
}

func TestJournalsOfEarlierBuildsReadAsWritten(t *testing.T) {
	t.Parallel()
	for _, f := range fixtures(t) {
		a, err := LoadArchive(f.state)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Journals) != len(f.manifest.Journals) || len(a.Unreadable) > 0 {
			t.Fatalf("%s: read %d journals (unreadable %v), made %d", f.dir, len(a.Journals), a.Unreadable, len(f.manifest.Journals))
		}
		for _, jd := range a.Journals {
			want := f.facts(jd.ID)
			var actions, sessions []string
			for _, e := range jd.Entries {
				actions = append(actions, e.Data.Action)
				if s := e.Data.SessionID; s != "" && !slices.Contains(sessions, s) {
					sessions = append(sessions, s)
				}
				if e.Data.Actor.ID == "" || e.Data.Time.IsZero() || e.Data.EventID == "" {
					t.Errorf("%s %s seq %d: read back without actor, time or event id: %+v", f.dir, jd.ID, e.Seq, e.Data)
				}
			}
			if jd.Head.Seq != want.Records || jd.Head.Hash != want.HeadHash || jd.Acked.Seq != want.Acked ||
				!slices.Equal(actions, want.Actions) || !slices.Equal(sessions, want.Sessions) {
				t.Errorf("%s journal %s: head %v acked %d actions %v sessions %v; made %+v",
					f.dir, jd.ID, jd.Head, jd.Acked.Seq, actions, sessions, want)
			}
		}
	}
}

func TestJournalsOfEarlierBuildsVerify(t *testing.T) {
	t.Parallel()
	for _, f := range fixtures(t) {
		reports, err := VerifyAll(f.state, VerifyOptions{ServerKey: &f.manifest.ServerKey})
		if err != nil {
			t.Fatal(err)
		}
		if len(reports) != len(f.manifest.Journals) {
			t.Fatalf("%s: %d reports for %d journals", f.dir, len(reports), len(f.manifest.Journals))
		}
		for _, r := range reports {
			want := f.facts(r.JournalID)
			if !r.OK() || r.Records != want.Records || r.Acked != want.Acked {
				t.Errorf("%s journal %s: ok %v records %d acked %d problems %v; made %+v",
					f.dir, r.JournalID, r.OK(), r.Records, r.Acked, r.Problems, want)
			}
		}
		// The export that build wrote verifies too, against the key the auditor holds.
		reports, err = VerifyFile(filepath.Join(f.dir, "export.jsonl"), VerifyOptions{ServerKey: &f.manifest.ServerKey})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reports {
			if !r.OK() || r.Records != f.facts(r.JournalID).Records {
				t.Errorf("%s export.jsonl journal %s: %+v", f.dir, r.JournalID, r)
			}
		}
	}
}

func TestJournalsOfEarlierBuildsExport(t *testing.T) {
	t.Parallel()
	for _, f := range fixtures(t) {
		total := 0
		for _, j := range f.manifest.Journals {
			total += int(j.Records)
		}
		out := filepath.Join(t.TempDir(), "export.jsonl")
		if o, err := runCLI(t, "export", "--out", out, "--state-dir", f.state); unsyncedOK(err) != nil {
			t.Fatalf("%s: export: %v\n%s", f.dir, err, o)
		}
		reports, err := VerifyFile(out, VerifyOptions{ServerKey: &f.manifest.ServerKey})
		if err != nil || len(reports) != len(f.manifest.Journals) {
			t.Fatalf("%s: this build's export of them: %v %+v", f.dir, err, reports)
		}
		for _, r := range reports {
			if !r.OK() {
				t.Errorf("%s: this build's export of journal %s does not verify: %v", f.dir, r.JournalID, r.Problems)
			}
		}
		csvOut, err := runCLI(t, "export", "--format", "csv", "--state-dir", f.state)
		if unsyncedOK(err) != nil {
			t.Fatalf("%s: csv: %v", f.dir, err)
		}
		rows, err := csv.NewReader(strings.NewReader(csvOut)).ReadAll()
		if err != nil || len(rows) != total+1 {
			t.Fatalf("%s: csv of %d records: %d rows, %v", f.dir, total, len(rows), err)
		}
	}
}

// The journal left with an unsynced tail syncs it to the server it pinned (brought
// back from its data dir), and then every journal is acknowledged whole.
func TestJournalsOfEarlierBuildsSyncTheirTail(t *testing.T) {
	t.Parallel()
	for _, f := range fixtures(t) {
		dataDir := filepath.Join(t.TempDir(), "server")
		copyDir(t, filepath.Join(f.dir, "server"), dataDir)
		srv, err := server.New(server.Options{DataDir: dataDir, Seed: server.Seed{Demo: true, Hostile: true}, PasswordCost: bcrypt.MinCost})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		base, err := srv.Start("")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := Drain(ctx, f.state, adminRemote(t, base), fastSync); err != nil {
			t.Fatalf("%s: %v", f.dir, err)
		}
		for _, r := range mustVerifyAll(t, f.state) {
			if r.Acked != r.Head.Seq || r.Head.Seq != f.facts(r.JournalID).Records {
				t.Errorf("%s journal %s: acked %d of %d after sync", f.dir, r.JournalID, r.Acked, r.Head.Seq)
			}
		}
	}
}
