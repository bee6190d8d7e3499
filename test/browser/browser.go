// Package browser holds the helpers of the integration tests that drive `slasa console` in headless
// Chromium (Debian's chromium package, driven with chromedp): start a console for one user, start a
// browser, sign in, read a page's text, and save a screenshot that must not be blank. It links neither
// the Fabric shims nor the Gateway, so test packages of either side may use it.
package browser

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"
)

// Password is the password of every console user the tests start.
const Password = "console test password"

// User is a console user: its name, role (provider, client or vendor) and the local network's identity
// it acts as (--as), of organization Org (an MSP ID).
type User struct {
	Org, Name, Role, As string
}

// consoleURL is the line slasa console prints when it serves.
var consoleURL = regexp.MustCompile(`^slasa console for \S+: (http://127\.0\.0\.1:\d+/) \(1 users\)$`)

// StartConsole runs `slasa console` (the binary slasa of folder bin) over the network of run folder
// runDir for user u, its configuration written to folder work, and returns the console's URL; the
// process is killed at the test's end (its output shown when the test failed).
func StartConsole(t *testing.T, bin, runDir, work string, u User) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(Password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := json.Marshal(map[string]any{"organization": u.Org, "users": []map[string]string{
		{"name": u.Name, "password_bcrypt": string(hash), "role": u.Role, "as": u.As}}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(work, "console-"+u.Name+".json")
	if err := os.WriteFile(path, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, "slasa"), "--run-dir", runDir, "console", "--config", path, "--listen", "127.0.0.1:0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("---- slasa console (%s) stderr\n%s", u.Name, stderr.String())
		}
	})
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			first <- sc.Text()
		}
		close(first)
		for sc.Scan() {
		}
	}()
	select {
	case line := <-first:
		m := consoleURL.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("slasa console (%s) printed %q\n%s", u.Name, line, stderr.String())
		}
		return m[1]
	case <-time.After(time.Minute):
		t.Fatalf("slasa console (%s) did not start in a minute\n%s", u.Name, stderr.String())
	}
	return ""
}

// Chromium starts headless Chromium (Debian's chromium package) with a profile of its own (so the
// consoles of several users, all on 127.0.0.1, keep their cookies apart) and returns a context to drive
// it with for at most timeout.
func Chromium(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is not installed (make system-packages installs it): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(1280, 1000),
		chromedp.UserDataDir(t.TempDir()))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// Screenshot saves a PNG of the whole page in the test's artifact folder and fails the test unless it
// is a picture of something: at least 4 distinct colours, none covering more than 98 % of its pixels.
func Screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	var buf []byte
	var err error
	for range 20 {
		if buf, err = chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil || !strings.Contains(err.Error(), " with 0 ") {
			break
		}
		// A page just loaded may not be laid out yet: Chromium answers "Cannot take screenshot with
		// 0 width" (or height). Try again shortly.
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if msg := Blank(buf); msg != "" {
		t.Errorf("screenshot %s %s", name, msg)
	}
	path := filepath.Join(t.ArtifactDir(), name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s: %s", name, path)
}

// Blank says why a PNG is no picture of something ("" when it is one): not a PNG, fewer than 4
// distinct colours, or one colour on more than 98 % of its pixels (every other pixel of every other
// row sampled).
func Blank(data []byte) string {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return "is not a PNG: " + err.Error()
	}
	counts := map[[4]uint32]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			counts[[4]uint32{r, g, bl, a}]++
		}
	}
	total, most := 0, 0
	for _, n := range counts {
		total += n
		most = max(most, n)
	}
	if len(counts) < 4 || most*100 > total*98 {
		return fmt.Sprintf("looks blank: %d colours, the commonest on %d of %d sampled pixels", len(counts), most, total)
	}
	return ""
}

// SignIn opens the console's sign-in page at base and signs in as user name.
func SignIn(t *testing.T, ctx context.Context, base, name string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="user"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="user"]`), name),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), Password),
		chromedp.Submit(chromedp.CSS(`form.login`)),
		chromedp.WaitVisible(chromedp.CSS(`form.logout`)),
	); err != nil {
		t.Fatalf("sign in as %s at %s: %v", name, base, err)
	}
}

// PageText returns the text of the page's main element.
func PageText(t *testing.T, ctx context.Context) string {
	t.Helper()
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// Live waits until the page's event stream (console.js) is connected, then marks the page with a random
// value on its window and returns it: NotReloaded checks later that the page is the same one, updated
// in place.
func Live(t *testing.T, ctx context.Context) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	mark := hex.EncodeToString(b)
	if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS(`html[data-stream="connected"]`))); err != nil {
		t.Fatalf("the page's event stream did not connect: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`window.__loaded = %q`, mark))); err != nil {
		t.Fatal(err)
	}
	return mark
}

// NotReloaded fails the test unless the page still holds the mark Live set: it was not loaded again.
func NotReloaded(t *testing.T, ctx context.Context, mark string) {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`String(window.__loaded)`))
	if err != nil {
		t.Fatal(err)
	}
	if got != mark {
		t.Errorf("the page was loaded again: its mark is %q, not %q", got, mark)
	}
}
