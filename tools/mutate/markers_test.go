package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const testModule = "example.com/m"

func TestParseMarker(t *testing.T) {
	tests := []struct {
		text     string
		marker   bool
		id       string
		testedBy []string
		err      string
	}{
		{text: "// mutate:check funds", marker: true, id: "funds"},
		{text: "//mutate:check funds", marker: true, id: "funds"},
		{text: "//  mutate:check   funds  ", marker: true, id: "funds"},
		{text: "// mutate:check settle-status tested-by=./chaincode/refund/...", marker: true, id: "settle-status",
			testedBy: []string{"./chaincode/refund/..."}},
		{text: "// mutate:check a.b_c-1 tested-by=./x,example.com/m/y,.,./...", marker: true, id: "a.b_c-1",
			testedBy: []string{"./x", "example.com/m/y", ".", "./..."}},
		{text: "// an ordinary comment"},
		{text: "// The mutate:check markers are read by tools/mutate."},
		{text: "//\t// mutate:check funds"},
		{text: "/* ordinary */"},
		{text: "/* mutate:check funds */", marker: true, err: "a mutate marker must be a // line comment, not a /* */ comment"},
		{text: "// mutate:chek funds", marker: true, err: `unknown directive "mutate:chek" (the only one is "mutate:check")`},
		{text: "// mutate: check funds", marker: true, err: `unknown directive "mutate:" (the only one is "mutate:check")`},
		{text: "// mutate:check", marker: true, err: "mutate:check needs an id: // mutate:check ID [tested-by=PKG,...]"},
		{text: "// mutate:check -funds", marker: true, err: `id "-funds": want letters, digits, '-', '_' or '.', starting with a letter or digit`},
		{text: "// mutate:check fu/nds", marker: true, err: `id "fu/nds": want letters, digits, '-', '_' or '.', starting with a letter or digit`},
		{text: "// mutate:check funds the caller must pay", marker: true, id: "funds",
			err: `unexpected "caller must pay" after the marker; put explanations on the comment lines above it`},
		{text: "// mutate:check funds testedby=./a", marker: true, id: "funds",
			err: `unexpected "testedby=./a" after the id; want tested-by=PKG[,PKG...]`},
		{text: "// mutate:check funds tested-by=", marker: true, id: "funds", err: "tested-by: empty package list"},
		{text: "// mutate:check funds tested-by=./a,,./b", marker: true, id: "funds", err: "tested-by: empty package in the list"},
		{text: "// mutate:check funds tested-by=./a,./a", marker: true, id: "funds", err: `tested-by: "./a" listed twice`},
		{text: "// mutate:check funds tested-by=-exec=evil", marker: true, id: "funds",
			err: `tested-by: package "-exec=evil": want ./dir, ./dir/... or an import path of module example.com/m`},
		{text: "// mutate:check funds tested-by=../other", marker: true, id: "funds",
			err: `tested-by: package "../other": want ./dir, ./dir/... or an import path of module example.com/m`},
		{text: "// mutate:check funds tested-by=./../other/...", marker: true, id: "funds",
			err: `tested-by: package "./../other/...": want a pattern inside the module (./dir or ./dir/...)`},
		{text: "// mutate:check funds tested-by=./a/.../b", marker: true, id: "funds",
			err: `tested-by: package "./a/.../b": want a pattern inside the module (./dir or ./dir/...)`},
		{text: "// mutate:check funds tested-by=example.com/mother", marker: true, id: "funds",
			err: `tested-by: package "example.com/mother": want ./dir, ./dir/... or an import path of module example.com/m`},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			id, testedBy, ok, err := parseMarker(tt.text, testModule)
			if ok != tt.marker {
				t.Fatalf("marker = %v, want %v", ok, tt.marker)
			}
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if id != tt.id || !reflect.DeepEqual(testedBy, tt.testedBy) {
				t.Errorf("got id %q tested-by %q, want %q %q", id, testedBy, tt.id, tt.testedBy)
			}
		})
	}
}

// fileWith wraps a function body in a file of package p.
func fileWith(body string) string {
	return "package p\n\nfunc f(a, b, c bool, x int, g func() (int, error)) int {\n" + body + "\treturn 0\n}\n"
}

func TestMutant(t *testing.T) {
	tests := []struct {
		name, body, kind, want string
	}{{
		name: "if",
		body: "\t// mutate:check pos\n\tif x > 0 {\n\t\treturn 1\n\t}\n",
		kind: "if",
		want: "\t// mutate:check pos\n\tif false && (x > 0) {\n\t\treturn 1\n\t}\n",
	}, {
		name: "if with init",
		body: "\t// mutate:check err\n\tif v, err := g(); err != nil {\n\t\treturn v\n\t}\n",
		kind: "if",
		want: "\t// mutate:check err\n\tif v, err := g(); false && (err != nil) {\n\t\treturn v\n\t}\n",
	}, {
		name: "else if",
		body: "\tif a {\n\t\treturn 1\n\t\t// mutate:check bc\n\t} else if b || c {\n\t\treturn 2\n\t}\n",
		kind: "if",
		want: "\tif a {\n\t\treturn 1\n\t\t// mutate:check bc\n\t} else if false && (b || c) {\n\t\treturn 2\n\t}\n",
	}, {
		name: "explanation above the marker",
		body: "\t// The caller must be an admin.\n\t// mutate:check admin\n\tif !a {\n\t\treturn 1\n\t}\n",
		kind: "if",
		want: "\t// The caller must be an admin.\n\t// mutate:check admin\n\tif false && (!a) {\n\t\treturn 1\n\t}\n",
	}, {
		name: "condition over two lines",
		body: "\t// mutate:check ab\n\tif a &&\n\t\tb {\n\t\treturn 1\n\t}\n",
		kind: "if",
		want: "\t// mutate:check ab\n\tif false && (a &&\n\t\tb) {\n\t\treturn 1\n\t}\n",
	}, {
		name: "nested in a function literal",
		body: "\th := func() int {\n\t\t// mutate:check inner\n\t\tif c {\n\t\t\treturn 1\n\t\t}\n\t\treturn 0\n\t}\n\t_ = h\n",
		kind: "if",
		want: "\th := func() int {\n\t\t// mutate:check inner\n\t\tif false && (c) {\n\t\t\treturn 1\n\t\t}\n\t\treturn 0\n\t}\n\t_ = h\n",
	}, {
		name: "after a //line directive",
		body: "//line generated.txt:1000\n\t// mutate:check pos\n\tif x > 0 {\n\t\treturn 1\n\t}\n",
		kind: "if",
		want: "//line generated.txt:1000\n\t// mutate:check pos\n\tif false && (x > 0) {\n\t\treturn 1\n\t}\n",
	}, {
		name: "case",
		body: "\tswitch {\n\t// mutate:check neg\n\tcase x < 0:\n\t\treturn 1\n\t}\n",
		kind: "case",
		want: "\tswitch {\n\t// mutate:check neg\n\tcase false && (x < 0):\n\t\treturn 1\n\t}\n",
	}, {
		name: "case list: the whole clause is removed",
		body: "\tswitch x := x * 2; {\n\tcase x > 9:\n\t\treturn 2\n\t// mutate:check ab\n\tcase a, b && c:\n\t\treturn 1\n\t}\n",
		kind: "case",
		want: "\tswitch x := x * 2; {\n\tcase x > 9:\n\t\treturn 2\n\t// mutate:check ab\n\tcase false && (a), false && (b && c):\n\t\treturn 1\n\t}\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := fileWith(tt.body)
			ms, err := scanFile("p/p.go", "/m/p/p.go", []byte(src), testModule)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != 1 {
				t.Fatalf("found %d markers, want 1", len(ms))
			}
			m := ms[0]
			if m.Err != nil {
				t.Fatalf("marker error: %v", m.Err)
			}
			if m.Kind != tt.kind || m.Package != "example.com/m/p" || !reflect.DeepEqual(m.Tests, []string{"./p"}) {
				t.Errorf("kind %q package %q tests %q", m.Kind, m.Package, m.Tests)
			}
			got := string(m.Mutant())
			if want := fileWith(tt.want); got != want {
				t.Errorf("mutant:\n%s\nwant:\n%s", got, want)
			}
			if strings.Count(got, "\n") != strings.Count(src, "\n") {
				t.Error("the mutant moved the lines")
			}
			if _, err := parser.ParseFile(token.NewFileSet(), "p.go", got, 0); err != nil {
				t.Errorf("the mutant does not parse: %v", err)
			}
		})
	}
}

func TestMisplacedMarkers(t *testing.T) {
	const want = "a marker must be the last comment line directly above an if statement or a case clause of an expression-less switch"
	tests := []struct {
		name, src, err string
	}{{
		name: "above an assignment",
		src:  fileWith("\t// mutate:check y\n\ty := x\n\t_ = y\n"),
		err:  want + `; it stands above "y := x"`,
	}, {
		name: "blank line before the if",
		src:  fileWith("\t// mutate:check pos\n\n\tif x > 0 {\n\t\treturn 1\n\t}\n"),
		err:  want + "; a blank line follows it",
	}, {
		name: "not the last comment",
		src:  fileWith("\t// mutate:check pos\n\t// x must be positive\n\tif x > 0 {\n\t\treturn 1\n\t}\n"),
		err:  want + "; another comment follows it",
	}, {
		name: "at the end of the file",
		src:  "package p\n\n// mutate:check end",
		err:  want,
	}, {
		name: "after code on its line",
		src:  fileWith("\ty := x // mutate:check pos\n\tif y > 0 {\n\t\treturn 1\n\t}\n"),
		err:  "the marker must be on a line of its own, directly above the if or case it marks",
	}, {
		name: "default clause",
		src:  fileWith("\tswitch {\n\tcase a:\n\t\treturn 1\n\t// mutate:check other\n\tdefault:\n\t\treturn 2\n\t}\n"),
		err:  "the marker stands above a default clause: a default clause has no condition",
	}, {
		name: "switch with a tag",
		src:  fileWith("\tswitch x {\n\t// mutate:check one\n\tcase 1:\n\t\treturn 1\n\t}\n"),
		err:  "the marker stands above a case clause: the switch has a tag (switch x {...}); only a case of an expression-less switch {...} is a condition",
	}, {
		name: "type switch",
		src:  fileWith("\tvar v any = x\n\tswitch v.(type) {\n\t// mutate:check int\n\tcase int:\n\t\treturn 1\n\t}\n"),
		err:  "the marker stands above a case clause: a type switch case is not a condition",
	}, {
		name: "select",
		src:  fileWith("\tch := make(chan int)\n\tselect {\n\t// mutate:check recv\n\tcase <-ch:\n\t\treturn 1\n\t}\n"),
		err:  "the marker stands above a case clause: a select case is not a condition",
	}, {
		name: "file left out by build constraints",
		src:  "//go:build ignore\n\n" + fileWith("\t// mutate:check pos\n\tif x > 0 {\n\t\treturn 1\n\t}\n"),
		err:  "the file is excluded from the default build by its build constraints, so go test would not compile the mutant",
	}, {
		name: "malformed",
		src:  fileWith("\t// mutate:check\n\tif x > 0 {\n\t\treturn 1\n\t}\n"),
		err:  "mutate:check needs an id: // mutate:check ID [tested-by=PKG,...]",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := scanFile("p/p.go", "/m/p/p.go", []byte(tt.src), testModule)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != 1 {
				t.Fatalf("found %d markers, want 1", len(ms))
			}
			if ms[0].Err == nil || ms[0].Err.Error() != tt.err {
				t.Errorf("err = %v\nwant %s", ms[0].Err, tt.err)
			}
		})
	}
}

// writeFiles creates files (slash paths relative to dir) with their content.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestScan(t *testing.T) {
	guarded := func(pkg, id string) string {
		return "package " + pkg + "\n\nfunc F(x int) int {\n\t// mutate:check " + id + "\n\tif x > 0 {\n\t\treturn 1\n\t}\n\treturn 0\n}\n"
	}
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"go.mod":              "module example.com/m // the module\n\ngo 1.26\n",
		"root.go":             guarded("m", "root"),
		"a/a.go":              guarded("a", "pos"),
		"a/b.go":              guarded("a", "pos"),
		"a/c.go":              strings.Replace(guarded("a", "other tested-by=./b/...,example.com/m/c"), "func F", "func H", 1),
		"a/a_test.go":         guarded("a", "in-a-test"),
		"b/b.go":              guarded("b", "pos"),
		"b/testdata/t.go":     guarded("t", "testdata"),
		"b/_old/o.go":         guarded("o", "underscore"),
		".hidden/h.go":        guarded("h", "hidden"),
		"vendor/v/v.go":       guarded("v", "vendor"),
		"node_modules/n/n.go": guarded("n", "node"),
		"nested/go.mod":       "module example.com/nested\n",
		"nested/n.go":         guarded("nested", "nested"),
		"plain/plain.go":      "package plain\n\n// mutate nothing here\nfunc F() {}\n",
		"a/README.md":         "// mutate:check md\n",
		"b/inner/inner.go":    guarded("inner", "pos"),
	})
	gotRoot, mp, err := findModule(filepath.Join(root, "b", "inner"))
	if err != nil || gotRoot != root || mp != testModule {
		t.Fatalf("findModule = %q, %q, %v", gotRoot, mp, err)
	}
	ms, err := Scan(root, mp)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		s := m.ID + " " + m.Where() + " " + m.Package + " " + strings.Join(m.Tests, ",")
		if m.Err != nil {
			s += " ERROR " + m.Err.Error()
		}
		got = append(got, s)
	}
	want := []string{
		"pos a/a.go:4 example.com/m/a ./a",
		"pos a/b.go:4 example.com/m/a ./a ERROR duplicate id \"pos\" in package example.com/m/a (first at a/a.go:4)",
		"other a/c.go:4 example.com/m/a ./b/...,example.com/m/c",
		"pos b/b.go:4 example.com/m/b ./b",
		"pos b/inner/inner.go:4 example.com/m/b/inner ./b/inner",
		"root root.go:4 example.com/m .",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("markers:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestModulePathOf(t *testing.T) {
	tests := []struct{ gomod, want, err string }{
		{gomod: "module example.com/m\n", want: "example.com/m"},
		{gomod: "// comment\nmodule \"example.com/q\" // quoted\n\ngo 1.26\n", want: "example.com/q"},
		{gomod: "\tmodule\texample.com/t\r\n", want: "example.com/t"},
		{gomod: "modulex example.com/m\ngo 1.26\n", err: "go.mod has no module line"},
		{gomod: "", err: "go.mod has no module line"},
	}
	for _, tt := range tests {
		got, err := modulePathOf([]byte(tt.gomod))
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%q: err = %v, want %q", tt.gomod, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: got %q, %v, want %q", tt.gomod, got, err, tt.want)
		}
	}
}

func TestPkgMatcher(t *testing.T) {
	dirs := []string{".", "a", "a/b", "ab", "c"}
	tests := []struct {
		flag string
		want []string
	}{
		{"", dirs},
		{"./...", dirs},
		{".", []string{"."}},
		{"./a", []string{"a"}},
		{"a", []string{"a"}},
		{"./a/", []string{"a"}},
		{"./a/...", []string{"a", "a/b"}},
		{"example.com/m/a/...", []string{"a", "a/b"}},
		{"example.com/m", []string{"."}},
		{"./a/b,c", []string{"a/b", "c"}},
	}
	for _, tt := range tests {
		match, err := pkgMatcher(tt.flag, testModule)
		if err != nil {
			t.Errorf("%q: %v", tt.flag, err)
			continue
		}
		var got []string
		for _, d := range dirs {
			if match(d) {
				got = append(got, d)
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q matches %q, want %q", tt.flag, got, tt.want)
		}
	}
	for _, bad := range []string{"../x", "./a/.../b", "./a,"} {
		if _, err := pkgMatcher(bad, testModule); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// The go command run in a folder reached through a symbolic link names the
// files by that path; the overlay must use the same names.
func TestScanThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "real")
	writeFiles(t, root, map[string]string{
		"go.mod": "module example.com/m\n",
		"a/a.go": fileWith("\t// mutate:check pos\n\tif x > 0 {\n\t\treturn 1\n\t}\n"),
	})
	link := filepath.Join(dir, "link")
	if err := os.Symlink(root, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	ms, err := Scan(link, testModule)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].abs != filepath.Join(link, "a", "a.go") || ms[0].File != "a/a.go" {
		t.Fatalf("markers %+v", ms)
	}
}
