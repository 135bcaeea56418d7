package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/shadowview/shadow/api"
)

// signedJournal is a closed journal of 10 records whose first 6 the "server" (a real
// Ed25519 key, as the reference server signs) has acknowledged with a receipt.
type signedJournal struct {
	dir, path, id string
	recs          []Record
	key           api.AuditKey
	priv          ed25519.PrivateKey
}

const signedAcked = 6

func newSignedJournal(t *testing.T) signedJournal { return signedJournalOf(t, 10, signedAcked) }

// signedJournalOf is a closed journal of n records, the first acked of them acknowledged.
func signedJournalOf(t *testing.T, n, acked int) signedJournal {
	t.Helper()
	dir := t.TempDir()
	j := openTest(t, dir)
	recs := appendN(t, j, "s-1", n)
	closeTest(t, j)
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	sj := signedJournal{dir: dir, path: j.Path(), id: j.ID(), recs: recs, priv: priv,
		key: api.AuditKey{KeyID: "k1", Algorithm: "ed25519", PublicKey: pub}}
	f, _, err := openJournal(sj.path, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	pin := newOp(opPin)
	pin.key = sj.key
	if err := f.w.do(pin); err != nil {
		t.Fatal(err)
	}
	if err := f.w.do(sj.ackOp(uint64(acked), recs[acked-1].Hash.String(), priv)); err != nil {
		t.Fatal(err)
	}
	return sj
}

func (sj signedJournal) ackOp(seq uint64, hash string, priv ed25519.PrivateKey) *op {
	r := api.Receipt{JournalID: sj.id, Seq: seq, Hash: hash, IssuedAt: time.Now(), KeyID: sj.key.KeyID}
	r.Sign(priv)
	o := newOp(opAck)
	o.ack = Acknowledgement{Seq: seq, Hash: hash, Receipt: r}
	return o
}

func (sj signedJournal) update(t *testing.T, fn func(records, meta *bolt.Bucket) error) {
	t.Helper()
	db, err := bolt.Open(sj.path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket(bucketRecords), tx.Bucket(bucketMeta)) }); err != nil {
		t.Fatal(err)
	}
}

func (sj signedJournal) verify(t *testing.T) Report {
	t.Helper()
	reports, err := VerifyFile(sj.path, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return reports[0]
}

func TestUntouchedSignedJournalVerifies(t *testing.T) {
	t.Parallel()
	sj := newSignedJournal(t)
	r := sj.verify(t)
	if !r.OK() || r.Records != 10 || r.Acked != signedAcked || r.KeyID != "k1" {
		t.Fatalf("report %+v", r)
	}
	// With the auditor's own copy of the key too, and against another key it fails.
	if rs, _ := VerifyFile(sj.path, VerifyOptions{ServerKey: &sj.key}); !rs[0].OK() {
		t.Fatalf("trusted key: %v", rs[0].Problems)
	}
	other, _, _ := ed25519.GenerateKey(nil)
	if rs, _ := VerifyFile(sj.path, VerifyOptions{ServerKey: &api.AuditKey{PublicKey: other}}); rs[0].OK() {
		t.Fatal("a journal pinned to another key verified against the trusted key")
	}
}

func TestTamperingIsFoundAtTheExactSeq(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		seq    uint64
		tamper func(t *testing.T, sj signedJournal)
	}{
		"flipped byte in the file": {7, func(t *testing.T, sj signedJournal) {
			raw, err := os.ReadFile(sj.path)
			if err != nil {
				t.Fatal(err)
			}
			needle := []byte("dashboard d-6: Fleet") // record 7's details
			n := 0
			// bbolt leaves older copies of a page in free space: flip every copy, so the
			// live one is surely hit.
			for i := bytes.Index(raw, needle); i >= 0; {
				raw[i+len("dashboard d-6: F")] ^= 0x20
				n++
				next := bytes.Index(raw[i+1:], needle)
				if next < 0 {
					break
				}
				i += 1 + next
			}
			if n == 0 {
				t.Fatal("record 7 not found in the file")
			}
			if err := os.WriteFile(sj.path, raw, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		"deleted record": {4, func(t *testing.T, sj signedJournal) {
			sj.update(t, func(records, _ *bolt.Bucket) error { return records.Delete(seqKey(4)) })
		}},
		"deleted last record": {10, func(t *testing.T, sj signedJournal) {
			sj.update(t, func(records, _ *bolt.Bucket) error { return records.Delete(seqKey(10)) })
		}},
		"reordered pair": {3, func(t *testing.T, sj signedJournal) {
			sj.update(t, func(records, _ *bolt.Bucket) error {
				a := append([]byte(nil), records.Get(seqKey(3))...)
				b := append([]byte(nil), records.Get(seqKey(4))...)
				if err := records.Put(seqKey(3), b); err != nil {
					return err
				}
				return records.Put(seqKey(4), a)
			})
		}},
		"edited field": {5, func(t *testing.T, sj signedJournal) {
			sj.update(t, func(records, _ *bolt.Bucket) error {
				prev, hash, body := storedRecord(t, records, 5)
				edited := bytes.Replace(body, []byte("Bob User"), []byte("Eve Other"), 1)
				return records.Put(seqKey(5), storedValue(t, records, prev, hash, edited))
			})
		}},
		// In format v2 the user's name is stored once, for every record that names them.
		"edited string shared by every record": {1, func(t *testing.T, sj signedJournal) {
			sj.update(t, func(records, _ *bolt.Bucket) error {
				strs := records.Tx().Bucket(bucketStrings)
				c := strs.Cursor()
				for k, v := c.First(); k != nil; k, v = c.Next() {
					if bytes.Contains(v, []byte("Bob User")) {
						return strs.Put(bytes.Clone(k), bytes.Replace(v, []byte("Bob User"), []byte("Eve Other"), 1))
					}
				}
				return errors.New("no string names the user")
			})
		}},
		"edited field, hash recomputed": {8, func(t *testing.T, sj signedJournal) {
			sj.update(t, func(records, meta *bolt.Bucket) error {
				prev, _, body := storedRecord(t, records, 8)
				edited := bytes.Replace(body, []byte("Bob User"), []byte("Eve Other"), 1)
				return records.Put(seqKey(8), storedValue(t, records, prev, api.RecordHash(sj.id, 8, prev, edited), edited))
			})
		}},
		"edited acknowledged field, hash recomputed": {6, func(t *testing.T, sj signedJournal) {
			sj.update(t, func(records, meta *bolt.Bucket) error {
				prev, _, body := storedRecord(t, records, 6)
				edited := bytes.Replace(body, []byte("Bob User"), []byte("Eve Other"), 1)
				return records.Put(seqKey(6), storedValue(t, records, prev, api.RecordHash(sj.id, 6, prev, edited), edited))
			})
		}},
		"forged receipt signature": {signedAcked, func(t *testing.T, sj signedJournal) {
			sj.update(t, func(_, meta *bolt.Bucket) error {
				var a Acknowledgement
				if err := json.Unmarshal(meta.Get(keyAcked), &a); err != nil {
					return err
				}
				a.Receipt.Signature[0] ^= 1
				return putJSON(meta, keyAcked, a)
			})
		}},
		"receipt stretched to more records": {9, func(t *testing.T, sj signedJournal) {
			sj.update(t, func(_, meta *bolt.Bucket) error {
				var a Acknowledgement
				if err := json.Unmarshal(meta.Get(keyAcked), &a); err != nil {
					return err
				}
				a.Seq, a.Hash = 9, sj.recs[8].Hash.String()
				a.Receipt.Seq, a.Receipt.Hash = a.Seq, a.Hash
				return putJSON(meta, keyAcked, a)
			})
		}},
		"receipt from a forger's key": {signedAcked, func(t *testing.T, sj signedJournal) {
			_, forger, _ := ed25519.GenerateKey(nil)
			sj.update(t, func(_, meta *bolt.Bucket) error {
				o := sj.ackOp(signedAcked, sj.recs[signedAcked-1].Hash.String(), forger)
				return putJSON(meta, keyAcked, o.ack)
			})
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sj := newSignedJournal(t)
			tc.tamper(t, sj)
			r := sj.verify(t)
			if r.OK() || r.FirstBad != tc.seq {
				t.Fatalf("first bad seq %d, want %d; problems: %v", r.FirstBad, tc.seq, r.Problems)
			}
			// The CLI says the same and fails.
			var out bytes.Buffer
			err := RunCommand(context.Background(), []string{"verify", "--state-dir", sj.dir}, CommandEnv{Stdout: &out, Stderr: &out})
			if !errors.Is(err, ErrVerifyFailed) || !strings.Contains(out.String(), "first bad seq "+strconv.FormatUint(tc.seq, 10)) {
				t.Fatalf("CLI: %v\n%s", err, out.String())
			}
		})
	}
}

func TestWriterRefusesBadAcknowledgements(t *testing.T) {
	t.Parallel()
	sj := newSignedJournal(t)
	f, _, err := openJournal(sj.path, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	_, forger, _ := ed25519.GenerateKey(nil)
	otherKey := sj.key
	otherKey.PublicKey = forger.Public().(ed25519.PublicKey)
	pin := newOp(opPin)
	pin.key = otherKey
	for name, o := range map[string]*op{
		"forged signature":   sj.ackOp(8, sj.recs[7].Hash.String(), forger),
		"hash not stored":    sj.ackOp(8, sj.recs[6].Hash.String(), sj.priv),
		"beyond the head":    sj.ackOp(11, sj.recs[9].Hash.String(), sj.priv),
		"backwards":          sj.ackOp(2, sj.recs[1].Hash.String(), sj.priv),
		"another pinned key": pin,
	} {
		if err := f.w.do(o); !errors.Is(err, ErrBadAcknowledgement) && !errors.Is(err, ErrKeyChanged) {
			t.Errorf("%s: accepted (%v)", name, err)
		}
	}
	if err := f.w.do(sj.ackOp(10, sj.recs[9].Hash.String(), sj.priv)); err != nil {
		t.Fatalf("a good acknowledgement was refused: %v", err)
	}
	st, _ := f.state()
	if st.Acked.Seq != 10 || !sameKey(*st.Key, sj.key) {
		t.Fatalf("state after acks: %+v", st)
	}
}

func TestExportVerifiesOfflineAndTamperingShows(t *testing.T) {
	t.Parallel()
	sj := newSignedJournal(t)
	export := filepath.Join(t.TempDir(), "export.jsonl")
	var out bytes.Buffer
	env := CommandEnv{Stdout: &out, Stderr: &out}
	if err := RunCommand(context.Background(), []string{"export", "--state-dir", sj.dir, "--out", export}, env); unsyncedOK(err) != nil {
		t.Fatal(err)
	}
	reports, err := VerifyFile(export, VerifyOptions{ServerKey: &sj.key})
	if err != nil || len(reports) != 1 || !reports[0].OK() || reports[0].Records != 10 || reports[0].Acked != signedAcked {
		t.Fatalf("export verify: %v %+v", err, reports)
	}
	raw, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 11 {
		t.Fatalf("%d lines", len(lines))
	}
	for name, tc := range map[string]struct {
		line int
		edit func(string) string
		seq  uint64
	}{
		"readable copy edited": {3, func(l string) string { return strings.Replace(l, `"name":"Bob User"`, `"name":"Eve"`, 1) }, 3},
		"record dropped":       {5, func(string) string { return "" }, 5},
		"receipt edited": {0, func(l string) string {
			return strings.Replace(l, `"key_id":"k1","signature"`, `"key_id":"k2","signature"`, 1)
		}, 6},
	} {
		edited := append([]string(nil), lines...)
		edited[tc.line] = tc.edit(edited[tc.line])
		path := filepath.Join(t.TempDir(), "edited.jsonl")
		if err := os.WriteFile(path, []byte(strings.Join(edited, "\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		reports, err := VerifyFile(path, VerifyOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if reports[0].OK() || reports[0].FirstBad != tc.seq {
			t.Errorf("%s: first bad %d, want %d: %v", name, reports[0].FirstBad, tc.seq, reports[0].Problems)
		}
	}
}

// TestVerifyKnowsAnExportByItsContent: an export that an editor or a concatenation left
// with a byte-order mark or blank lines in front still verifies as an export, and a
// broken .jsonl file is reported line by line, not as a damaged journal database.
func TestVerifyKnowsAnExportByItsContent(t *testing.T) {
	t.Parallel()
	sj := newSignedJournal(t)
	var out bytes.Buffer
	export := filepath.Join(t.TempDir(), "export.jsonl")
	if err := RunCommand(context.Background(), []string{"export", "--state-dir", sj.dir, "--out", export}, CommandEnv{Stdout: &out, Stderr: &out}); unsyncedOK(err) != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	for name, prefix := range map[string]string{"blank lines": "\n\r\n", "a byte-order mark": "\ufeff"} {
		path := filepath.Join(t.TempDir(), "export.jsonl")
		if err := os.WriteFile(path, append([]byte(prefix), raw...), 0o600); err != nil {
			t.Fatal(err)
		}
		reports, err := VerifyFile(path, VerifyOptions{})
		if err != nil || len(reports) != 1 || !reports[0].OK() || reports[0].Records != 10 {
			t.Errorf("an export after %s: %v %+v", name, err, reports)
		}
	}
	broken := filepath.Join(t.TempDir(), "broken.jsonl")
	if err := os.WriteFile(broken, []byte("not json at all\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyFile(broken, VerifyOptions{}); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("a broken .jsonl file: %v", err)
	}
	// A journal whose first byte was damaged into '{' is still a journal, and damaged.
	f, err := os.OpenFile(sj.path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteAt([]byte("{"), 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if reports, err := VerifyFile(sj.path, VerifyOptions{}); err != nil || len(reports) != 1 || reports[0].OK() || reports[0].JournalID != sj.id {
		t.Fatalf("a journal damaged at its first byte: %v %+v", err, reports)
	}
}

// storedRecord reads the record at seq as the file's format stores it: its hashes and a
// copy of its exact body.
func storedRecord(t *testing.T, records *bolt.Bucket, seq uint64) (prev, hash api.Hash, body []byte) {
	t.Helper()
	cd, err := readCodec(records.Tx())
	if err != nil {
		t.Fatal(err)
	}
	prev, hash, body, ok := cd.decode(records.Get(seqKey(seq)))
	if !ok {
		t.Fatalf("record %d unreadable", seq)
	}
	return prev, hash, bytes.Clone(body)
}

// storedValue is what the file's format stores for a record (a v2 body verbatim), for
// tests that edit one behind the journal's back.
func storedValue(t *testing.T, records *bolt.Bucket, prev, hash api.Hash, body []byte) []byte {
	t.Helper()
	cd, err := readCodec(records.Tx())
	if err != nil {
		t.Fatal(err)
	}
	if cd.format == formatV2 {
		body = append([]byte{tagVerbatim}, body...)
	}
	return encodeRecord(prev, hash, body)
}

// Damage to the meta bucket that leaves the acknowledgement unread — its "seq" member
// renamed, so encoding/json skips it, or its key renamed, so Get finds none — made the
// journal read as never acknowledged: verify skipped the receipt and passed, while list,
// show and export read every record as unsynced (TestRandomDamageIsFoundOrHarmless-
// NeverACrash hit it once: "verify passed, but record 1 reads differently"). Such damage
// fails verify, and the offline readers do not report a state verify did not check.
func TestDamageThatHidesTheReceiptFailsVerify(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct{ find, repl string }{
		"its seq member renamed":       {`{"seq":` + strconv.Itoa(signedAcked) + `,`, `{"sez":` + strconv.Itoa(signedAcked) + `,`},
		"its key renamed, in order":    {"acked", "ackex"},
		"its key renamed, misordered":  {"acked", "zcked"},
		"a receipt member renamed":     {`"issued_at":`, `"issued_aX":`},
		"a server key member renamed":  {`"algorithm":`, `"algorithX":`},
		"its element flagged a bucket": {"", "acked"},
	} {
		sj := newSignedJournal(t)
		data, err := os.ReadFile(sj.path)
		if err != nil {
			t.Fatal(err)
		}
		hit := 0
		if c.find == "" { // flag the element of the key c.repl names a bucket
			for _, off := range leafElementsOf(data, c.repl) {
				scribble(t, sj.path, int64(off), []byte{bucketLeafFlag})
				hit++
			}
		}
		for off := 0; c.find != ""; off++ {
			i := bytes.Index(data[off:], []byte(c.find))
			if i < 0 {
				break
			}
			off += i
			scribble(t, sj.path, int64(off), []byte(c.repl))
			hit++
		}
		if hit == 0 {
			t.Fatalf("%s: %q is not in the file", name, c.find)
		}
		reports, err := VerifyFile(sj.path, VerifyOptions{})
		if err != nil {
			t.Fatalf("%s: verify: %v", name, err)
		}
		if reports[0].OK() {
			t.Errorf("%s: verify passed (acked %d)", name, reports[0].Acked)
		}
		a, err := LoadArchive(sj.dir)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, jd := range a.Journals {
			if jd.Acked.Seq != signedAcked {
				t.Errorf("%s: the journal was read as acknowledged to seq %d, not %d", name, jd.Acked.Seq, signedAcked)
			}
		}
		if len(a.Journals) == 0 && len(a.Unreadable) == 0 {
			t.Errorf("%s: the journal is neither read nor reported unreadable", name)
		}
	}
}

// leafElementsOf returns the offsets of the leaf element headers (flags, pos, ksize,
// vsize: 4 bytes each) whose key is key, wherever in data its bytes are.
func leafElementsOf(data []byte, key string) []int {
	var out []int
	for k := 0; ; k++ {
		i := bytes.Index(data[k:], []byte(key))
		if i < 0 {
			return out
		}
		k += i
		for e := k - 16; e >= 0 && e > k-pageSize; e -= 4 {
			pos, ksize := binary.LittleEndian.Uint32(data[e+4:]), binary.LittleEndian.Uint32(data[e+8:])
			if binary.LittleEndian.Uint32(data[e:]) == 0 && int(pos) == k-e && int(ksize) == len(key) {
				out = append(out, e)
			}
		}
	}
}
