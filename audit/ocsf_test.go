package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shadowview/shadow/api"
)

// ocsfSchema is audit/testdata/ocsf/required.json: what OCSF requires of the classes
// and objects the OCSF export writes.
type ocsfSchema struct {
	Version    string            `json:"version"`
	Categories map[string]string `json:"categories"`
	Classes    map[string]struct {
		Name        string            `json:"name"`
		CategoryUID int               `json:"category_uid"`
		Required    []string          `json:"required"`
		AtLeastOne  [][]string        `json:"at_least_one"`
		Activities  map[string]string `json:"activities"`
	} `json:"classes"`
	Attributes map[string]string `json:"attributes"`
	Objects    map[string]struct {
		Required   []string   `json:"required"`
		AtLeastOne [][]string `json:"at_least_one"`
	} `json:"objects"`
	Enums map[string]map[string]string `json:"enums"`
}

func loadOCSFSchema(t *testing.T) ocsfSchema {
	t.Helper()
	data, err := os.ReadFile("testdata/ocsf/required.json")
	if err != nil {
		t.Fatal(err)
	}
	var s ocsfSchema
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// present is whether an attribute holds a value OCSF counts as given.
func present(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case map[string]any:
		return len(v) > 0
	case []any:
		return len(v) > 0
	}
	return true
}

// validateOCSF returns what is wrong with one event under the schema.
func validateOCSF(s ocsfSchema, ev map[string]any) []string {
	var bad []string
	num := func(k string) string {
		f, ok := ev[k].(float64)
		if !ok {
			bad = append(bad, k+" is not a number")
		}
		return strconv.Itoa(int(f))
	}
	class := num("class_uid")
	c, ok := s.Classes[class]
	if !ok {
		return append(bad, "class_uid "+class+" is not a class the export may write")
	}
	for _, k := range c.Required {
		if !present(ev[k]) {
			bad = append(bad, "required "+k+" missing")
		}
	}
	for _, group := range c.AtLeastOne {
		if !anyPresent(ev, group) {
			bad = append(bad, fmt.Sprintf("none of %v", group))
		}
	}
	activity := num("activity_id")
	if name, ok := c.Activities[activity]; !ok || ev["activity_name"] != name {
		bad = append(bad, fmt.Sprintf("activity %s %v is not one of %s's", activity, ev["activity_name"], c.Name))
	}
	if num("category_uid") != strconv.Itoa(c.CategoryUID) || ev["category_name"] != s.Categories[strconv.Itoa(c.CategoryUID)] {
		bad = append(bad, fmt.Sprintf("category %v %v is not %s's", ev["category_uid"], ev["category_name"], c.Name))
	}
	if ev["class_name"] != c.Name {
		bad = append(bad, fmt.Sprintf("class_name %v, want %s", ev["class_name"], c.Name))
	}
	a, _ := strconv.Atoi(activity)
	cu, _ := strconv.Atoi(class)
	if num("type_uid") != strconv.Itoa(cu*100+a) {
		bad = append(bad, fmt.Sprintf("type_uid %v is not class_uid*100+activity_id", ev["type_uid"]))
	}
	if f, _ := ev["time"].(float64); f < 1e12 { // milliseconds since the epoch, OCSF's timestamp_t
		bad = append(bad, fmt.Sprintf("time %v is not in milliseconds", ev["time"]))
	}
	for k, enum := range s.Enums {
		if _, ok := enum[num(k)]; !ok {
			bad = append(bad, fmt.Sprintf("%s %v is not in its enum", k, ev[k]))
		}
	}
	if m, _ := ev["metadata"].(map[string]any); m["version"] != s.Version {
		bad = append(bad, fmt.Sprintf("metadata.version %v, want %s", m["version"], s.Version))
	}
	for path, typ := range s.Attributes {
		v, ok := lookup(ev, path)
		if !ok {
			continue
		}
		obj, ok := v.(map[string]any)
		if !ok {
			bad = append(bad, path+" is not an object")
			continue
		}
		o := s.Objects[typ]
		for _, k := range o.Required {
			if !present(obj[k]) {
				bad = append(bad, fmt.Sprintf("%s (%s): required %s missing", path, typ, k))
			}
		}
		for _, group := range o.AtLeastOne {
			if !anyPresent(obj, group) {
				bad = append(bad, fmt.Sprintf("%s (%s): none of %v", path, typ, group))
			}
		}
	}
	return bad
}

func anyPresent(obj map[string]any, keys []string) bool {
	for _, k := range keys {
		if present(obj[k]) {
			return true
		}
	}
	return false
}

func lookup(obj map[string]any, path string) (any, bool) {
	var v any = obj
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// Every record of every action becomes an OCSF event with every attribute the schema
// requires of its class and of the objects in it; the admin is actor.invoked_by, the
// impersonated user is who the read ran as, and an explanation carries its decision.
func TestOCSFExportHasTheSchemasRequiredFields(t *testing.T) {
	t.Parallel()
	schema := loadOCSFSchema(t)
	dir := t.TempDir()
	j := openTest(t, dir)
	user := testUser
	user.Company = "Acme Fleet"
	for _, b := range []api.RecordBody{
		{SessionID: "sess-1", Action: api.ActionSessionStart, Actor: testAdmin, User: &user, Reason: "TICKET-7"},
		{SessionID: "sess-1", Action: api.ActionView, Actor: testAdmin, User: &user, Details: "dashboard d-1: Fleet overview"},
		{SessionID: "sess-1", Action: api.ActionExplain, Actor: testAdmin, User: &user, Details: "explain view on dashboard:d-1 (Billing): deny"},
		{SessionID: "sess-1", Action: api.ActionError, Actor: testAdmin, User: &user, Details: "dashboards: 503"},
		{SessionID: "sess-1", Action: api.ActionSessionEnd, Actor: testAdmin, User: &user},
		{SessionID: "sess-2", Action: api.ActionSessionStart, Actor: testAdmin, User: &user, Reason: "TICKET-8"},
		{SessionID: "sess-2", Action: api.ActionSessionExpire, Actor: testAdmin, User: &user},
		{SessionID: "sess-3", Action: api.ActionSessionRefused, Actor: testAdmin, Details: "target_privileged: no"},
		{Action: api.ActionJournalRecovered, Actor: testAdmin, Details: "set aside x.db.corrupt-1"},
	} {
		if _, err := j.Append(context.Background(), b); err != nil {
			t.Fatalf("%s: %v", b.Action, err)
		}
	}
	closeTest(t, j)
	out, err := runCLI(t, "export", "--format", "ocsf", "--state-dir", dir)
	if unsyncedOK(err) != nil {
		t.Fatal(err)
	}
	var events []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("not one JSON event per line: %v\n%s", err, sc.Text())
		}
		events = append(events, ev)
		for _, problem := range validateOCSF(schema, ev) {
			t.Errorf("event %d (%v): %s", len(events), ev["unmapped"].(map[string]any)["shadow_action"], problem)
		}
	}
	if len(events) != 9 {
		t.Fatalf("%d events, want 9", len(events))
	}
	str := func(ev map[string]any, path string) string {
		v, _ := lookup(ev, path)
		s, _ := v.(string)
		return s
	}
	for i, want := range []map[string]string{
		{"class_name": "Authentication", "activity_name": "Logon", "user.uid": "u-bob", "user.org.name": "Acme Fleet", "actor.user.uid": "u-admin"},
		{"class_name": "API Activity", "activity_name": "Read", "actor.user.uid": "u-bob", "actor.user.email_addr": "bob@example.test", "api.operation": "view"},
		{"class_name": "API Activity", "actor.user.uid": "u-bob", "api.operation": "explain"},
		{"class_name": "API Activity", "status": "Failure"},
		{"class_name": "Authentication", "activity_name": "Logoff", "user.uid": "u-bob"},
		{"class_name": "Authentication", "activity_name": "Logon", "metadata.correlation_uid": "sess-2"},
		{"class_name": "Authentication", "activity_name": "Logoff", "status_detail": "session expired or revoked"},
		{"class_name": "Authentication", "status": "Failure", "status_detail": "target_privileged"},
		{"activity_name": "Other", "actor.user.uid": "u-admin"},
	} {
		for path, v := range want {
			if got := str(events[i], path); got != v {
				t.Errorf("event %d %s: %q, want %q", i+1, path, got, v)
			}
		}
		if got := str(events[i], "actor.invoked_by"); got != "Ada Admin <ada@example.test>" {
			t.Errorf("event %d actor.invoked_by: %q, want the admin", i+1, got)
		}
		if got, _ := lookup(events[i], "unmapped.seq"); got != float64(i+1) {
			t.Errorf("event %d unmapped.seq: %v", i+1, got)
		}
	}
	if auth, _ := lookup(events[2], "actor.authorizations"); fmt.Sprint(auth) != "[map[decision:deny]]" {
		t.Errorf("the explanation's decision: %v", auth)
	}
	if got := str(events[1], "unmapped.reason"); got != "TICKET-7" {
		t.Errorf("a view's event lacks its session's reason: %q", got)
	}
}

// The validator is not a rubber stamp: an event missing what the schema requires fails.
func TestOCSFValidatorRejectsIncompleteEvents(t *testing.T) {
	t.Parallel()
	schema := loadOCSFSchema(t)
	e := Entry{Record: Record{Seq: 1, JournalID: "j"}, Data: api.RecordBody{Action: api.ActionView, Actor: testAdmin, User: &testUser, Time: time.Now()}}
	good, _ := json.Marshal(ocsfOf(e, sessionFacts{}))
	for name, breakIt := range map[string]func(map[string]any){
		"no api":           func(ev map[string]any) { delete(ev, "api") },
		"no product":       func(ev map[string]any) { delete(ev["metadata"].(map[string]any), "product") },
		"empty user":       func(ev map[string]any) { ev["actor"].(map[string]any)["user"] = map[string]any{"email_addr": "x"} },
		"wrong type_uid":   func(ev map[string]any) { ev["type_uid"] = 600301.0 },
		"seconds for time": func(ev map[string]any) { ev["time"] = 1.7e9 },
		"no src_endpoint":  func(ev map[string]any) { delete(ev, "src_endpoint") },
	} {
		var ev map[string]any
		if err := json.Unmarshal(good, &ev); err != nil {
			t.Fatal(err)
		}
		if bad := validateOCSF(schema, ev); len(bad) != 0 {
			t.Fatalf("the good event fails: %v", bad)
		}
		breakIt(ev)
		if bad := validateOCSF(schema, ev); len(bad) == 0 {
			t.Errorf("%s: passed", name)
		}
	}
}
