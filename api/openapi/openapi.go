// Package openapi describes the contract of package api as an OpenAPI 3.1 document,
// built from api.Routes, api.Specs and the api types themselves, so the document cannot
// drift from the code both sides compile against. The reference server serves it at
// GET /api/v1/openapi.json; docs/openapi.json is the same bytes, checked in for readers.
//
// It owns the mapping from Go types to JSON Schema (2020-12, the dialect of OpenAPI 3.1)
// and nothing else. It must never import anything beyond the standard library and api,
// and never describe behaviour the api package does not state: a rule the document
// needs is added to api first.
package openapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shadowview/shadow/api"
)

// Version is the OpenAPI version of the document.
const Version = "3.1.0"

var (
	once sync.Once
	doc  []byte
)

// Document is the OpenAPI document as indented JSON with a final newline. It is built
// once; the bytes are shared, so callers must not change them.
func Document() []byte {
	once.Do(func() {
		raw, err := json.MarshalIndent(build(), "", "  ")
		if err != nil {
			panic("openapi: " + err.Error()) // only maps, slices, strings and numbers: unreachable
		}
		doc = append(raw, '\n')
	})
	return doc
}

type obj = map[string]any

// builder collects the component schemas the paths refer to.
type builder struct {
	schemas obj
}

func build() obj {
	b := &builder{schemas: obj{}}
	paths := obj{}
	for _, r := range api.Routes {
		item, _ := paths[r.Path].(obj)
		if item == nil {
			item = obj{}
			paths[r.Path] = item
		}
		item[strings.ToLower(r.Method)] = b.operation(r)
	}
	b.schema(reflect.TypeFor[api.ErrorBody]()) // the error responses refer to it
	webhooks := obj{}
	for _, w := range []struct{ name, event, when string }{
		{"sessionStarted", api.WebhookSessionStarted, "a session on a user of the receiving company started"},
		{"sessionEnded", api.WebhookSessionEnded, "that session ended: by DELETE, at its expiry, or revoked by the server (session.state says which)"},
	} {
		webhooks[w.name] = obj{"post": b.webhook(w.event, w.when)}
	}
	return obj{
		"openapi": Version,
		"info": obj{
			"title":   "shadow: read-only user impersonation",
			"version": strings.TrimPrefix(api.Prefix, "/api/"),
			"description": "The contract the shadow terminal client speaks. docs/API.md is its prose: " +
				"the read-only guarantee, the impersonation rules, redaction, ETags, the journal protocol, " +
				"limits. Every route but /healthz is under " + api.Prefix + ". A path that matches no route " +
				"is 404 not_found; a known path with another method is 405 method_not_allowed with Allow; " +
				"OPTIONS on a known path is 204 with Allow; any method other than GET, HEAD and OPTIONS with " +
				"an impersonation token is 403 read_only_impersonation on every path, before routing.",
			"license": obj{"name": "MIT", "identifier": "MIT"},
		},
		"externalDocs": obj{"description": "docs/API.md", "url": "https://github.com/shadowview/shadow/blob/main/docs/API.md"},
		"paths":        paths,
		"webhooks":     webhooks,
		"components": obj{
			"schemas": b.schemas,
			"securitySchemes": obj{
				"bearer": obj{"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
					"description": "An own token from POST /auth/login, or an impersonation token from POST /impersonation/sessions (read-only)."},
			},
		},
	}
}

// webhook describes one session notification: a signed POST to the company's URL
// (Standard Webhooks headers), retried until it is answered 2xx.
func (b *builder) webhook(event, when string) obj {
	var params []any
	for _, h := range []struct{ name, what string }{
		{api.WebhookIDHeader, "unique per event; the same on every retry of it, so a receiver can drop repeats"},
		{api.WebhookTimestampHeader, "unix seconds when this attempt was signed"},
		{api.WebhookSignatureHeader, "v1,<base64 HMAC-SHA256 of id.timestamp.body keyed with the secret's bytes>"},
	} {
		params = append(params, obj{"name": h.name, "in": "header", "required": true, "description": h.what, "schema": obj{"type": "string"}})
	}
	body := b.schema(reflect.TypeFor[api.WebhookEvent]())
	return obj{
		"operationId": event,
		"summary":     "Sent when " + when + ". The body's type is " + event + ".",
		"parameters":  params,
		"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": body}}},
		"responses":   obj{"2XX": obj{"description": "received; any other answer, or none within 10 s, is retried"}},
	}
}

var accessWords = map[api.Auth]string{
	api.AuthNone:  "none",
	api.AuthAny:   "any",
	api.AuthOwn:   "own",
	api.AuthStaff: "staff",
}

func (b *builder) operation(r api.Route) obj {
	spec := api.Specs[r.Name]
	op := obj{
		"operationId":     r.Name,
		"summary":         spec.Summary,
		"x-shadow-access": accessWords[r.Auth],
		"responses":       b.responses(r, spec),
	}
	if r.Auth != api.AuthNone {
		op["security"] = []any{obj{"bearer": []any{}}}
	}
	var params []any
	for _, name := range pathParams(r.Path) {
		params = append(params, obj{"name": name, "in": "path", "required": true, "schema": obj{"type": "string", "minLength": 1}})
	}
	for _, q := range spec.Query {
		p := obj{"name": q.Name, "in": "query", "required": q.Required, "description": q.Description, "schema": obj{"type": "string"}}
		if q.Name == "limit" {
			p["schema"] = obj{"type": "integer", "minimum": 1}
		}
		params = append(params, p)
	}
	if params != nil {
		op["parameters"] = params
	}
	if spec.Request != nil {
		op["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": b.schema(reflect.TypeOf(spec.Request))}}}
	}
	return op
}

func (b *builder) responses(r api.Route, spec api.RouteSpec) obj {
	out := obj{}
	ok := obj{"description": spec.Summary}
	switch {
	case r.Name == api.RouteOpenAPI:
		ok["content"] = obj{"application/json": obj{"schema": obj{"type": "object", "description": "this document"}}}
	case spec.Response != nil:
		ok["content"] = obj{"application/json": obj{"schema": b.schema(reflect.TypeOf(spec.Response))}}
	}
	if r.Method == http.MethodGet && spec.Status == http.StatusOK {
		ok["headers"] = obj{"ETag": obj{"description": "scoped to the identity asking; send it back in If-None-Match", "schema": obj{"type": "string"}}}
		out["304"] = obj{"description": "Not Modified: If-None-Match matched the reply's ETag (no body)"}
	}
	out[strconv.Itoa(spec.Status)] = ok
	if r.Name == api.RouteShareDashboard {
		out["200"] = obj{"description": "already shared with them", "content": ok["content"]}
	}
	byStatus := map[int][]string{}
	for _, c := range api.RouteCodes(r) {
		byStatus[c.Status()] = append(byStatus[c.Status()], string(c))
	}
	for status, codes := range byStatus {
		sort.Strings(codes)
		resp := obj{
			"description": http.StatusText(status) + ": " + strings.Join(codes, ", "),
			"content": obj{"application/json": obj{"schema": obj{
				"type": "object", "required": []any{"error"}, "additionalProperties": true,
				"properties": obj{"error": obj{
					"allOf":      []any{obj{"$ref": "#/components/schemas/ErrorBody"}},
					"properties": obj{"code": obj{"enum": toAny(codes)}},
				}},
			}}},
		}
		if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
			resp["headers"] = obj{"Retry-After": obj{"description": "seconds to wait", "schema": obj{"type": "integer"}}}
		}
		out[strconv.Itoa(status)] = resp
	}
	return out
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func pathParams(path string) []string {
	var out []string
	for {
		open := strings.IndexByte(path, '{')
		if open < 0 {
			return out
		}
		end := strings.IndexByte(path[open:], '}')
		out = append(out, path[open+1:open+end])
		path = path[open+end+1:]
	}
}

var (
	timeType = reflect.TypeFor[time.Time]()
	codeType = reflect.TypeFor[api.Code]()
)

// schema is the JSON Schema of t: a $ref for a named struct (added to the components
// once), inline for everything else.
func (b *builder) schema(t reflect.Type) obj {
	switch {
	case t == timeType:
		return obj{"type": "string", "format": "date-time", "description": "RFC 3339, UTC; fractional seconds allowed"}
	case t == codeType:
		if _, done := b.schemas["Code"]; !done {
			codes := api.Codes()
			names := make([]string, len(codes))
			for i, c := range codes {
				names[i] = string(c)
			}
			sort.Strings(names)
			b.schemas["Code"] = obj{"type": "string", "enum": toAny(names)}
		}
		return obj{"$ref": "#/components/schemas/Code"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return b.schema(t.Elem())
	case reflect.String:
		return obj{"type": "string"}
	case reflect.Bool:
		return obj{"type": "boolean"}
	case reflect.Int, reflect.Int64, reflect.Int32:
		return obj{"type": "integer"}
	case reflect.Uint64, reflect.Uint32, reflect.Uint:
		return obj{"type": "integer", "minimum": 0}
	case reflect.Float64, reflect.Float32:
		return obj{"type": "number"}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return obj{"type": "string", "contentEncoding": "base64", "description": "standard base64 alphabet with padding (RFC 4648 §4), as Go encodes a []byte"}
		}
		return obj{"type": "array", "items": b.schema(t.Elem())}
	case reflect.Struct:
		name := t.Name()
		if _, done := b.schemas[name]; !done {
			b.schemas[name] = obj{} // placeholder: a type that refers to itself ends here
			b.schemas[name] = b.structSchema(t)
		}
		return obj{"$ref": "#/components/schemas/" + name}
	}
	panic(fmt.Sprintf("openapi: no schema for %s", t)) // TestDocumentCoversEveryType
}

func (b *builder) structSchema(t reflect.Type) obj {
	props := obj{}
	var required []any
	b.fields(t, props, &required)
	s := obj{"type": "object", "properties": props}
	if len(required) > 0 {
		slices.SortFunc(required, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
		s["required"] = required
	}
	return s
}

// fields adds t's JSON fields, with those of embedded structs inlined as encoding/json
// does.
func (b *builder) fields(t reflect.Type, props obj, required *[]any) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			b.fields(f.Type, props, required)
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := b.schema(f.Type)
		if c, ok := constraints[t.Name()+"."+name]; ok {
			s = merge(s, c)
		}
		props[name] = s
		if !strings.Contains(opts, "omitempty") {
			*required = append(*required, name)
		}
	}
}

func merge(s, extra obj) obj {
	out := obj{}
	for k, v := range s {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

const hexHash = "^[0-9a-f]{64}$"

// constraints are the bounds docs/API.md states for single fields, by "Type.field".
var constraints = map[string]obj{
	"StartSessionRequest.reason":      {"maxLength": api.MaxReasonLength},
	"StartSessionRequest.ttl_seconds": {"minimum": 0, "description": "shortens the session; the server caps it at its default (at most 1800)"},
	"Session.state":                   {"enum": []any{api.SessionActive, api.SessionEnded, api.SessionExpired, api.SessionRevoked}},
	"User.kind":                       {"enum": []any{api.KindUser, api.KindStaff}},
	"Me.scope":                        {"enum": []any{api.ScopeFull, api.ScopeReadOnly}},
	"Widget.kind":                     {"enum": []any{api.WidgetKPI, api.WidgetTable, api.WidgetSeries, api.WidgetBar}},
	"PermissionRow.effects":           {"pattern": "^[AD.]*$", "description": "one byte per action: A allow, D deny, . none"},
	"Explanation.effect":              {"enum": []any{api.EffectNameAllow, api.EffectNameDeny, api.EffectNameNone}},
	"WireRecord.seq":                  {"minimum": 1},
	"WireRecord.hash":                 {"pattern": hexHash},
	"WireRecord.prev_hash":            {"pattern": hexHash},
	"JournalHead.hash":                {"pattern": hexHash},
	"Receipt.hash":                    {"pattern": hexHash},
	"PutRecordsRequest.records":       {"maxItems": api.MaxJournalBatch},
	"ImpersonationsPage.scope":        {"enum": []any{api.TransparencySelf, api.TransparencyCompany}},
	"Impersonation.impersonator_kind": {"enum": []any{api.KindUser, api.KindStaff}},
}
