//go:build integration

package consortium

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/logbatch"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/test/harness"
)

const (
	fee     = 100000
	minted  = 1000000
	periodS = 30 // seconds per billing period
	// One second of 30 down in two zones: 29/30 of 100 % = 290/3 = 96.6666 %, worse than the
	// second tier's threshold (97.xxxx): 2500 bps of the fee.
	creditBPS = 2500
	credit    = fee * creditBPS / 10000
	wantExact = "290/3"
	wantValue = "96.6666"
)

// marker returns prefix followed by 20 random base32 letters and digits: a string found nowhere
// unless this run wrote it.
func marker(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 15)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + base32.StdEncoding.EncodeToString(b)[:20]
}

// decimalMarker returns "<whole>.dddd" with four random digits 1000..9999.
func decimalMarker(t *testing.T, whole int) string {
	t.Helper()
	n, err := rand.Int(rand.Reader, big.NewInt(9000))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d.%d", whole, 1000+n.Int64())
}

// TestOutsiderLearnsNoTerms: an SLA between ProviderOrg and ClientOrg runs through the real
// pipeline until a period is settled; OtherOrg, a channel member with a peer of its own, then reads
// every block of the channel from its peer, its peer's state and its peer's files, and finds none of
// the terms (markers planted in free-text fields and thresholds, the nonce, the document), none of
// the metric values of the verdict's report, and no log line (a marker planted in every line). The
// same scans find the terms in ClientOrg's own peer's files and the SLA in OtherOrg's blocks, so a
// scanner that cannot see is detected. The fee is not a marker: escrow amounts are public (README,
// trust model).
func TestOutsiderLearnsNoTerms(t *testing.T) {
	if o := nw.Info.Orgs["other"]; o.GatewayOf != "" || o.MSPID != "OtherOrgMSP" {
		t.Fatalf("OtherOrg must have a peer of its own (SLASA_ORGS=4): %+v", o)
	}
	run := nw.RunDir()
	bins := harness.BuildCommands(t, "cloud-logger", "slasa-monitor")
	work := t.TempDir()

	nw.MustSubmit(t, "client", "refund", "OpenAccount", "client")
	nw.MustSubmit(t, "provider", "refund", "OpenAccount", "provider")
	nw.MustSubmit(t, "issuer", "refund", "Mint", "client", strconv.Itoa(minted))

	// The SLA, with markers in its terms.
	terms := map[string]string{
		"title":              marker(t, "TITLE"),
		"service name":       marker(t, "SVCNAME"),
		"service desc":       marker(t, "SVCDESC"),
		"metric name":        marker(t, "METRICNAME"),
		"metric description": marker(t, "METRICDESC"),
		"region":             marker(t, "REGION"),
		"objective target":   decimalMarker(t, 99),
		"tier threshold":     decimalMarker(t, 97),
	}
	logMarker := marker(t, "LOGLINE")
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join(root, "examples", "aws-ec2-region", "sla.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sla.Parse(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	// Periods start on a 10-second boundary 20 to 30 s from now: the SLA is accepted before its
	// first period starts (AcceptSLA pays the first period that has not started).
	M := time.Now().UTC().Truncate(10 * time.Second).Add(30 * time.Second)
	id := fmt.Sprintf("outsider-%d", time.Now().UnixNano())
	s.ID = id
	if s.Nonce, err = sla.NewNonce(); err != nil {
		t.Fatal(err)
	}
	s.Title = "Compute region " + terms["title"]
	s.Service.Name = "Instances " + terms["service name"]
	s.Service.Description = "Instances in two or more zones; " + terms["service desc"]
	s.Validity = sla.Validity{Start: M.Format(time.RFC3339), End: M.Add(time.Hour).Format(time.RFC3339)}
	s.Interval.BillingCycle = sla.BillingCycle{Unit: sla.CycleSeconds, Seconds: periodS}
	s.Interval.SubIntervalSeconds = 1
	for i := range s.Monitoring.Zones {
		s.Monitoring.Zones[i].Region = terms["region"]
	}
	m := &s.Metrics[0]
	m.Name = "Uptime " + terms["metric name"]
	m.Description = "Seconds down in two zones; " + terms["metric description"]
	m.Objective.Target = terms["objective target"]
	s.Consequences.CreditTiers = []sla.CreditTier{
		{Metric: m.ID, WorseThan: terms["objective target"], CreditBPS: 1000},
		{Metric: m.ID, WorseThan: terms["tier threshold"], CreditBPS: creditBPS},
	}
	s.Price.AmountMinor = fee
	doc, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := sla.DigestOf(doc)
	if err != nil {
		t.Fatalf("the test's SLA: %v", err)
	}
	digest := fmt.Sprintf("%x", d[:])
	nw.MustProposeSLA(t, "provider", doc, nw.SignB64(t, "provider", d[:]))
	nw.MustAcceptSLA(t, "client", doc, id, digest, nw.SignB64(t, "client", d[:]))

	// The paid period: the first one that had not started at the acceptance.
	var rec struct {
		LastPeriod string `json:"last_period"`
	}
	if err := json.Unmarshal(nw.MustGetSLA(t, "client", id), &rec); err != nil {
		t.Fatal(err)
	}
	P, err := time.Parse(time.RFC3339, rec.LastPeriod)
	if err != nil {
		t.Fatalf("accepted SLA: last_period %q: %v", rec.LastPeriod, err)
	}
	period := rec.LastPeriod

	// The logger probes three zones with probes whose names carry the log marker; the monitor (the
	// client's) registers the SLA in the enclave, ingests the batches, evaluates and settles.
	svc := newService(t)
	svc.outage(P.Add(20*time.Second), "zone-a", "zone-b")
	probes := []string{}
	for _, z := range []string{"a", "b", "c"} {
		probes = append(probes, "-probe", fmt.Sprintf("probe-%s-%s,zone-%s,%s/zone-%s", z, logMarker, z, svc.url, z))
	}
	lg := startProc(t, "cloud-logger", filepath.Join(work, "logger.log"), filepath.Join(bins, "cloud-logger"), append([]string{
		"-network-dir", run, "-identity", "logger", "-sla", id, "-state-dir", filepath.Join(work, "logger"),
		"-window", "10s", "-cut-delay", "3s", "-probe-timeout", "2s", "-ipfs-api-file", filepath.Join(run, "ipfs", "api"),
		"-backoff-min", "300ms", "-backoff-max", "3s"}, probes...)...)
	mon := startProc(t, "slasa-monitor", filepath.Join(work, "monitor.log"), filepath.Join(bins, "slasa-monitor"),
		"-network-dir", run, "-identity", "client", "-state-dir", filepath.Join(work, "monitor"), "-poll", "2s",
		"-backoff-min", "500ms", "-backoff-max", "4s", "-listen", "")
	t.Logf("SLA %s: period %s, outage at second 20 in zones a and b", id, period)

	esc := waitSettled(t, id, period, time.Until(P)+periodS*time.Second+3*time.Minute)
	if s := esc.Settlement; s == nil || !s.Violated || s.CreditBPS != creditBPS || s.Credit != credit {
		t.Fatalf("settlement %+v, want violated, %d bps, credit %d", esc.Settlement, creditBPS, credit)
	}
	// The report, as the client reads it (decrypted for the requester).
	out, err := nw.CLI("verdict", "show", id, period, "--json", "--as", "client")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Report struct {
			Metrics []struct {
				Value     string `json:"value"`
				Exact     string `json:"exact"`
				Objective string `json:"objective"`
			} `json:"metrics"`
		} `json:"report"`
		Verified string `json:"verified"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("verdict show: %v\n%s", err, out)
	}
	if len(v.Report.Metrics) != 1 || v.Report.Metrics[0].Exact != wantExact || v.Report.Metrics[0].Value != wantValue ||
		v.Report.Metrics[0].Objective != ">= "+terms["objective target"] {
		t.Fatalf("report metrics %+v, want exactly %s (%s %%) against >= %s", v.Report.Metrics, wantExact, wantValue, terms["objective target"])
	}
	if !strings.Contains(v.Verified, "enclave signature valid") {
		t.Errorf("verdict show did not verify the enclave signature: %q", v.Verified)
	}
	// Nothing more is written while OtherOrg looks.
	lg.stop()
	mon.stop()

	// The log lines: every anchored batch of the SLA, opened with the (simulated) enclave's sealed
	// key, as only the enclave can.
	lines := logLines(t, id)
	if len(lines) < 3*periodS {
		t.Fatalf("%d log lines in the anchored batches, want at least %d", len(lines), 3*periodS)
	}
	for _, l := range lines {
		if !bytes.Contains(l, []byte(logMarker)) {
			t.Fatalf("log line without the log marker: %s", l)
		}
	}

	secrets := []secret{{"the SLA document", doc}, {"the nonce", []byte(s.Nonce)}, {"the log marker", []byte(logMarker)}}
	names := make([]string, 0, len(terms))
	for k := range terms {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		secrets = append(secrets, secret{"the " + k + " marker " + terms[k], []byte(terms[k])})
	}
	for _, mv := range v.Report.Metrics {
		secrets = append(secrets, secret{"the report's value " + mv.Value, []byte(mv.Value)}, secret{"the report's exact value " + mv.Exact, []byte(mv.Exact)})
	}
	// The same, base64 (as JSON carries bytes) or hex encoded; every log line carries the log marker.
	secrets = append(secrets, encoded(secrets)...)
	for i, l := range lines {
		secrets = append(secrets, secret{fmt.Sprintf("log line %d", i+1), l})
	}

	// (a) Every block of the channel, from OtherOrg's own peer, as an OtherOrg client.
	blocks := fetchBlocks(t, "other")
	inBlocks := blockHaystacks(t, blocks)
	var blockBytes int
	for _, h := range inBlocks {
		blockBytes += len(h.data)
	}
	if found := find(secrets, inBlocks); len(found) > 0 {
		t.Errorf("OtherOrg's blocks give away:\n%s", strings.Join(found, "\n"))
	}
	// Control: the blocks do hold the SLA's public traces, so the scan sees the SLA's transactions.
	public := []secret{{"the SLA id", []byte(id)}, {"the digest", []byte(digest)}}
	if got := foundSecrets(public, inBlocks); len(got) != len(public) {
		t.Fatalf("control: OtherOrg's %d blocks hold %v of the SLA's id and digest; the block scan sees nothing", len(blocks), got)
	}
	t.Logf("OtherOrg read %d blocks (%d bytes) from its own peer: none of %d secrets", len(blocks), blockBytes, len(secrets))

	// The public record OtherOrg reads in those blocks: what the trust model says is public, no term.
	txs := decodeTxs(t, blocks)
	raw, ok := committedValue(txs, "agreement", compositeKey("sla", id))
	if !ok {
		t.Fatalf("OtherOrg's blocks hold no record of SLA %s", id)
	}
	checkPublicRecord(t, raw, id, digest)
	// The terms went into the two parties' implicit collections only (hashed writes in the block),
	// endorsed by exactly the two parties. (The lifecycle's approvals write each organization's own
	// implicit collection of _lifecycle.)
	for _, tx := range txs {
		terms := false
		for c := range tx.Collections {
			switch {
			case strings.HasPrefix(c, "_lifecycle/"):
			case c == "agreement/_implicit_org_ProviderOrgMSP", c == "agreement/_implicit_org_ClientOrgMSP":
				terms = true
			default:
				t.Errorf("transaction %s writes private data of %s", tx.TxID, c)
			}
		}
		if terms && tx.Code == peer.TxValidationCode_VALID && strings.Join(tx.Endorsers, ",") != "ClientOrgMSP,ProviderOrgMSP" {
			t.Errorf("transaction %s writes the terms, endorsed by %v", tx.TxID, tx.Endorsers)
		}
	}

	// (b) OtherOrg's peer's state: the agreement chaincode refuses OtherOrg's members, through
	// OtherOrg's own peer.
	for _, who := range []string{"other", "other-admin"} {
		_, err := nw.GetSLA(who, id)
		want := fmt.Sprintf("SLA %q is readable by ProviderOrgMSP and ClientOrgMSP only, not by OtherOrgMSP", id)
		if err == nil || !strings.Contains(fabnet.ErrorText(err), want) {
			t.Errorf("GetSLA as %s: %v, want the refusal %q", who, err, want)
		}
		_, err = nw.MustContract(t, who, "refund").EvaluateTransaction("GetEscrow", id, period)
		want = fmt.Sprintf("escrow of SLA %q is readable by ProviderOrgMSP and ClientOrgMSP only, not by OtherOrgMSP", id)
		if err == nil || !strings.Contains(fabnet.ErrorText(err), want) {
			t.Errorf("GetEscrow as %s: %v, want the refusal %q", who, err, want)
		}
	}
	// Control: the client reads the terms with the same call.
	var view struct {
		Signed struct {
			Document []byte `json:"document"`
		} `json:"signed"`
	}
	if err := json.Unmarshal(nw.MustGetSLA(t, "client", id), &view); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(view.Signed.Document, doc) || !bytes.Contains(view.Signed.Document, []byte(terms["title"])) {
		t.Fatalf("control: GetSLA as the client returns the document %q, want the proposed one", view.Signed.Document)
	}

	// OtherOrg's peer's files (ledger: blocks, state, private data, transient store, history) and
	// the logs of its peer and chaincode servers.
	otherFiles := []string{filepath.Join(run, "peers", "other"), filepath.Join(run, "logs", "peer-other.log")}
	for _, cc := range []string{"agreement", "refund", "ercc", "slaenclave"} {
		srv, err := nw.Server(cc, "other")
		if err != nil {
			t.Fatal(err)
		}
		otherFiles = append(otherFiles, srv.Log)
	}
	onDisk, size := fileHaystacks(t, otherFiles...)
	if found := find(secrets, onDisk); len(found) > 0 {
		t.Errorf("OtherOrg's peer's files give away:\n%s", strings.Join(found, "\n"))
	}
	t.Logf("OtherOrg's peer's files: %d files, %d bytes: none of %d secrets", len(onDisk), size, len(secrets))
	// Control: the same scan of ClientOrg's peer's files finds every term (its private data).
	clientDisk, _ := fileHaystacks(t, filepath.Join(run, "peers", "client"))
	termSecrets := []secret{{"the nonce", []byte(s.Nonce)}}
	for _, k := range names {
		termSecrets = append(termSecrets, secret{"the " + k + " marker " + terms[k], []byte(terms[k])})
	}
	if got := foundSecrets(termSecrets, clientDisk); len(got) != len(termSecrets) {
		t.Fatalf("control: ClientOrg's peer's files hold %d of the %d terms (%v); the file scan cannot see", len(got), len(termSecrets), got)
	}
}

// encoded returns the base64 forms (standard alphabet, at each of the three alignments in a longer
// encoded text: the characters that depend on the secret's bytes only) and the hex form of each
// secret.
func encoded(secrets []secret) []secret {
	var out []secret
	for _, s := range secrets {
		for k := 0; k < 3; k++ {
			enc := base64.StdEncoding.EncodeToString(append(make([]byte, k), s.value...))
			from, to := 4*((k+2)/3), 4*((k+len(s.value))/3)
			if to-from >= 8 {
				out = append(out, secret{fmt.Sprintf("%s (base64, offset %d)", s.name, k), []byte(enc[from:to])})
			}
		}
		out = append(out, secret{s.name + " (hex)", []byte(hex.EncodeToString(s.value))})
	}
	return out
}

// checkPublicRecord checks the SLA record as it is in the blocks: its id, parties, status and digest
// (the trust model's public record), and none of the document's fields.
func checkPublicRecord(t *testing.T, raw []byte, id, digest string) {
	t.Helper()
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatalf("SLA record in the blocks: %v\n%s", err, raw)
	}
	var pub struct {
		ID      string `json:"id"`
		Status  string `json:"status"`
		Digest  string `json:"digest"`
		Parties struct {
			Provider struct {
				MSPID string `json:"msp_id"`
			} `json:"provider"`
			Client struct {
				MSPID string `json:"msp_id"`
			} `json:"client"`
		} `json:"parties"`
	}
	if err := json.Unmarshal(raw, &pub); err != nil {
		t.Fatal(err)
	}
	if pub.ID != id || pub.Status != "ACTIVE" || pub.Digest != digest ||
		pub.Parties.Provider.MSPID != "ProviderOrgMSP" || pub.Parties.Client.MSPID != "ClientOrgMSP" {
		t.Errorf("public record: id %q status %q digest %q parties %+v; want %s ACTIVE %s ProviderOrgMSP/ClientOrgMSP", pub.ID, pub.Status, pub.Digest, pub.Parties, id, digest)
	}
	for _, f := range []string{"nonce", "title", "service", "price", "interval", "monitoring", "metrics", "consequences", "document"} {
		if _, ok := rec[f]; ok {
			t.Errorf("the public record carries the term %q:\n%s", f, raw)
		}
	}
	for _, f := range []string{"id", "parties", "status", "digest"} {
		if _, ok := rec[f]; !ok {
			t.Errorf("the public record lacks %q:\n%s", f, raw)
		}
	}
}

type escrowT struct {
	Status     string `json:"status"`
	Settlement *struct {
		Violated  bool  `json:"violated"`
		CreditBPS int64 `json:"credit_bps"`
		Credit    int64 `json:"credit"`
	} `json:"settlement"`
}

// waitSettled waits until the escrow of the SLA's period is settled (read as the client).
func waitSettled(t *testing.T, id, period string, timeout time.Duration) escrowT {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out, err := nw.MustContract(t, "client", "refund").EvaluateTransaction("GetEscrow", id, period)
		if err != nil {
			t.Fatalf("GetEscrow %s %s: %s", id, period, fabnet.ErrorText(err))
		}
		var e escrowT
		if err := json.Unmarshal(out, &e); err != nil {
			t.Fatal(err)
		}
		if e.Status == "SETTLED" {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("period %s of %s not settled within %s (escrow %s)", period, id, timeout, e.Status)
		}
		time.Sleep(2 * time.Second)
	}
}

// logLines returns every record line of the SLA's anchored batches, fetched through the network's
// shim and opened with the enclave's sealed keys.
func logLines(t *testing.T, id string) [][]byte {
	t.Helper()
	keys := sealedEnclaveKeys(t)
	shim, err := os.ReadFile(filepath.Join(nw.RunDir(), "shim-url"))
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	for _, a := range anchors(t, id) {
		resp, err := http.Get(strings.TrimSpace(string(shim)) + "/v1/batches/" + a.CID)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("batch %d (%s): %d %v", a.Seq, a.CID, resp.StatusCode, err)
		}
		b, _, err := logbatch.Parse(raw)
		if err != nil {
			t.Fatalf("batch %d: %v", a.Seq, err)
		}
		ek, ok := keys[b.Header.RecipientKeyID]
		if !ok {
			t.Fatalf("batch %d is encrypted to key %s, no enclave's sealed key", a.Seq, b.Header.RecipientKeyID)
		}
		opened, err := logbatch.Open(raw, ek)
		if err != nil {
			t.Fatalf("batch %d: %v", a.Seq, err)
		}
		for _, l := range bytes.Split(opened.Records, []byte("\n")) {
			if len(l) > 0 {
				lines = append(lines, l)
			}
		}
	}
	return lines
}

// anchors lists the anchored batches of an SLA (as the provider).
func anchors(t *testing.T, id string) []signedsla.Anchor {
	t.Helper()
	var out []signedsla.Anchor
	for bookmark := ""; ; {
		raw := nw.MustEvaluate(t, "provider", "agreement", "ListLogBatches", id, "100", bookmark)
		var page struct {
			Records []struct {
				signedsla.Anchor
			} `json:"records"`
			Bookmark string `json:"bookmark"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Records {
			out = append(out, r.Anchor)
		}
		if page.Bookmark == "" || len(page.Records) == 0 {
			break
		}
		bookmark = page.Bookmark
	}
	return out
}

// sealedEnclaveKeys returns the chaincode decryption keys the SIMULATED enclaves sealed in their
// organizations' folders (network/deploy.sh: $RUN/orgs/<org>/enclave/<chaincode>-keys.json), by
// recipient key id.
func sealedEnclaveKeys(t *testing.T) map[string]*rsa.PrivateKey {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(nw.RunDir(), "orgs", "*", "enclave", "*-keys.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sealed enclave keys: %v", err)
	}
	out := map[string]*rsa.PrivateKey{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var sealed struct {
			ChaincodeKey []byte `json:"chaincode_key"`
		}
		if err := json.Unmarshal(data, &sealed); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		k, err := x509.ParsePKCS8PrivateKey(sealed.ChaincodeKey)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			t.Fatalf("%s: not an RSA key", f)
		}
		kid, err := logbatch.KeyID(&rk.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		out[kid] = rk
	}
	return out
}
