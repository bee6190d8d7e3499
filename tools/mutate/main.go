// Command mutate proves that each marked security check has a test that fails
// when the check is removed (`make mutate` runs it at the module root).
//
// A check is marked with a line comment on the line directly above it:
//
//	// mutate:check settle-status
//	if sla.Status != StatusActive {
//		return fmt.Errorf(...)
//	}
//
// The marker grammar is
//
//	// mutate:check ID [tested-by=PKG[,PKG...]]
//
// ID is letters, digits, '-', '_' and '.', starting with a letter or digit,
// and unique within its package (the same ID may appear in two packages).
// Each PKG is a go test pattern inside the module, relative to the module
// root ("./chaincode/refund", "./fpc/...", ".") or an import path of the
// module. Nothing else may follow on the line: explanations go on the
// comment lines above the marker, which must be the last comment line
// before the statement (no blank line between them) and on a line of its
// own. It may stand above
//
//   - an if statement (also the "if" of "} else if cond {"): its condition
//     cond becomes "false && (cond)"; an init statement ("if v, err := f(); cond")
//     stays as it is;
//   - a case clause of an expression-less switch ("switch { case cond: }"):
//     each expression of the clause becomes "false && (expr)", so
//     "case a, b:" becomes "case false && (a), false && (b):" and the clause
//     never runs, exactly as if it were deleted.
//
// So mark the if or case whose body refuses (returns the error): the mutant
// never takes that branch (an else branch always runs instead).
//
// A marker above anything else (an assignment, a default clause, a case of a
// switch with a tag, of a type switch or of a select), a malformed marker, a
// duplicate id, and a marker in a file the default build leaves out (build
// constraints) are errors.
//
// For each marker, one at a time, mutate writes the mutated copy of the file
// to a temporary folder and runs, from the module root,
//
//	go test -json -count=1 -vet=off -short -failfast -timeout=T -overlay=OVERLAY PKGS
//
// where PKGS is the file's own package, or the tested-by list instead of it.
// -short lets a test that repeats one property at scale (many random cases,
// a thousand transactions in one block) run a smaller size: a mutant needs
// one failing test, and the full size runs in the unit tests.
// The mutant is
//
//   - KILLED when a test fails (or times out): the check is guarded; the
//     line names the first failing test;
//   - SURVIVED when every test passes: no test notices the check is gone;
//   - BROKEN when the marker is unusable, the mutant does not build, go test
//     cannot load PKGS, or the tests of PKGS already fail without any mutant
//     (mutate runs each distinct PKGS once unmutated first, so that a failure
//     can only come from the mutant).
//
// The mutation keeps every name the condition uses, so the mutant compiles,
// and it keeps the line numbers. Each mutant is a plain go test run (the
// build cache makes everything but the mutated package and its dependents a
// cache hit; go test -c per mutant would build the same and gain nothing).
//
// mutate prints one line per marker (outcome, id, file:line, package,
// seconds) and a table per package, and exits with status 1 when a mutant
// SURVIVED or is BROKEN, or when no marker was found; 2 on a usage error.
//
// Usage:
//
//	make mutate MUTATE_FLAGS='[flags]'
//	go run ./tools/mutate [flags]
//
// The flags are:
//
//	-run REGEXP   only the markers whose id matches REGEXP
//	-pkg PATTERNS only the markers in these folders, comma-separated go-style
//	              patterns relative to the module root: ./chaincode/refund
//	              (that folder), ./fpc/... (that folder and below), or import paths
//	-list         list the markers and check their placement, run nothing
//	-json         print the results as JSON on standard output (the progress
//	              lines then go to standard error)
//	-timeout D    go test -timeout of each mutant (default 5m); a run that
//	              does not finish within 2*D, building included, is BROKEN
//	-parallel N   run N mutants at the same time (default 1)
//
// mutate reads every non-test .go file of the module that holds the current
// folder, except under testdata, vendor, node_modules, folders whose name
// starts with "." or "_", and nested modules. It runs the go command found
// in PATH.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(2)
	}
	code := mutate(ctx, wd, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Result is the outcome of one marker, as printed by -json.
type Result struct {
	ID       string   `json:"id"`
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Kind     string   `json:"kind,omitempty"`
	Package  string   `json:"package"`
	Tests    []string `json:"tests"`
	Status   string   `json:"status,omitempty"`
	Seconds  float64  `json:"seconds"`
	KilledBy []string `json:"killed_by,omitempty"`
	Reason   string   `json:"reason,omitempty"`
	Output   []string `json:"output,omitempty"`
}

// Summary counts the outcomes of one package's markers.
type Summary struct {
	Package  string  `json:"package"`
	Markers  int     `json:"markers"`
	Killed   int     `json:"killed"`
	Survived int     `json:"survived"`
	Broken   int     `json:"broken"`
	Seconds  float64 `json:"seconds"`
}

// Report is the -json output.
type Report struct {
	Module   string    `json:"module"`
	OK       bool      `json:"ok"`
	Results  []Result  `json:"results"`
	Packages []Summary `json:"packages,omitempty"`
	Total    *Summary  `json:"total,omitempty"`
}

// mutate is the whole command, run in folder dir; it returns the exit status.
func mutate(ctx context.Context, dir string, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("mutate", flag.ContinueOnError)
	fl.SetOutput(stderr)
	runRE := fl.String("run", "", "only the markers whose id matches this regular expression")
	pkgFlag := fl.String("pkg", "", "only the markers under these comma-separated folders (./dir, ./dir/..., or import paths)")
	list := fl.Bool("list", false, "list the markers and check them, run nothing")
	asJSON := fl.Bool("json", false, "print the results as JSON on standard output")
	timeout := fl.Duration("timeout", 5*time.Minute, "go test -timeout of each mutant; the whole run may take twice as long")
	par := fl.Int("parallel", 1, "number of mutants run at the same time")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: mutate [-run REGEXP] [-pkg PATTERNS] [-list] [-json] [-timeout D] [-parallel N]")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "mutate: unexpected argument %q\n", fl.Arg(0))
		fl.Usage()
		return 2
	}
	if *par < 1 {
		fmt.Fprintf(stderr, "mutate: -parallel %d: want at least 1\n", *par)
		return 2
	}
	if *timeout <= 0 {
		fmt.Fprintf(stderr, "mutate: -timeout %s: want a positive duration\n", *timeout)
		return 2
	}
	re, err := regexp.Compile(*runRE)
	if err != nil {
		fmt.Fprintf(stderr, "mutate: -run: %v\n", err)
		return 2
	}
	root, modulePath, err := findModule(dir)
	if err != nil {
		fmt.Fprintln(stderr, "mutate:", err)
		return 2
	}
	match, err := pkgMatcher(*pkgFlag, modulePath)
	if err != nil {
		fmt.Fprintf(stderr, "mutate: -pkg: %v\n", err)
		return 2
	}
	all, err := Scan(root, modulePath)
	if err != nil {
		fmt.Fprintln(stderr, "mutate:", err)
		return 1
	}
	var ms []*Marker
	for _, m := range all {
		if match(path.Dir(m.File)) && (m.ID == "" || re.MatchString(m.ID)) {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		fmt.Fprintf(stderr, "mutate: no // %s marker found in module %s%s\n", directive, modulePath, filters(*runRE, *pkgFlag))
		return 1
	}
	progress := stdout
	if *asJSON {
		progress = stderr
	}
	if *list {
		return listMarkers(ms, modulePath, *asJSON, stdout, progress)
	}

	results := runAll(ctx, root, ms, *timeout, *par, progress)
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "mutate: interrupted")
		return 1
	}
	sums, total := summarize(results)
	ok := total.Killed == total.Markers
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(Report{Module: modulePath, OK: ok, Results: results, Packages: sums, Total: &total}); err != nil {
			fmt.Fprintln(stderr, "mutate:", err)
			return 1
		}
	} else {
		fmt.Fprintln(stdout)
		printTable(stdout, sums, total)
	}
	if ok {
		fmt.Fprintf(progress, "mutate: ok: each of the %d marked checks fails a test when it is removed\n", total.Markers)
		return 0
	}
	fmt.Fprintf(progress, "mutate: FAIL: %d survived, %d broken of %d marked checks\n", total.Survived, total.Broken, total.Markers)
	return 1
}

func filters(run, pkg string) string {
	var f []string
	if pkg != "" {
		f = append(f, "-pkg "+pkg)
	}
	if run != "" {
		f = append(f, "-run "+run)
	}
	if f == nil {
		return ""
	}
	return " (" + strings.Join(f, ", ") + ")"
}

// pkgMatcher turns the -pkg flag into a test on a file's folder (slash
// path relative to the module root, "." for the root).
func pkgMatcher(flagValue, modulePath string) (func(dir string) bool, error) {
	if flagValue == "" {
		return func(string) bool { return true }, nil
	}
	type pat struct {
		dir       string
		recursive bool
	}
	var pats []pat
	for _, p := range strings.Split(flagValue, ",") {
		orig := p
		switch {
		case p == "":
			return nil, errors.New("empty pattern in the list")
		case p == modulePath || strings.HasPrefix(p, modulePath+"/"):
			p = "." + strings.TrimPrefix(p, modulePath)
		case p == "." || p == "..." || strings.HasPrefix(p, "./"):
		default:
			p = "./" + p
		}
		rec := p == "..." || strings.HasSuffix(p, "/...")
		p = path.Clean(strings.TrimSuffix(strings.TrimSuffix(p, "..."), "/"))
		if p == "" || p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, "...") {
			return nil, fmt.Errorf("%q: want ./dir, ./dir/... or an import path of module %s", orig, modulePath)
		}
		pats = append(pats, pat{p, rec})
	}
	return func(dir string) bool {
		for _, p := range pats {
			if dir == p.dir || (p.recursive && (p.dir == "." || strings.HasPrefix(dir, p.dir+"/"))) {
				return true
			}
		}
		return false
	}, nil
}

func listMarkers(ms []*Marker, modulePath string, asJSON bool, stdout, progress io.Writer) int {
	bad := 0
	var results []Result
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, m := range ms {
		r := resultOf(m)
		if m.Err != nil {
			bad++
			r.Status, r.Reason = Broken, m.Err.Error()
		}
		results = append(results, r)
		if asJSON {
			continue
		}
		status := "ok"
		if m.Err != nil {
			status = Broken
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", status, orDash(m.ID), m.Where(), orDash(m.Kind), m.Package, strings.Join(m.Tests, ","))
		if m.Err != nil {
			fmt.Fprintf(tw, "\t  %s\n", m.Err)
		}
	}
	tw.Flush()
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(Report{Module: modulePath, OK: bad == 0, Results: results}); err != nil {
			fmt.Fprintln(progress, "mutate:", err)
			return 1
		}
	}
	if bad > 0 {
		fmt.Fprintf(progress, "mutate: %d of %d markers are broken\n", bad, len(ms))
		return 1
	}
	fmt.Fprintf(progress, "mutate: %d markers\n", len(ms))
	return 0
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func resultOf(m *Marker) Result {
	return Result{ID: m.ID, File: m.File, Line: m.Line, Kind: m.Kind, Package: m.Package, Tests: m.Tests}
}

// parallel calls fn(0), ..., fn(n-1) on at most workers goroutines.
func parallel(ctx context.Context, n, workers int, fn func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers && w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// runAll runs the baselines, then the mutants, and prints a line per marker
// in the markers' order as the results come in.
func runAll(ctx context.Context, root string, ms []*Marker, timeout time.Duration, workers int, out io.Writer) []Result {
	// The distinct test sets of the runnable markers, each run once unmutated.
	type group struct {
		pkgs   []string
		ok     bool
		reason string
		output []string
	}
	groups := map[string]*group{}
	var keys []string
	for _, m := range ms {
		k := strings.Join(m.Tests, " ")
		if m.Err != nil || groups[k] != nil {
			continue
		}
		groups[k] = &group{pkgs: m.Tests}
		keys = append(keys, k)
	}
	var mu sync.Mutex
	parallel(ctx, len(keys), workers, func(i int) {
		g := groups[keys[i]]
		ok, reason, r := baseline(ctx, root, g.pkgs, timeout)
		g.ok, g.reason = ok, reason
		if !ok {
			g.output = tail(r.output, 30)
		}
		mu.Lock()
		defer mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		if ok {
			fmt.Fprintf(out, "baseline %s: tests pass (%.1fs)\n", keys[i], r.seconds)
		} else {
			fmt.Fprintf(out, "baseline %s: %s (%.1fs)\n", keys[i], reason, r.seconds)
			for _, l := range g.output {
				fmt.Fprintf(out, "    %s\n", l)
			}
		}
	})

	results := make([]Result, len(ms))
	done := make([]chan struct{}, len(ms))
	for i := range done {
		done[i] = make(chan struct{})
	}
	printed := make(chan struct{})
	go func() {
		defer close(printed)
		for i := range ms {
			select {
			case <-done[i]:
				printResult(out, results[i])
			case <-ctx.Done():
				return
			}
		}
	}()
	parallel(ctx, len(ms), workers, func(i int) {
		defer close(done[i])
		m := ms[i]
		r := resultOf(m)
		switch g := groups[strings.Join(m.Tests, " ")]; {
		case m.Err != nil:
			r.Status, r.Reason = Broken, m.Err.Error()
		case !g.ok:
			r.Status, r.Reason = Broken, "baseline: "+g.reason
		default:
			run, err := mutantRun(ctx, root, m, timeout)
			r.Seconds = run.seconds
			if err != nil {
				r.Status, r.Reason = Broken, err.Error()
				break
			}
			r.Status, r.Reason = verdict(run, timeout)
			r.KilledBy = run.failed
			if r.Status == Broken {
				r.Output = tail(run.output, 30)
			}
		}
		results[i] = r
	})
	<-printed
	return results
}

func printResult(out io.Writer, r Result) {
	line := fmt.Sprintf("%-8s %-24s %-40s %s %6.1fs", r.Status, orDash(r.ID), fmt.Sprintf("%s:%d", r.File, r.Line), r.Package, r.Seconds)
	if r.Status == Killed && len(r.KilledBy) > 0 {
		line += "  by " + r.KilledBy[0]
		if n := len(r.KilledBy) - 1; n > 0 {
			line += fmt.Sprintf(" (+%d)", n)
		}
	}
	fmt.Fprintln(out, line)
	if r.Status != Killed && r.Reason != "" {
		fmt.Fprintf(out, "         %s\n", r.Reason)
	}
	for _, l := range r.Output {
		fmt.Fprintf(out, "         | %s\n", l)
	}
}

func summarize(results []Result) ([]Summary, Summary) {
	by := map[string]*Summary{}
	total := Summary{Package: "total"}
	for _, r := range results {
		s := by[r.Package]
		if s == nil {
			s = &Summary{Package: r.Package}
			by[r.Package] = s
		}
		for _, s := range []*Summary{s, &total} {
			s.Markers++
			s.Seconds += r.Seconds
			switch r.Status {
			case Killed:
				s.Killed++
			case Survived:
				s.Survived++
			default:
				s.Broken++
			}
		}
	}
	var sums []Summary
	for _, s := range by {
		sums = append(sums, *s)
	}
	sort.Slice(sums, func(i, j int) bool { return sums[i].Package < sums[j].Package })
	return sums, total
}

func printTable(out io.Writer, sums []Summary, total Summary) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "package\tmarkers\tkilled\tsurvived\tbroken\tseconds")
	for _, s := range append(sums, total) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.1f\n", s.Package, s.Markers, s.Killed, s.Survived, s.Broken, s.Seconds)
	}
	tw.Flush()
}
