package audit

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/shadowview/shadow/api"
)

// What offline verify can and cannot prove, and what the server comparison adds: each
// tampering case of docs/JOURNAL.md's table, on a journal synced to the real server.
//
// The journal: 10 records; the server's receipt (stored) covers 6; records 7-10 reached
// the server too, but their receipt never came back (a reply lost after the commit).
// older is a copy of its file taken when 3 records were acknowledged.

type limitsFixture struct {
	fs          *faultyServer
	dir, id     string
	path, older string
	key         api.AuditKey
}

func newLimitsFixture(t *testing.T) limitsFixture {
	t.Helper()
	fs := newFaultyServer(t)
	remote := adminRemote(t, fs.http.URL)
	dir := t.TempDir()
	j := openTest(t, dir)
	if err := j.StartSync(remote, fastSync); err != nil {
		t.Fatal(err)
	}
	appendN(t, j, "s", 3)
	waitStatus(t, j, 20*time.Second, func(s Status) bool { return s.Acked == 3 })
	older := filepath.Join(t.TempDir(), "older.db")
	if err := j.file.db.View(func(tx *bolt.Tx) error { return tx.CopyFile(older, 0o600) }); err != nil {
		t.Fatal(err)
	}
	appendN(t, j, "s", 3)
	waitStatus(t, j, 20*time.Second, func(s Status) bool { return s.Acked == 6 })
	closeTest(t, j)
	// Records 7-10 are written and reach the server, but their receipt is lost.
	f, _, err := openJournal(j.Path(), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 6; i < 10; i++ {
		b := sampleBody("s", i)
		b.EventID, b.Time = "01JLIMITS0000000000000000"+string(rune('0'+i)), time.Now().UTC()
		o := newOp(opAppend)
		if o.body, err = boundRecord(b); err != nil {
			t.Fatal(err)
		}
		if err := f.w.do(o); err != nil {
			t.Fatal(err)
		}
	}
	tail, err := f.readRange(7, 10, 1<<20)
	f.close()
	if err != nil {
		t.Fatal(err)
	}
	var wire []api.WireRecord
	for _, r := range tail {
		wire = append(wire, r.Wire())
	}
	if _, err := remote.PutJournalRecords(context.Background(), j.ID(), wire); err != nil {
		t.Fatal(err)
	}
	key, err := remote.AuditKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return limitsFixture{fs: fs, dir: dir, id: j.ID(), path: j.Path(), older: older, key: key}
}

// copyState is a private copy of the fixture's state dir, and its journal's path.
func (lf limitsFixture) copyState(t *testing.T) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	copyDir(t, lf.dir, dir)
	return dir, filepath.Join(JournalsDir(dir), filepath.Base(lf.path))
}

// rewrite changes a journal file as a tamperer with the file (and no server key)
// could: drop records after keep, edit bodies from a seq and recompute every hash from
// there, or remove the receipt. The result is a self-consistent journal.
type rewrite struct {
	keep       uint64 // records kept (0: all)
	editFrom   uint64 // first seq whose body is edited (0: none)
	dropAcked  bool
	newID      string // move the journal to this id (every hash recomputed)
	swapKey    ed25519.PrivateKey
	swapKeyPub api.AuditKey
}

func (rw rewrite) apply(t *testing.T, path string) string {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, recs := tx.Bucket(bucketMeta), tx.Bucket(bucketRecords)
		st, err := readState(tx)
		if err != nil {
			return err
		}
		id := st.JournalID
		from := rw.editFrom
		if rw.newID != "" {
			id, from = rw.newID, 1
			if err := meta.Put(keyJournalID, []byte(id)); err != nil {
				return err
			}
		}
		last := st.Head.Seq
		if rw.keep > 0 {
			for s := rw.keep + 1; s <= last; s++ {
				if err := recs.Delete(seqKey(s)); err != nil {
					return err
				}
			}
			last = rw.keep
		}
		prev := api.ZeroHash
		for s := uint64(1); s <= last; s++ {
			p, h, body := storedRecord(t, recs, s)
			if from > 0 && s >= from {
				if rw.editFrom > 0 && s == rw.editFrom {
					body = []byte(strings.Replace(string(body), "Fleet overview", "Fleet overvieW", 1))
				}
				h = api.RecordHash(id, s, prev, body)
				p = prev
				if err := recs.Put(seqKey(s), storedValue(t, recs, p, h, body)); err != nil {
					return err
				}
			}
			prev = h
		}
		if err := meta.Put(keyHead, encodeHead(head{Seq: last, Hash: prev})); err != nil {
			return err
		}
		if rw.dropAcked || rw.newID != "" {
			return meta.Delete(keyAcked)
		}
		if rw.swapKey != nil {
			a := st.Acked
			a.Receipt.KeyID = rw.swapKeyPub.KeyID
			a.Receipt.Sign(rw.swapKey)
			if err := putJSON(meta, keyAcked, a); err != nil {
				return err
			}
			return putJSON(meta, keyServerKey, rw.swapKeyPub)
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if rw.newID != "" {
		moved := filepath.Join(filepath.Dir(path), rw.newID+journalExt)
		if err := os.Rename(path, moved); err != nil {
			t.Fatal(err)
		}
		return moved
	}
	return path
}

// verdict is what offline verify says of a journal: "ok", "PARTLY" or "FAIL".
func offlineVerdict(t *testing.T, dir string, args ...string) (string, string) {
	t.Helper()
	out, err := runCLI(t, append(append([]string{"verify"}, args...), "--state-dir", dir)...)
	switch {
	case err == nil && strings.HasPrefix(out, "ok "):
		return "ok", out
	case errors.Is(err, ErrVerifyFailed) && strings.HasPrefix(out, "PARTLY "):
		return "PARTLY", out
	case errors.Is(err, ErrVerifyFailed) && strings.HasPrefix(out, "FAIL "):
		return "FAIL", out
	}
	t.Fatalf("verify said something else: %v\n%s", err, out)
	return "", ""
}

// onlineKinds runs verify --server and counts its findings by kind.
func onlineKinds(t *testing.T, dir, url string) (map[FindingKind]int, string) {
	t.Helper()
	out, _ := verifyServerCLI(t, dir, url)
	kinds := map[FindingKind]int{}
	for _, line := range strings.Split(out, "\n") {
		for _, k := range []FindingKind{FindingMissing, FindingDifferent, FindingRollback, FindingElsewhere} {
			if strings.Contains(line, ": "+string(k)+": ") {
				kinds[k]++
			}
		}
	}
	return kinds, out
}

func TestWhatOfflineVerifyCannotProveTheServerComparisonFinds(t *testing.T) {
	t.Parallel()
	lf := newLimitsFixture(t)
	keyArg := base64.StdEncoding.EncodeToString(lf.key.PublicKey)
	_, forger, _ := ed25519.GenerateKey(nil)
	forgedKey := api.AuditKey{KeyID: "forged", Algorithm: "ed25519", PublicKey: forger.Public().(ed25519.PublicKey)}

	for name, c := range map[string]struct {
		rw         *rewrite // nil: the file is left as it is
		older      bool
		offline    string // without --key
		offlineKey string // with --key
		online     map[FindingKind]int
	}{
		// Untouched: the receipt covers 6, the server holds all 10.
		"untouched":                            {offline: "PARTLY", offlineKey: "PARTLY", online: map[FindingKind]int{}},
		"truncating the un-receipted tail":     {rw: &rewrite{keep: 6}, offline: "ok", offlineKey: "ok", online: map[FindingKind]int{FindingRollback: 4}},
		"rehashing after the last receipt":     {rw: &rewrite{editFrom: 8}, offline: "PARTLY", offlineKey: "PARTLY", online: map[FindingKind]int{FindingDifferent: 3}},
		"deleting the receipt, then rewriting": {rw: &rewrite{editFrom: 2, dropAcked: true}, offline: "PARTLY", offlineKey: "FAIL", online: map[FindingKind]int{FindingDifferent: 9}},
		"rewriting under a new id":             {rw: &rewrite{newID: "01M98ZZZZZZZZZZZZZZZZZZZZZ"}, offline: "PARTLY", offlineKey: "FAIL", online: map[FindingKind]int{}},
		"rolling back to an older copy":        {older: true, offline: "ok", offlineKey: "ok", online: map[FindingKind]int{FindingRollback: 7}},
		"swapping the key and re-signing":      {rw: &rewrite{swapKey: forger, swapKeyPub: forgedKey}, offline: "PARTLY", offlineKey: "FAIL", online: map[FindingKind]int{FindingElsewhere: 1}},
		"editing a receipted record":           {rw: &rewrite{editFrom: 4}, offline: "FAIL", offlineKey: "FAIL", online: map[FindingKind]int{FindingDifferent: 7}},
	} {
		t.Run(name, func(t *testing.T) {
			dir, path := lf.copyState(t)
			if c.older {
				if err := copyFile(lf.older, path, 0o600); err != nil {
					t.Fatal(err)
				}
			} else if c.rw != nil {
				c.rw.apply(t, path)
			}
			if got, out := offlineVerdict(t, dir); got != c.offline {
				t.Errorf("offline verify: %s, table says %s\n%s", got, c.offline, out)
			} else if !strings.Contains(out, "It cannot prove that records after") {
				t.Errorf("offline verify does not say what it cannot prove:\n%s", out)
			}
			if got, out := offlineVerdict(t, dir, "--key", keyArg); got != c.offlineKey {
				t.Errorf("offline verify --key: %s, table says %s\n%s", got, c.offlineKey, out)
			}
			kinds, out := onlineKinds(t, dir, lf.fs.http.URL)
			if len(kinds) != len(c.online) {
				t.Errorf("verify --server found %v, table says %v\n%s", kinds, c.online, out)
			}
			for k, n := range c.online {
				if kinds[k] != n {
					t.Errorf("verify --server: %d %q, table says %d\n%s", kinds[k], k, n, out)
				}
			}
		})
	}
}

// --key with no receipt to check is a finding, not a pass: nothing was checked against it.
func TestKeyWithNoReceiptIsAFinding(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j := openTest(t, dir)
	appendN(t, j, "s", 2)
	closeTest(t, j)
	pub, _, _ := ed25519.GenerateKey(nil)
	out, err := runCLI(t, "verify", "--key", base64.StdEncoding.EncodeToString(pub), "--state-dir", dir)
	if !errors.Is(err, ErrVerifyFailed) || !strings.Contains(out, "--key is given, but this journal holds no receipt") {
		t.Fatalf("--key without a receipt: %v\n%s", err, out)
	}
}
