package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"

	"github.com/shadowview/shadow/server/store"
)

// A paged read of the permission matrix is one view: its first page (no cursor) opens
// it and gets a view id, and every cursor the server hands out names that view, the
// caller it was issued to (identity.cacheScope: one impersonation session, or a user's
// own token), the index of the page it asks for, how many rows of the view came before
// that page, and the place in the row order after which the page starts (authz's
// cursor). It is HMAC-SHA-256 signed with a key derived from the server's signing key,
// which lives in the data directory, so cursors survive a restart and nobody else can
// mint one. The request event of each page stores what the cursor said
// (store.MatrixPage), so the reconciliation counts a view's pages by the server's own
// word, never by what a journal record claims (server/reconcile).

// matrixCursor is what a matrix cursor carries.
type matrixCursor struct {
	scope string // identity.cacheScope of the caller it was issued to
	view  string // the view's id, issued with its first page
	index int    // the page it asks for: 1 for the second page
	from  int    // rows of the view served before that page
	place string // authz's cursor: the last row's place in the row order
}

// errForeignCursor is a well-signed cursor issued to another caller.
var errForeignCursor = errors.New("the cursor was issued to another session or user")

// cursorMAC signs a cursor's payload.
func (s *Server) cursorMAC(payload []byte) []byte {
	s.cursorKeyOnce.Do(func() {
		h := sha256.New()
		h.Write([]byte("shadow matrix cursor v1\x00"))
		h.Write(s.key.Private.Seed())
		s.cursorKey = h.Sum(nil)
	})
	mac := hmac.New(sha256.New, s.cursorKey)
	mac.Write(payload)
	return mac.Sum(nil)[:16]
}

// encodeCursor is c as the opaque string a reply carries.
func (s *Server) encodeCursor(c matrixCursor) string {
	var b []byte
	for _, f := range []string{c.scope, c.view, c.place} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	b = binary.AppendUvarint(b, uint64(c.index))
	b = binary.AppendUvarint(b, uint64(c.from))
	return base64.RawURLEncoding.EncodeToString(append(b, s.cursorMAC(b)...))
}

// decodeCursor reads a cursor for the caller scope: authz.ErrBadCursor-like errors
// for one this server did not sign, errForeignCursor for one it issued to someone else.
func (s *Server) decodeCursor(raw, scope string) (matrixCursor, error) {
	errBad := errors.New("the cursor is not one this server issued")
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) < 16 {
		return matrixCursor{}, errBad
	}
	payload, mac := b[:len(b)-16], b[len(b)-16:]
	if !hmac.Equal(mac, s.cursorMAC(payload)) {
		return matrixCursor{}, errBad
	}
	var c matrixCursor
	rest := payload
	for _, f := range []*string{&c.scope, &c.view, &c.place} {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return matrixCursor{}, errBad
		}
		*f, rest = string(rest[k:k+int(n)]), rest[k+int(n):]
	}
	for _, f := range []*int{&c.index, &c.from} {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > 1<<40 {
			return matrixCursor{}, errBad
		}
		*f, rest = int(n), rest[k:]
	}
	if len(rest) != 0 || c.index < 1 {
		return matrixCursor{}, errBad
	}
	if c.scope != scope {
		return matrixCursor{}, errForeignCursor
	}
	return c, nil
}

// newViewID names a new paged view.
func newViewID() string {
	var b [12]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return "mv-" + hex.EncodeToString(b[:])
}

// pageOf is what the request event of a page stores.
func pageOf(c matrixCursor, rows, total int, last bool) *store.MatrixPage {
	return &store.MatrixPage{View: c.view, Index: c.index, From: c.from, Rows: rows, Total: total, Last: last}
}
