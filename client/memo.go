package client

import (
	"reflect"
	"sync"
	"time"

	"github.com/shadowview/shadow/cache"
)

// memo keeps, in memory, the decoded value of recently served cache entries, so that
// a fresh hit copies a value instead of parsing the same JSON again (parsing a
// dashboard costs tens of microseconds; copying it, a few). The disk cache still
// decides everything: the memo is consulted only for an entry the cache has just
// returned, and only if it is the very entry the value was decoded from (same ETag,
// same stored-at), so TTL, scoping, eviction and purges keep their meaning. A memo
// belongs to one identity (a Client or a View) and dies with it; nil is a valid,
// empty memo.
type memo struct {
	mu      sync.Mutex
	entries map[string]memoEntry
}

type memoEntry struct {
	etag     string
	storedAt time.Time
	value    reflect.Value // a private deep copy, never handed out
}

// memoSize bounds the entries kept: a screen's worth of replies.
const memoSize = 64

func newMemo() *memo { return &memo{entries: map[string]memoEntry{}} }

// load fills out with a copy of the value decoded from entry, if there is one.
func (m *memo) load(key string, entry cache.Entry, out any) bool {
	if m == nil {
		return false
	}
	m.mu.Lock()
	e, ok := m.entries[key]
	m.mu.Unlock()
	dst := reflect.ValueOf(out).Elem()
	if !ok || e.etag != entry.ETag || !e.storedAt.Equal(entry.StoredAt) || e.value.Type() != dst.Type() {
		return false
	}
	cloneInto(dst, e.value)
	return true
}

// remember keeps a copy of out, decoded from entry.
func (m *memo) remember(key string, entry cache.Entry, out any) {
	if m == nil {
		return
	}
	src := reflect.ValueOf(out).Elem()
	kept := reflect.New(src.Type()).Elem()
	cloneInto(kept, src)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil {
		return // cleared: the identity is gone
	}
	if _, replacing := m.entries[key]; !replacing && len(m.entries) >= memoSize {
		for k := range m.entries { // any one: the disk cache is the real store
			delete(m.entries, k)
			break
		}
	}
	m.entries[key] = memoEntry{etag: entry.ETag, storedAt: entry.StoredAt, value: kept}
}

// retime follows a 304: the entry with this ETag was stored again at a new time, with
// the same body, so its decoded value still stands.
func (m *memo) retime(key, etag string, storedAt time.Time) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.entries[key]; ok && e.etag == etag {
		e.storedAt = storedAt
		m.entries[key] = e
	}
}

// clear drops every value for good (the session ended).
func (m *memo) clear() {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.entries = nil
	m.mu.Unlock()
}

// cloneInto sets dst to a deep copy of src: nothing reachable from dst shares memory
// with src, so whoever receives dst may change it freely. Structs with unexported
// fields (time.Time) are copied as values, which is how they are meant to be used.
func cloneInto(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		p := reflect.New(src.Type().Elem())
		cloneInto(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Slice:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		if flat(src.Type().Elem()) {
			reflect.Copy(s, src)
		} else {
			for i := range src.Len() {
				cloneInto(s.Index(i), src.Index(i))
			}
		}
		dst.Set(s)
	case reflect.Map:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		it := src.MapRange()
		for it.Next() {
			v := reflect.New(src.Type().Elem()).Elem()
			cloneInto(v, it.Value())
			m.SetMapIndex(it.Key(), v)
		}
		dst.Set(m)
	case reflect.Interface:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		v := reflect.New(src.Elem().Type()).Elem()
		cloneInto(v, src.Elem())
		dst.Set(v)
	case reflect.Array:
		for i := range src.Len() {
			cloneInto(dst.Index(i), src.Index(i))
		}
	case reflect.Struct:
		if flat(src.Type()) {
			dst.Set(src)
			return
		}
		for i := range src.NumField() {
			cloneInto(dst.Field(i), src.Field(i))
		}
	default:
		dst.Set(src)
	}
}

var flatTypes sync.Map // reflect.Type → bool

// flat reports whether a plain assignment copies a value of t completely: no
// pointers, slices, maps or interfaces inside, except in structs with unexported
// fields, which are values by design (time.Time shares only its immutable Location).
func flat(t reflect.Type) bool {
	if v, ok := flatTypes.Load(t); ok {
		return v.(bool)
	}
	var out bool
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128, reflect.String:
		out = true
	case reflect.Array:
		out = flat(t.Elem())
	case reflect.Struct:
		out = true
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				out = true // the whole struct is a value; see above
				break
			}
			out = out && flat(t.Field(i).Type)
		}
	}
	flatTypes.Store(t, out)
	return out
}
