package harness

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BuildCommands builds the repository's commands cmd/<name> (e.g.
// "cloud-logger", "slasa-monitor") into a temporary folder of the test and
// returns the folder. A failed build fails the test with the compiler's
// output.
func BuildCommands(t testing.TB, names ...string) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range names {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, c), "./cmd/"+c)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build ./cmd/%s: %v\n%s", c, err, out)
		}
	}
	return dir
}
