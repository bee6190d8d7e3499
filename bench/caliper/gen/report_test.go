package main

import (
	"os"
	"path/filepath"
	"strconv"
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

// summaryOf writes a Caliper summary table with the given rounds' TPS.
func summaryOf(tps map[string]float64, fail map[string]int) string {
	var b strings.Builder
	b.WriteString(`<table><tr><th>Name</th><th>Succ</th><th>Fail</th><th>Send Rate (TPS)</th><th>Max Latency (s)</th><th>Min Latency (s)</th><th>Avg Latency (s)</th><th>Throughput (TPS)</th></tr>`)
	for _, l := range []string{roundWarmup, roundBaselinePut, roundBaselineGet, roundPropose, roundAccept, roundAnchor, roundSettle, roundSettleShared, roundGetSLA, roundCreateTicket, roundUpdateTicket, roundClaimExpired} {
		if v, ok := tps[l]; ok {
			b.WriteString("<tr><td>" + l + "</td><td>100</td><td>" + strconv.Itoa(fail[l]) + "</td><td>1</td><td>1</td><td>1</td><td>1</td><td>" + strconv.FormatFloat(v, 'f', 1, 64) + "</td></tr>")
		}
	}
	return b.String() + "</table>"
}

func TestReportSharedProvider(t *testing.T) {
	all := map[string]float64{roundWarmup: 50, roundBaselinePut: 100, roundBaselineGet: 200, roundPropose: 60, roundAccept: 60,
		roundAnchor: 90, roundSettle: 70, roundSettleShared: 85, roundGetSLA: 150, roundCreateTicket: 75, roundUpdateTicket: 65, roundClaimExpired: 66}
	run := func(tps map[string]float64, fail map[string]int, peerLog string) (string, error) {
		dir, runDir := t.TempDir(), t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "report.html"), []byte(summaryOf(tps, fail)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(runDir, "logs"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(runDir, "logs", "peer-vendor.log"), []byte(peerLog), 0o644); err != nil {
			t.Fatal(err)
		}
		results := filepath.Join(dir, "RESULTS.md")
		err := runReport([]string{"-dir", dir, "-run-dir", runDir, "-results", results})
		md, _ := os.ReadFile(results)
		return string(md), err
	}
	md, err := run(all, nil, "")
	if err != nil || !strings.Contains(md, "| SettleVerdict, every SLA of one provider and one client wallet | 85.0 | 85 | >= 80 % | met |") {
		t.Fatalf("%v\n%s", err, md)
	}
	for _, row := range []string{
		"| CreateTicket, every ticket of one SLA at once (customer's and provider's peers) | 75.0 | 75 | >= 70 % | met |",
		"| UpdateTicket, every ticket of one SLA at once (the vendor; three organizations' peers) | 65.0 | 65 | >= 70 % | MISSED |",
		"| ClaimExpiredEscrow after the verdict deadline (a provider and a client wallet per SLA, half of the fee to each) | 66.0 | 66 | | |",
		"No earlier run is recorded in this section: nothing to compare with.",
	} {
		if !strings.Contains(md, row) {
			t.Fatalf("no row %q in\n%s", row, md)
		}
	}
	slow := map[string]float64{}
	for k, v := range all {
		slow[k] = v
	}
	slow[roundSettleShared] = 61
	if md, _ := run(slow, nil, ""); !strings.Contains(md, "| 61.0 | 61 | >= 80 % | MISSED |") {
		t.Fatal(md)
	}
	if _, err := run(all, map[string]int{roundSettleShared: 3}, ""); err == nil || !strings.Contains(err.Error(), "round settle-shared-provider: 3 transactions failed") {
		t.Fatalf("failures: %v", err)
	}
	if _, err := run(all, nil, "... PHANTOM_READ_CONFLICT ...\n"); err == nil || !strings.Contains(err.Error(), "MVCC and phantom read conflicts: 0 in Caliper's log, 1 in the peer logs") {
		t.Fatalf("conflicts: %v", err)
	}
	delete(slow, roundSettleShared)
	if _, err := run(slow, nil, ""); err == nil || !strings.Contains(err.Error(), "round settle-shared-provider is missing from the report") {
		t.Fatalf("missing round: %v", err)
	}
	delete(all, roundUpdateTicket)
	if _, err := run(all, nil, ""); err == nil || !strings.Contains(err.Error(), "round update-ticket is missing from the report") {
		t.Fatalf("missing ticket round: %v", err)
	}
	delete(slow, roundClaimExpired)
	slow[roundSettleShared] = 85
	if _, err := run(slow, nil, ""); err == nil || !strings.Contains(err.Error(), "round claim-expired is missing from the report") {
		t.Fatalf("missing claim-expired round: %v", err)
	}
}

// TestReadRecorded reads the run recorded in the project's RESULTS.md: the
// rounds' table only.
func TestReadRecorded(t *testing.T) {
	r, err := readRecorded(filepath.Join("..", "..", "RESULTS.md"))
	if err != nil {
		t.Fatal(err)
	}
	if r == nil || r.When == "" || r.TPS[roundBaselinePut] <= 0 || r.TPS[roundSettle] <= 0 || r.TPS[roundSettleShared] <= 0 || r.Avg[roundSettle] == "" {
		t.Fatalf("bench/RESULTS.md: recorded run %+v", r)
	}
	if _, ok := r.TPS["baseline Put (1 key per transaction)"]; ok {
		t.Fatalf("read the ratios table: %+v", r.TPS)
	}
	if r, err := readRecorded(filepath.Join(t.TempDir(), "none.md")); r != nil || err != nil {
		t.Fatalf("no file: %+v, %v", r, err)
	}
}

// TestReportSettleDrift: a second report on the same RESULTS.md prints the
// settlement of the first next to its own, and says NO when the ratio to
// the baseline Put fell by more than 10 %.
func TestReportSettleDrift(t *testing.T) {
	results := filepath.Join(t.TempDir(), "RESULTS.md")
	report := func(tps map[string]float64) string {
		t.Helper()
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "report.html"), []byte(summaryOf(tps, nil)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := runReport([]string{"-dir", dir, "-results", results}); err != nil && !strings.Contains(err.Error(), "is missing from the report") {
			t.Fatal(err)
		}
		md, err := os.ReadFile(results)
		if err != nil {
			t.Fatal(err)
		}
		return string(md)
	}
	tps := map[string]float64{roundWarmup: 50, roundBaselinePut: 100, roundBaselineGet: 200, roundPropose: 60, roundAccept: 60,
		roundAnchor: 90, roundSettle: 60, roundSettleShared: 50, roundGetSLA: 150, roundCreateTicket: 75, roundUpdateTicket: 65, roundClaimExpired: 66}
	report(tps)
	// Same ratios on a machine twice as fast; then the shared settlement
	// 12 % lower against Put, the other 5 % lower.
	for k, v := range tps {
		tps[k] = 2 * v
	}
	md := report(tps)
	for _, row := range []string{
		"| baseline-put | 100.0, 100 %, 1 | 200.0, 100 %, 1 | +100 % | +0 % | (the reference) |",
		"| settle-verdict | 60.0, 60 %, 1 | 120.0, 60 %, 1 | +100 % | +0 % | yes |",
		"| settle-shared-provider | 50.0, 50 %, 1 | 100.0, 50 %, 1 | +100 % | +0 % | yes |",
	} {
		if !strings.Contains(md, row) {
			t.Fatalf("no row %q in\n%s", row, md)
		}
	}
	tps[roundSettle], tps[roundSettleShared] = 114, 88
	md = report(tps)
	for _, row := range []string{
		"| settle-verdict | 120.0, 60 %, 1 | 114.0, 57 %, 1 | -5 % | -5 % | yes |",
		"| settle-shared-provider | 100.0, 50 %, 1 | 88.0, 44 %, 1 | -12 % | -12 % | NO |",
	} {
		if !strings.Contains(md, row) {
			t.Fatalf("no row %q in\n%s", row, md)
		}
	}
	delete(tps, roundSettleShared)
	if md = report(tps); !strings.Contains(md, "| settle-shared-provider | 88.0, 44 %, 1 | not in this run | | | |") {
		t.Fatalf("a missing round:\n%s", md)
	}
	if strings.Count(md, beginMarker) != 1 {
		t.Fatalf("sections:\n%s", md)
	}
}

func TestBenchmarkHasSharedProviderRound(t *testing.T) {
	b := caliperBenchmark(prepareFlags{slas: 40, batches: 3, workers: 2, load: 4}, "/out")
	rounds := b["test"].(map[string]any)["rounds"].([]any)
	for _, r := range rounds {
		m := r.(map[string]any)
		if m["label"] == roundSettleShared {
			w := m["workload"].(map[string]any)
			if m["txNumber"] != 40 || w["module"] != "workloads/settleshared.js" || w["arguments"].(map[string]any)["settle"] != "/out/settle.json" {
				t.Fatalf("round %+v", m)
			}
			return
		}
	}
	t.Fatal("no settle-shared-provider round")
}

func TestBenchmarkHasTicketRounds(t *testing.T) {
	b := caliperBenchmark(prepareFlags{slas: 40, batches: 3, workers: 2, load: 4}, "/out")
	rounds := b["test"].(map[string]any)["rounds"].([]any)
	var got []string
	for _, r := range rounds {
		m := r.(map[string]any)
		w := m["workload"].(map[string]any)
		switch m["label"] {
		case roundCreateTicket:
			if m["txNumber"] != 40 || w["module"] != "workloads/createticket.js" {
				t.Fatalf("round %+v", m)
			}
		case roundUpdateTicket:
			a := w["arguments"].(map[string]any)
			if m["txNumber"] != 40 || w["module"] != "workloads/updateticket.js" || a["tickets"] != "/out/tickets.json" ||
				a["ticketsWanted"] != "/out/tickets.wanted" || a["ticketsError"] != "/out/tickets.error" {
				t.Fatalf("round %+v", m)
			}
		default:
			continue
		}
		got = append(got, m["label"].(string))
	}
	if strings.Join(got, ",") != "create-ticket,update-ticket" {
		t.Fatalf("ticket rounds %v, want create-ticket then update-ticket", got)
	}
}
