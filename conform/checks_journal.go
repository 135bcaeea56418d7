package conform

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shadowview/shadow/api"
)

// journalState is the run's journal: created for the run, genuine records only (the
// admin as actor, the run's own session, times inside its life by the server's clock).
type journalState struct {
	id       string
	held     []api.WireRecord // what the server holds, seq 1..n
	receipts []seenReceipt
}

// seenReceipt is a receipt and the head its reply stated.
type seenReceipt struct {
	step    string
	head    api.JournalHead
	receipt api.Receipt
}

func (r *run) journalPath() string {
	return apiPath("/audit/journals/" + r.journal.id + "/records")
}

// record builds record seq chained to prev, in the run's session: times are the
// session's start plus seq milliseconds, so they lie inside it whatever this machine's
// clock says.
func (r *run) record(seq uint64, prev api.Hash, action, details string) api.WireRecord {
	user := r.target
	body, err := json.Marshal(api.RecordBody{
		EventID: fmt.Sprintf("01CONF%s%06d", strings.ToUpper(r.id), seq), SessionID: r.main.Session.ID,
		Time:   r.main.Session.StartedAt.UTC().Add(time.Duration(seq) * time.Millisecond),
		Action: action, Actor: r.admin.ref(), User: &user, Reason: r.main.Session.Reason, Details: details,
	})
	if err != nil {
		panic(err) // strings and a time: unreachable
	}
	h := api.RecordHash(r.journal.id, seq, prev, body)
	return api.WireRecord{Seq: seq, PrevHash: prev.String(), Hash: h.String(), Body: body}
}

func (r *run) headHash() api.Hash {
	if n := len(r.journal.held); n > 0 {
		h, _ := api.ParseHash(r.journal.held[n-1].Hash)
		return h
	}
	return api.ZeroHash
}

func (r *run) wantHead() api.JournalHead {
	return api.JournalHead{Seq: uint64(len(r.journal.held)), Hash: r.headHash().String()}
}

// put sends a range and, on 200, keeps its receipt for journal.receipt.
func (r *run) put(step string, recs []api.WireRecord) (api.PutRecordsResponse, reply, error) {
	if recs == nil {
		recs = []api.WireRecord{}
	}
	resp := r.send("PUT", r.journalPath(), r.admin.token, api.PutRecordsRequest{Records: recs})
	var out api.PutRecordsResponse
	if err := resp.decode(http.StatusOK, &out); err != nil {
		return out, resp, err
	}
	r.journal.receipts = append(r.journal.receipts, seenReceipt{step: step, head: out.Head, receipt: out.Receipt})
	return out, resp, nil
}

func (r *run) journalEmptyHead() outcome {
	r.journal.id = "conform-" + r.id + ".journal"
	out, _, err := r.put("empty", nil)
	if err != nil {
		return fail("%v", err)
	}
	if out.Head != (api.JournalHead{Seq: 0, Hash: api.ZeroHash.String()}) || out.Accepted != 0 || out.Duplicates != 0 {
		return fail("head %+v, accepted %d, duplicates %d; want {0, 64 zeros}, 0, 0", out.Head, out.Accepted, out.Duplicates)
	}
	return pass("journal %s", r.journal.id)
}

func (r *run) journalAppend() outcome {
	if r.journal.id == "" {
		r.journal.id = "conform-" + r.id + ".journal"
	}
	first := r.record(1, api.ZeroHash, api.ActionSessionStart, "")
	h1, _ := api.ParseHash(first.Hash)
	second := r.record(2, h1, api.ActionView, "dashboard list (conformance run)")
	out, _, err := r.put("append", []api.WireRecord{first, second})
	if err != nil {
		return fail("%v", err)
	}
	r.journal.held = []api.WireRecord{first, second}
	if out.Accepted != 2 || out.Duplicates != 0 || out.Head != r.wantHead() || out.JournalID != r.journal.id {
		return fail("journal %q, head %+v, accepted %d, duplicates %d; want %q, %+v, 2, 0", out.JournalID, out.Head, out.Accepted, out.Duplicates, r.journal.id, r.wantHead())
	}
	return pass("2 records, head %d", out.Head.Seq)
}

func (r *run) journalDuplicate() outcome {
	var problems []string
	for _, rng := range [][]api.WireRecord{r.journal.held, r.journal.held[1:]} {
		out, _, err := r.put("duplicate", rng)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if out.Accepted != 0 || out.Duplicates != len(rng) || out.Head != r.wantHead() {
			problems = append(problems, fmt.Sprintf("resending seq %d..%d: accepted %d, duplicates %d, head %+v; want 0, %d, %+v",
				rng[0].Seq, rng[len(rng)-1].Seq, out.Accepted, out.Duplicates, out.Head, len(rng), r.wantHead()))
		}
	}
	return failed(problems, "resends of 1..2 and of 2 alone: all duplicates, nothing stored")
}

// refusedWithHead checks a 409 with code that carries the server's head.
func (r *run) refusedWithHead(recs []api.WireRecord, code api.Code) outcome {
	resp := r.send("PUT", r.journalPath(), r.admin.token, api.PutRecordsRequest{Records: recs})
	if err := resp.refusal(code); err != nil {
		return fail("%v", err)
	}
	b, _ := resp.envelope()
	if b.Head == nil || *b.Head != r.wantHead() {
		return fail("the %s carries head %+v, want %+v", code, b.Head, r.wantHead())
	}
	return pass("refused with head %d", b.Head.Seq)
}

func (r *run) journalConflict() outcome {
	h1, _ := api.ParseHash(r.journal.held[0].Hash)
	return r.refusedWithHead([]api.WireRecord{r.record(2, h1, api.ActionView, "a different record 2")}, api.CodeJournalConflict)
}

func (r *run) journalGap() outcome {
	return r.refusedWithHead([]api.WireRecord{r.record(4, r.headHash(), api.ActionView, "record 4, after a gap")}, api.CodeJournalGap)
}

func (r *run) journalFork() outcome {
	other := sha256.Sum256([]byte("conform: a chain that is not the server's"))
	return r.refusedWithHead([]api.WireRecord{r.record(3, other, api.ActionView, "record 3 of another chain")}, api.CodeJournalConflict)
}

func (r *run) journalInvalid() outcome {
	bad := r.record(3, r.headHash(), api.ActionView, "record 3 with a wrong hash")
	bad.Hash = strings.Repeat("ab", api.HashSize)
	resp := r.send("PUT", r.journalPath(), r.admin.token, api.PutRecordsRequest{Records: []api.WireRecord{bad}})
	if err := resp.refusal(api.CodeValidation); err != nil {
		return fail("%v", err)
	}
	return pass("refused")
}

func (r *run) journalReceipt() outcome {
	var key api.AuditKey
	if err := r.get(apiPath("/audit/key"), "").decode(http.StatusOK, &key); err != nil {
		return fail("%v", err)
	}
	sum := sha256.Sum256(key.PublicKey)
	var problems []string
	if key.Algorithm != "ed25519" || len(key.PublicKey) != ed25519.PublicKeySize {
		return fail("key %q of %d bytes, want ed25519 of %d", key.Algorithm, len(key.PublicKey), ed25519.PublicKeySize)
	}
	if want := hex.EncodeToString(sum[:])[:16]; key.KeyID != want {
		problems = append(problems, fmt.Sprintf("key_id %q, want the first 16 hex digits of SHA-256 of the key, %q", key.KeyID, want))
	}
	for _, s := range r.journal.receipts {
		rc := s.receipt
		switch {
		case rc.JournalID != r.journal.id:
			problems = append(problems, fmt.Sprintf("%s: receipt for journal %q", s.step, rc.JournalID))
		case rc.Seq != s.head.Seq || rc.Hash != s.head.Hash:
			problems = append(problems, fmt.Sprintf("%s: receipt for %d/%.12s… with head %d/%.12s…", s.step, rc.Seq, rc.Hash, s.head.Seq, s.head.Hash))
		case rc.KeyID != key.KeyID:
			problems = append(problems, fmt.Sprintf("%s: receipt signed with key %q, the server's is %q", s.step, rc.KeyID, key.KeyID))
		default:
			if err := rc.Verify(ed25519.PublicKey(key.PublicKey)); err != nil {
				problems = append(problems, s.step+": "+err.Error())
			}
		}
	}
	return failed(problems, fmt.Sprintf("%d receipts, each for its head, verified with key %s", len(r.journal.receipts), key.KeyID))
}

func (r *run) journalForeignWriter() outcome {
	if r.other == nil {
		return skip("needs another company's admin (SHADOW_CONFORM_OTHER_ADMIN_*)")
	}
	var problems []string
	next := r.record(3, r.headHash(), api.ActionView, "record 3 by another company's admin")
	for _, recs := range [][]api.WireRecord{{}, {next}} {
		resp := r.send("PUT", r.journalPath(), r.other.token, api.PutRecordsRequest{Records: recs})
		if err := resp.refusal(api.CodeForbidden); err != nil {
			problems = append(problems, fmt.Sprintf("%d records: %v", len(recs), err))
		} else if b, _ := resp.envelope(); b.Head != nil {
			problems = append(problems, "the refusal discloses the head")
		}
	}
	return failed(problems, "refused, empty or not, without the head")
}
