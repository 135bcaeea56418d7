package openapi

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pb33f/jsonschema/v6"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/shadowview/shadow/api"
)

var update = flag.Bool("update", false, "rewrite docs/openapi.json from the code")

const docsCopy = "../../docs/openapi.json"

// TestDocumentIsValidOpenAPI31 validates the document against the OpenAPI 3.1 schema
// with libopenapi-validator, and compiles every component schema against the JSON
// Schema 2020-12 meta-schema (the OpenAPI schema leaves schema objects open, so a
// misspelt type would pass it).
func TestDocumentIsValidOpenAPI31(t *testing.T) {
	raw := Document()
	doc, err := libopenapi.NewDocument(raw)
	if err != nil {
		t.Fatalf("libopenapi cannot read the document: %v", err)
	}
	if v := doc.GetVersion(); v != Version {
		t.Errorf("version %q, want %q", v, Version)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("%s: %s", e.Message, e.Reason)
			for _, s := range e.SchemaValidationErrors {
				t.Errorf("  %s at %s", s.Reason, s.FieldPath)
			}
		}
	}

	parsed, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("openapi.json", parsed); err != nil {
		t.Fatal(err)
	}
	var d struct {
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Components.Schemas) < 30 {
		t.Fatalf("only %d component schemas", len(d.Components.Schemas))
	}
	for name := range d.Components.Schemas {
		if _, err := c.Compile("openapi.json#/components/schemas/" + name); err != nil {
			t.Errorf("schema %s: %v", name, err)
		}
	}
}

// TestDocumentMatchesRoutes walks api.Routes: every route is an operation with its
// name, its success status, and every code it may answer under that code's status;
// and the document has no operation that is not a route.
func TestDocumentMatchesRoutes(t *testing.T) {
	var d struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Responses   map[string]struct {
				Content map[string]struct {
					Schema struct {
						Properties struct {
							Error struct {
								Properties struct {
									Code struct {
										Enum []string `json:"enum"`
									} `json:"code"`
								} `json:"properties"`
							} `json:"error"`
						} `json:"properties"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(Document(), &d); err != nil {
		t.Fatal(err)
	}
	ops := 0
	for _, item := range d.Paths {
		ops += len(item)
	}
	if ops != len(api.Routes) {
		t.Errorf("%d operations for %d routes", ops, len(api.Routes))
	}
	for _, r := range api.Routes {
		op, ok := d.Paths[r.Path][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("route %s: no operation %s", r.Name, r.Pattern())
			continue
		}
		if op.OperationID != r.Name {
			t.Errorf("%s: operationId %q, want %q", r.Pattern(), op.OperationID, r.Name)
		}
		if _, ok := op.Responses[strconv.Itoa(api.Specs[r.Name].Status)]; !ok {
			t.Errorf("route %s: no %d response", r.Name, api.Specs[r.Name].Status)
		}
		for _, code := range api.RouteCodes(r) {
			resp, ok := op.Responses[strconv.Itoa(code.Status())]
			if !ok {
				t.Errorf("route %s: no %d response for %s", r.Name, code.Status(), code)
				continue
			}
			enum := resp.Content["application/json"].Schema.Properties.Error.Properties.Code.Enum
			found := false
			for _, c := range enum {
				found = found || c == string(code)
			}
			if !found {
				t.Errorf("route %s: %d response does not list %s (lists %v)", r.Name, code.Status(), code, enum)
			}
		}
	}
}

// TestDocsCopyIsCurrent keeps docs/openapi.json the document the code builds.
// go test ./api/openapi -run TestDocsCopyIsCurrent -update rewrites it.
func TestDocsCopyIsCurrent(t *testing.T) {
	if *update {
		if err := os.WriteFile(docsCopy, Document(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(docsCopy)
	if err != nil {
		t.Fatalf("%v (run go test ./api/openapi -run TestDocsCopyIsCurrent -update)", err)
	}
	if !bytes.Equal(got, Document()) {
		t.Errorf("%s is not the document the code builds; run go test ./api/openapi -run TestDocsCopyIsCurrent -update", filepath.Base(docsCopy))
	}
}

// TestDocumentDescribesTheWebhooks: the session notifications are in the document's
// webhooks, with their signed headers.
func TestDocumentDescribesTheWebhooks(t *testing.T) {
	var d struct {
		Webhooks map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Parameters  []struct {
				Name string `json:"name"`
			} `json:"parameters"`
		} `json:"webhooks"`
	}
	if err := json.Unmarshal(Document(), &d); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, w := range d.Webhooks {
		seen[w["post"].OperationID] = len(w["post"].Parameters) == 3
	}
	for _, e := range []string{api.WebhookSessionStarted, api.WebhookSessionEnded} {
		if !seen[e] {
			t.Errorf("webhook %s missing, or without its three headers: %v", e, seen)
		}
	}
}
