//go:build integration

package consortium

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/slasa/slasa/logger"
)

// service is the probed HTTP service: /<zone> answers 200, or 503 for the sample times and zones
// of an injected outage (the probes send the sample time in logger.SampleTimeHeader).
type service struct {
	mu   sync.Mutex
	fail map[string]bool // "<zone> <sample time>"
	url  string
}

func newService(t *testing.T) *service {
	t.Helper()
	s := &service{fail: map[string]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.url = "http://" + ln.Addr().String()
	srv := &http.Server{Handler: s}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

func (s *service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	zone := strings.TrimPrefix(r.URL.Path, "/")
	at, err := time.Parse("2006-01-02T15:04:05.000Z", r.Header.Get(logger.SampleTimeHeader))
	s.mu.Lock()
	fail := err == nil && s.fail[zone+" "+at.Format(time.RFC3339)]
	s.mu.Unlock()
	if fail {
		http.Error(w, "injected outage", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// outage makes the samples of the zones taken at second at fail.
func (s *service) outage(at time.Time, zones ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, z := range zones {
		s.fail[z+" "+at.Format(time.RFC3339)] = true
	}
}

// proc is a process of the test (logger, monitor), killed at the end of the test; its log's tail
// is shown when the test failed.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
}

func startProc(t *testing.T, name, log, bin string, args ...string) *proc {
	t.Helper()
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	p := &proc{name: name, cmd: cmd, log: log}
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			b, _ := os.ReadFile(log)
			lines := strings.Split(string(b), "\n")
			if len(lines) > 60 {
				lines = lines[len(lines)-60:]
			}
			t.Logf("---- tail of %s\n%s", log, strings.Join(lines, "\n"))
		}
	})
	return p
}

// stop kills the process (once).
func (p *proc) stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.cmd = nil
}
