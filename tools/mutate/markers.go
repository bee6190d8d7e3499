package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Marker is one "// mutate:check" comment and the condition it guards.
type Marker struct {
	ID       string   // the marker's id, unique within its package
	File     string   // slash-separated path relative to the module root
	Line     int      // line of the marker comment
	Kind     string   // "if" or "case"; empty when the marker is misplaced
	Package  string   // import path of the file's package
	TestedBy []string // the tested-by list as written; nil when absent
	Tests    []string // the go test patterns run against the mutant
	Err      error    // why this marker cannot be run (malformed, misplaced, duplicate id, ...)

	abs   string    // absolute path of the file
	src   []byte    // the file's content
	conds []span    // byte ranges of the conditions that become "false && (cond)"
	pos   token.Pos // position of the marker, for ordering duplicates
}

// span is a half-open byte range [start, end) of a file.
type span struct{ start, end int }

// Where returns "file:line" of the marker.
func (m *Marker) Where() string { return fmt.Sprintf("%s:%d", m.File, m.Line) }

const directive = "mutate:check"

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// parseMarker parses the text of a comment (with its "//" or "/*"). It reports
// ok == false when the comment is not a mutate directive at all. A comment
// whose text starts with "mutate:" is a directive and must be exactly
//
//	// mutate:check ID [tested-by=PKG[,PKG...]]
//
// where ID matches idPattern and each PKG is a go test package pattern of
// the module: "./dir", "./dir/...", "." or an import path starting with the
// module path.
func parseMarker(text, modulePath string) (id string, testedBy []string, ok bool, err error) {
	var body string
	switch {
	case strings.HasPrefix(text, "//"):
		body = text[2:]
	case strings.HasPrefix(text, "/*"):
		body = strings.TrimSuffix(text[2:], "*/")
	default:
		return "", nil, false, nil
	}
	body = strings.TrimSpace(body)
	if !strings.HasPrefix(body, "mutate:") {
		return "", nil, false, nil
	}
	if strings.HasPrefix(text, "/*") {
		return "", nil, true, errors.New("a mutate marker must be a // line comment, not a /* */ comment")
	}
	fields := strings.Fields(body)
	if fields[0] != directive {
		return "", nil, true, fmt.Errorf("unknown directive %q (the only one is %q)", fields[0], directive)
	}
	if len(fields) < 2 {
		return "", nil, true, fmt.Errorf("%s needs an id: // %s ID [tested-by=PKG,...]", directive, directive)
	}
	id = fields[1]
	if !idPattern.MatchString(id) {
		return "", nil, true, fmt.Errorf("id %q: want letters, digits, '-', '_' or '.', starting with a letter or digit", id)
	}
	if len(fields) > 3 {
		return id, nil, true, fmt.Errorf("unexpected %q after the marker; put explanations on the comment lines above it", strings.Join(fields[3:], " "))
	}
	if len(fields) == 2 {
		return id, nil, true, nil
	}
	list, found := strings.CutPrefix(fields[2], "tested-by=")
	if !found {
		return id, nil, true, fmt.Errorf("unexpected %q after the id; want tested-by=PKG[,PKG...]", fields[2])
	}
	if list == "" {
		return id, nil, true, errors.New("tested-by: empty package list")
	}
	seen := map[string]bool{}
	for _, p := range strings.Split(list, ",") {
		if err := checkPattern(p, modulePath); err != nil {
			return id, nil, true, fmt.Errorf("tested-by: %w", err)
		}
		if seen[p] {
			return id, nil, true, fmt.Errorf("tested-by: %q listed twice", p)
		}
		seen[p] = true
		testedBy = append(testedBy, p)
	}
	return id, testedBy, true, nil
}

// checkPattern accepts go test package patterns that stay inside the module.
func checkPattern(p, modulePath string) error {
	switch {
	case p == "":
		return errors.New("empty package in the list")
	case p == "." || p == "./...":
		return nil
	case strings.HasPrefix(p, "./"):
		c := path.Clean(strings.TrimSuffix(p, "/..."))
		if c == ".." || strings.HasPrefix(c, "../") || strings.Contains(c, "...") {
			return fmt.Errorf("package %q: want a pattern inside the module (./dir or ./dir/...)", p)
		}
		return nil
	case p == modulePath || strings.HasPrefix(p, modulePath+"/"):
		return nil
	default:
		return fmt.Errorf("package %q: want ./dir, ./dir/... or an import path of module %s", p, modulePath)
	}
}

// target is an if statement or a case clause a marker may stand above.
type target struct {
	kind  string     // "if", "case", or a description of a node that cannot be mutated
	conds []ast.Expr // conditions; nil for a node that cannot be mutated
	why   string     // why the node cannot be mutated
}

// targets indexes, by the line of their keyword, the if statements and case
// clauses of a file (the first one when a line holds several).
func targets(fset *token.FileSet, f *ast.File) map[int]target {
	out := map[int]target{}
	add := func(pos token.Pos, t target) {
		line := fset.PositionFor(pos, false).Line
		if _, dup := out[line]; !dup {
			out[line] = t
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.IfStmt:
			add(n.Pos(), target{kind: "if", conds: []ast.Expr{n.Cond}})
		case *ast.SwitchStmt:
			for _, s := range n.Body.List {
				cc := s.(*ast.CaseClause)
				switch {
				case cc.List == nil:
					add(cc.Pos(), target{kind: "default clause", why: "a default clause has no condition"})
				case n.Tag != nil:
					add(cc.Pos(), target{kind: "case clause", why: "the switch has a tag (switch x {...}); only a case of an expression-less switch {...} is a condition"})
				default:
					add(cc.Pos(), target{kind: "case", conds: cc.List})
				}
			}
		case *ast.TypeSwitchStmt:
			for _, s := range n.Body.List {
				add(s.Pos(), target{kind: "case clause", why: "a type switch case is not a condition"})
			}
		case *ast.SelectStmt:
			for _, s := range n.Body.List {
				add(s.Pos(), target{kind: "case clause", why: "a select case is not a condition"})
			}
		}
		return true
	})
	return out
}

// scanFile finds the markers of one file. rel is the file's slash path
// relative to the module root, abs its absolute path. It returns an error
// only when the file cannot be parsed; problems of a marker are in its Err.
func scanFile(rel, abs string, src []byte, modulePath string) ([]*Marker, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, rel, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	dir := path.Dir(rel)
	pkg, testPattern := modulePath, "."
	if dir != "." {
		pkg, testPattern = modulePath+"/"+dir, "./"+dir
	}
	var excluded error
	if ok, err := matchBuild(abs, src); err != nil {
		excluded = fmt.Errorf("reading build constraints: %w", err)
	} else if !ok {
		excluded = errors.New("the file is excluded from the default build by its build constraints, so go test would not compile the mutant")
	}
	lines := bytes.Split(src, []byte("\n"))
	var tg map[int]target
	var out []*Marker
	for _, g := range f.Comments {
		for _, c := range g.List {
			id, testedBy, ok, perr := parseMarker(c.Text, modulePath)
			if !ok {
				continue
			}
			p := fset.PositionFor(c.Pos(), false)
			m := &Marker{ID: id, File: rel, Line: p.Line, Package: pkg, TestedBy: testedBy,
				Tests: testedBy, abs: abs, src: src, pos: c.Pos(), Err: perr}
			if m.Tests == nil {
				m.Tests = []string{testPattern}
			}
			out = append(out, m)
			if m.Err != nil {
				continue
			}
			if excluded != nil {
				m.Err = excluded
				continue
			}
			if len(bytes.TrimSpace(lines[p.Line-1][:p.Column-1])) != 0 {
				m.Err = errors.New("the marker must be on a line of its own, directly above the if or case it marks")
				continue
			}
			if tg == nil {
				tg = targets(fset, f)
			}
			t, found := tg[p.Line+1]
			switch {
			case !found:
				m.Err = misplaced(lines, p.Line)
			case t.conds == nil:
				m.Err = fmt.Errorf("the marker stands above a %s: %s", t.kind, t.why)
			default:
				m.Kind = t.kind
				for _, e := range t.conds {
					m.conds = append(m.conds, span{fset.PositionFor(e.Pos(), false).Offset, fset.PositionFor(e.End(), false).Offset})
				}
			}
		}
	}
	return out, nil
}

// misplaced explains why the line after a marker is not something it can mark.
func misplaced(lines [][]byte, line int) error {
	const want = "a marker must be the last comment line directly above an if statement or a case clause of an expression-less switch"
	if line >= len(lines) {
		return errors.New(want)
	}
	next := bytes.TrimSpace(lines[line])
	switch {
	case len(next) == 0:
		return fmt.Errorf("%s; a blank line follows it", want)
	case bytes.HasPrefix(next, []byte("//")) || bytes.HasPrefix(next, []byte("/*")):
		return fmt.Errorf("%s; another comment follows it", want)
	default:
		return fmt.Errorf("%s; it stands above %q", want, clip(string(next), 40))
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// matchBuild reports whether the default build context (this GOOS/GOARCH,
// no extra tags) compiles the file.
func matchBuild(abs string, src []byte) (bool, error) {
	ctxt := build.Default
	ctxt.OpenFile = func(string) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(src)), nil }
	return ctxt.MatchFile(filepath.Dir(abs), filepath.Base(abs))
}

// checkDuplicates marks every marker whose id was already used in the same
// package.
func checkDuplicates(ms []*Marker) {
	first := map[[2]string]*Marker{}
	for _, m := range ms {
		if m.ID == "" {
			continue
		}
		k := [2]string{m.Package, m.ID}
		if f, dup := first[k]; dup {
			if m.Err == nil {
				m.Err = fmt.Errorf("duplicate id %q in package %s (first at %s)", m.ID, m.Package, f.Where())
				m.Kind = ""
			}
			continue
		}
		first[k] = m
	}
}

// skipDir reports whether the walk leaves out a directory: the go command's
// own rules (names starting with "." or "_", testdata, vendor, nested
// modules) plus node_modules.
func skipDir(root, p string, d fs.DirEntry) bool {
	if p == root {
		return false
	}
	n := d.Name()
	if strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") || n == "testdata" || n == "vendor" || n == "node_modules" {
		return true
	}
	_, err := os.Stat(filepath.Join(p, "go.mod"))
	return err == nil
}

// Scan finds every marker in the non-test .go files of the module at root.
// The markers' absolute paths start with root, as the go command run in
// root sees them, even when root is a symbolic link.
func Scan(root, modulePath string) ([]*Marker, error) {
	walkRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, err
	}
	var ms []*Marker
	err = filepath.WalkDir(walkRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skipDir(walkRoot, p, d) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") || !d.Type().IsRegular() {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Contains(src, []byte("mutate:")) {
			return nil
		}
		rel, err := filepath.Rel(walkRoot, p)
		if err != nil {
			return err
		}
		found, err := scanFile(filepath.ToSlash(rel), filepath.Join(root, rel), src, modulePath)
		if err != nil {
			return err
		}
		ms = append(ms, found...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(ms, func(i, j int) bool {
		if ms[i].File != ms[j].File {
			return ms[i].File < ms[j].File
		}
		return ms[i].Line < ms[j].Line
	})
	checkDuplicates(ms)
	return ms, nil
}

// Mutant returns the marker's file with each marked condition cond replaced
// by "false && (cond)": the check never fires, every name it uses stays
// used, and the line numbers do not move.
func (m *Marker) Mutant() []byte {
	out := make([]byte, 0, len(m.src)+len(m.conds)*12)
	last := 0
	for _, c := range m.conds {
		out = append(out, m.src[last:c.start]...)
		out = append(out, "false && ("...)
		out = append(out, m.src[c.start:c.end]...)
		out = append(out, ')')
		last = c.end
	}
	return append(out, m.src[last:]...)
}

// modulePathOf reads the module path from a go.mod file.
func modulePathOf(gomod []byte) (string, error) {
	for _, l := range strings.Split(string(gomod), "\n") {
		l = strings.TrimSpace(l)
		if i := strings.Index(l, "//"); i >= 0 {
			l = strings.TrimSpace(l[:i])
		}
		rest, ok := strings.CutPrefix(l, "module")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t' && rest[0] != '"') {
			continue
		}
		p := strings.Trim(strings.TrimSpace(rest), `"`)
		if p != "" {
			return p, nil
		}
	}
	return "", errors.New("go.mod has no module line")
}

// findModule returns the directory holding the go.mod that governs dir, and
// the module's path.
func findModule(dir string) (root, modulePath string, err error) {
	for d := dir; ; {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			mp, err := modulePathOf(b)
			if err != nil {
				return "", "", fmt.Errorf("%s: %w", filepath.Join(d, "go.mod"), err)
			}
			return d, mp, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", "", err
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", "", fmt.Errorf("no go.mod in %s or any parent folder", dir)
		}
		d = parent
	}
}
