package ui_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/shadowview/shadow"

// TestImportRules holds every ui package (and internal/cli) to the import rule its
// package doc states, so the doc is the rule and a change that breaks it fails here.
// The rule is one line of the doc:
//
//	Imports: never client, audit, server/... or ui: why.   none of these, even indirectly
//	Imports: only internal/safetext.                     no other package of shadow's
//	Imports: nothing of shadow's: why.                   no package of shadow's at all
//
// A name is a package path in the module ("server/..." is server and every package
// under it); a parenthesis is a comment. Test files are not held to it.
func TestImportRules(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := modulePackages(t, root)
	checked := 0
	for dir, p := range pkgs {
		if dir != "internal/cli" && dir != "ui" && !strings.HasPrefix(dir, "ui/") {
			continue
		}
		checked++
		if p.rule == "" {
			t.Errorf("%s: its package doc states no import rule (a line \"Imports: …\")", dir)
			continue
		}
		kind, names, err := parseRule(p.rule)
		if err != nil {
			t.Errorf("%s: %q: %v", dir, p.rule, err)
			continue
		}
		for _, n := range names {
			if _, ok := pkgs[strings.TrimSuffix(n, "/...")]; !ok {
				t.Errorf("%s: its import rule names %q, no package of the module", dir, n)
			}
		}
		switch kind {
		case "never":
			for _, dep := range deps(pkgs, dir) {
				if slices.ContainsFunc(names, func(n string) bool { return matches(n, dep) }) {
					t.Errorf("%s imports %s (%s), which its doc says it never does", dir, dep, importChain(pkgs, dir, dep))
				}
			}
		case "only":
			for _, imp := range p.imports {
				if !slices.ContainsFunc(names, func(n string) bool { return matches(n, imp) }) {
					t.Errorf("%s imports %s; its doc says it imports only %v of shadow's", dir, imp, names)
				}
			}
		}
	}
	if checked < 15 {
		t.Fatalf("checked %d packages: the walk missed some", checked)
	}
}

// TestImportRulesCatchABreach checks the checker: a rule the module breaks is found.
func TestImportRulesCatchABreach(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := modulePackages(t, root)
	kind, names, err := parseRule("Imports: never client (the API's): a test.")
	if err != nil || kind != "never" || !slices.Equal(names, []string{"client"}) {
		t.Fatalf("parse: %v %q %v", kind, names, err)
	}
	// ui/sshserve imports ui, which imports client: an indirect import counts.
	if !slices.Contains(deps(pkgs, "ui/sshserve"), "client") || importChain(pkgs, "ui/sshserve", "ui/banner") != "ui/sshserve → ui → ui/banner" {
		t.Fatalf("deps of ui/sshserve: %v; chain to ui/banner: %s", deps(pkgs, "ui/sshserve"), importChain(pkgs, "ui/sshserve", "ui/banner"))
	}
	if !matches("server/...", "server/policy") || !matches("server/...", "server") || matches("ui", "ui/common") {
		t.Fatal("matches")
	}
	for _, bad := range []string{"Imports: sometimes api.", "Imports: never .", "Imports: only"} {
		if _, _, err := parseRule(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

type modulePkg struct {
	imports []string // the module's packages it imports (not in tests), module-relative
	rule    string   // the "Imports: …" line of its doc
}

// modulePackages reads the imports and doc of every package in the module.
func modulePackages(t *testing.T, root string) map[string]*modulePkg {
	t.Helper()
	pkgs := map[string]*modulePkg{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			rel = "" // main
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		p := pkgs[rel]
		if p == nil {
			p = &modulePkg{}
			pkgs[rel] = p
		}
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			if dep, ok := strings.CutPrefix(ip, module+"/"); ok && !slices.Contains(p.imports, dep) {
				p.imports = append(p.imports, dep)
			}
		}
		if r := ruleLine(f.Doc); r != "" {
			p.rule = r
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("%s is not the module's root: %v", root, err)
	}
	return pkgs
}

func ruleLine(doc *ast.CommentGroup) string {
	if doc == nil {
		return ""
	}
	for _, l := range strings.Split(doc.Text(), "\n") {
		if strings.HasPrefix(l, "Imports: ") {
			return l
		}
	}
	return ""
}

// parseRule reads an "Imports: …" line: its kind (never, only) and the names.
func parseRule(line string) (kind string, names []string, err error) {
	rest, _ := strings.CutPrefix(line, "Imports: ")
	if strings.HasPrefix(rest, "nothing of shadow's") {
		return "only", nil, nil
	}
	kind, rest, ok := strings.Cut(rest, " ")
	if !ok || (kind != "never" && kind != "only") {
		return "", nil, errIn("want \"never …\", \"only …\" or \"nothing of shadow's\"")
	}
	rest, _, _ = strings.Cut(rest, ": ")
	if !strings.HasSuffix(rest, "...") {
		rest = strings.TrimSuffix(rest, ".")
	}
	for _, part := range strings.Split(strings.ReplaceAll(rest, " or ", ", "), ",") {
		if i := strings.Index(part, "("); i >= 0 {
			part = part[:i]
		}
		if part = strings.TrimSpace(part); part != "" {
			names = append(names, part)
		}
	}
	if len(names) == 0 {
		return "", nil, errIn("no package named")
	}
	return kind, names, nil
}

type errIn string

func (e errIn) Error() string { return string(e) }

// matches reports whether a rule's name covers a package.
func matches(name, pkg string) bool {
	if tree, ok := strings.CutSuffix(name, "/..."); ok {
		return pkg == tree || strings.HasPrefix(pkg, tree+"/")
	}
	return pkg == name
}

// deps is every module package dir imports, directly or not.
func deps(pkgs map[string]*modulePkg, dir string) []string {
	var out []string
	seen := map[string]bool{dir: true}
	queue := []string{dir}
	for len(queue) > 0 {
		p := pkgs[queue[0]]
		queue = queue[1:]
		if p == nil {
			continue
		}
		for _, imp := range p.imports {
			if !seen[imp] {
				seen[imp] = true
				out = append(out, imp)
				queue = append(queue, imp)
			}
		}
	}
	slices.Sort(out)
	return out
}

// importChain is a shortest path of imports from dir to dep, for the error.
func importChain(pkgs map[string]*modulePkg, dir, dep string) string {
	prev := map[string]string{dir: ""}
	queue := []string{dir}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur == dep {
			chain := []string{cur}
			for p := prev[cur]; p != ""; p = prev[p] {
				chain = append([]string{p}, chain...)
			}
			return strings.Join(chain, " → ")
		}
		if p := pkgs[cur]; p != nil {
			for _, imp := range p.imports {
				if _, ok := prev[imp]; !ok {
					prev[imp] = cur
					queue = append(queue, imp)
				}
			}
		}
	}
	return "no chain"
}
