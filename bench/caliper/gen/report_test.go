package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const summaryHTML = `<table><tr> <th>Name</th> <th>Succ</th> <th>Fail</th> <th>Send Rate (TPS)</th> <th>Max Latency (s)</th>
 <th>Min Latency (s)</th> <th>Avg Latency (s)</th> <th>Throughput (TPS)</th></tr>
<tr> <td>baseline-put</td> <td>1200</td> <td>0</td> <td>66.8</td> <td>0.60</td> <td>0.08</td> <td>0.27</td> <td>65.8</td></tr>
<tr> <td>anchor-log-batch</td> <td>0</td> <td>600</td> <td>93.0</td> <td>-</td> <td>-</td> <td>-</td> <td>92.8</td></tr>
</table>
<table><tr> <th>Name</th> <th>Succ</th></tr><tr> <td>per-round table</td> <td>1</td></tr></table>`

func TestParseSummary(t *testing.T) {
	tests := []struct {
		name    string
		html    string
		want    []RoundResult
		wantErr string
	}{
		{
			name: "summary table only",
			html: summaryHTML,
			want: []RoundResult{
				{Label: "baseline-put", Succ: 1200, SendTPS: 66.8, MaxLatency: "0.60", MinLatency: "0.08", AvgLatency: "0.27", TPS: 65.8},
				{Label: "anchor-log-batch", Fail: 600, SendTPS: 93.0, MaxLatency: "-", MinLatency: "-", AvgLatency: "-", TPS: 92.8},
			},
		},
		{name: "no table", html: "<html></html>", wantErr: "no summary table"},
		{name: "bad count", html: strings.Replace(summaryHTML, "<td>1200</td>", "<td>many</td>", 1), wantErr: "Succ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSummary([]byte(tt.html))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d rounds %+v, want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("round %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestReplaceSection(t *testing.T) {
	section := beginMarker + "\nnew\n" + endMarker + "\n"
	tests := []struct {
		name, old, want string
	}{
		{"no file", "", "\n" + section},
		{"no markers", "# head\n", "# head\n\n" + section},
		{"markers", "# head\n" + beginMarker + "\nold\n" + endMarker + "\ntail\n", "# head\n" + beginMarker + "\nnew\n" + endMarker + "\ntail\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "RESULTS.md")
			if tt.old != "" {
				if err := os.WriteFile(path, []byte(tt.old), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := replaceSection(path, section); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUsageIn(t *testing.T) {
	samples := []Sample{
		{Process: "peer-provider", AtMS: 1000, CPUTicks: 100, RSSKB: 1024},
		{Process: "peer-provider", AtMS: 3000, CPUTicks: 200, RSSKB: 4096},
		{Process: "orderer1", AtMS: 2000, CPUTicks: 5, RSSKB: 10},
	}
	tests := []struct {
		proc   string
		w      window
		cpuPct float64
		rssMB  float64
		ok     bool
	}{
		{"peer-provider", window{StartMS: 1000, EndMS: 3000}, 50, 4, true}, // 1 s of CPU over 2 s
		{"orderer1", window{StartMS: 1000, EndMS: 3000}, 0, 0, false},      // one sample: no rate
		{"peer-client", window{StartMS: 1000, EndMS: 3000}, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.proc, func(t *testing.T) {
			u := usageIn(samples, tt.proc, tt.w)
			if u.ok != tt.ok || u.cpuPct != tt.cpuPct || u.rssMB != tt.rssMB {
				t.Fatalf("got %+v, want cpu %v rss %v ok %v", u, tt.cpuPct, tt.rssMB, tt.ok)
			}
		})
	}
}

func TestReadProc(t *testing.T) {
	ticks, rss, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if ticks < 0 || rss <= 0 {
		t.Fatalf("ticks %d, rss %d KiB", ticks, rss)
	}
}
