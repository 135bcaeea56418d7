package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/shadowview/shadow/api"
	"github.com/shadowview/shadow/internal/hostile"
)

// A 10,000-character name, e-mail or company from the server is journaled, cut with its
// length and hash, instead of refusing every record about that user (which ended the
// session at once).
func TestLongNamesAreBoundedWithTheirHash(t *testing.T) {
	t.Parallel()
	j := openTest(t, t.TempDir())
	defer closeTest(t, j)
	long := func(c string) string { return strings.Repeat(c, 10000) }
	user := api.UserRef{ID: "u-long", Name: long("N"), Email: long("e") + "@example.test", Company: long("<")}
	admin := api.UserRef{ID: "u-admin", Name: long("é"), Email: "ada@example.test", Company: long("&\x01")}
	b := api.RecordBody{SessionID: "s", Action: api.ActionView, Actor: admin, User: &user,
		Details: long("d"), Reason: long("r")}
	rec, err := j.Append(context.Background(), b)
	if err != nil {
		t.Fatalf("a long name refused the record: %v", err)
	}
	if len(rec.Body) > MaxBodySize {
		t.Fatalf("body of %d bytes, limit %d", len(rec.Body), MaxBodySize)
	}
	if user.Name != long("N") || admin.Name != long("é") {
		t.Fatal("the caller's values were changed in place")
	}
	got, err := rec.Decode()
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ stored, full string }{
		"user name": {got.User.Name, user.Name}, "user email": {got.User.Email, user.Email},
		"user company": {got.User.Company, user.Company}, "admin name": {got.Actor.Name, admin.Name},
		"admin company": {got.Actor.Company, admin.Company}, "details": {got.Details, b.Details},
		"reason": {got.Reason, b.Reason},
	} {
		sum := sha256.Sum256([]byte(c.full))
		marker := "…[" + strconv.Itoa(len(c.full)) + " bytes, sha256:" + hex.EncodeToString(sum[:]) + "]"
		if !strings.HasSuffix(c.stored, marker) {
			t.Errorf("%s: %q does not end with its full value's length and hash %q", name, tail(c.stored), marker)
		}
		if !strings.HasPrefix(c.full, strings.TrimSuffix(c.stored, marker)) {
			t.Errorf("%s: the kept part is not the value's beginning", name)
		}
	}
	if got.Actor.Email != admin.Email || got.User.ID != "u-long" || got.SessionID != "s" {
		t.Errorf("short fields were changed: %+v", got)
	}
	// The limits hold each on its own too: one long field keeps as much as its limit.
	rec, err = j.Append(context.Background(), api.RecordBody{Action: api.ActionView, Actor: testAdmin,
		User: &api.UserRef{ID: "u", Name: long("n")}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = rec.Decode()
	if n := len(got.User.Name); n > maxNameLen || n < maxNameLen-4 {
		t.Errorf("a long name alone kept %d bytes, limit %d", n, maxNameLen)
	}
}

// The length the bounding counts is the length encoding/json writes, for every kind of
// hostile text.
func TestJSONLengthIsWhatEncodingJSONWrites(t *testing.T) {
	t.Parallel()
	for _, s := range append(hostile.List(), "\"\\\b\f\n\r\t<>&\u2028\u2029\x7f\xff", "") {
		data, _ := json.Marshal(s)
		if got, want := jsonLen(s), len(data)-2; got != want {
			t.Errorf("jsonLen(%q) = %d, encoding/json writes %d", s, got, want)
		}
		for limit := 0; limit < 200; limit += 7 {
			if b := boundText(s, limit); jsonLen(s) > limit && jsonLen(b) > max(limit, len(cutMarker(s))) {
				t.Errorf("boundText(%q, %d) is %d bytes", s, limit, jsonLen(b))
			}
		}
	}
}

func tail(s string) string {
	if len(s) > 100 {
		return "…" + s[len(s)-100:]
	}
	return s
}
