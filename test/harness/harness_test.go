package harness

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

func TestFreePortBase(t *testing.T) {
	base, err := FreePortBase()
	if err != nil {
		t.Skipf("no free block on this machine: %v", err)
	}
	if base < 20000 || base+PortBlock > 32500 || base == 27000 || (base-20000)%PortBlock != 0 {
		t.Fatalf("FreePortBase = %d, outside the documented range or alignment", base)
	}
}

func TestServiceAddr(t *testing.T) {
	seen := map[string]bool{}
	for range PortBlock + 2 { // past one block: the next block is taken
		a := ServiceAddr(t)
		if seen[a] {
			t.Fatalf("ServiceAddr gave %s twice", a)
		}
		seen[a] = true
		host, port, err := net.SplitHostPort(a)
		if err != nil || host != "127.0.0.1" {
			t.Fatalf("ServiceAddr = %q", a)
		}
		if p, _ := strconv.Atoi(port); p < 20000 || p >= 32500 {
			t.Fatalf("ServiceAddr = %s: outside the blocks below the ephemeral range", a)
		}
	}
	l, err := net.Listen("tcp", ServiceAddr(t))
	if err != nil {
		t.Fatalf("the address is not free: %v", err)
	}
	l.Close()
}

func TestStartRejectsOrgs(t *testing.T) {
	for _, n := range []int{-1, 1, 2, 21} {
		if _, err := Start(Options{Orgs: n}); err == nil || err.Error() != fmt.Sprintf("Options.Orgs: %d must be 3..20", n) {
			t.Errorf("Start(Orgs: %d): err = %v", n, err)
		}
	}
}

func TestMetricValue(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `# HELP consensus_etcdraft_is_leader Whether the node is currently the leader.
# TYPE consensus_etcdraft_is_leader gauge
consensus_etcdraft_is_leader{channel="other"} 0
consensus_etcdraft_is_leader{channel="slasa"} 1
consensus_etcdraft_is_leader_total{channel="slasa"} 7
logger_windows_behind{sla="a"} 2
logger_windows_behind{sla="b"} 1.5e+00 1700000000000
up 1
`)
	}))
	defer srv.Close()
	for _, c := range []struct {
		metric, labels string
		want           float64
		err            string
	}{
		{"consensus_etcdraft_is_leader", `channel="slasa"`, 1, ""},
		{"consensus_etcdraft_is_leader", `channel="other"`, 0, ""},
		{"logger_windows_behind", "", 3.5, ""},
		{"logger_windows_behind", `sla="b"`, 1.5, ""},
		{"up", "", 1, ""},
		{"consensus_etcdraft_is_leader", `channel="none"`, 0, "GET " + srv.URL + `: no sample of consensus_etcdraft_is_leader{channel="none"}`},
	} {
		got, err := MetricValue(srv.URL, c.metric, c.labels)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("MetricValue(%s, %s) error %v, want %s", c.metric, c.labels, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("MetricValue(%s, %s) = %v, %v; want %v", c.metric, c.labels, got, err, c.want)
		}
	}
}

func TestOrdererNode(t *testing.T) {
	if got := OrdererNode(Orderer{Name: "orderer2.example.com"}); got != "orderer2" {
		t.Fatalf("OrdererNode = %q", got)
	}
}
