//go:build integration

package attack

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/test/harness"
	"github.com/slasa/slasa/verdict"
)

// testSLA is one of the suite's SLAs: the AWS-style example with 30-second
// billing periods from start, between the network's provider and client.
type testSLA struct {
	id      string
	start   time.Time
	doc     string
	digest  [32]byte
	lastCID string // CID of the last batch anchored
}

func newSLA(t *testing.T, prefix string, start time.Time) *testSLA {
	t.Helper()
	s := harness.ExampleSLA(t, "aws-ec2-region", fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()))
	harness.ShortPeriods(s, start, 24*time.Hour, period*time.Second)
	doc, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := sla.DigestOf(doc)
	if err != nil {
		t.Fatalf("test SLA: %v", err)
	}
	return &testSLA{id: s.ID, start: start, doc: string(doc), digest: d}
}

func (s *testSLA) propose(t *testing.T) {
	t.Helper()
	mustSLA(t, provider, s, true, "ProposeSLA", nw.SignB64(t, provider, s.digest[:]))
	w.slas = append(w.slas, s.id)
}

// accept accepts before the first period starts: it pays that period.
func (s *testSLA) accept(t *testing.T) {
	t.Helper()
	if !time.Now().Before(s.start) {
		t.Fatalf("accepting %s at %s, after its first period started (%s)", s.id, rfc(time.Now()), rfc(s.start))
	}
	mustSLA(t, client, s, true, "AcceptSLA", s.id, hex.EncodeToString(s.digest[:]), nw.SignB64(t, client, s.digest[:]))
	w.escrows = append(w.escrows, [2]string{s.id, rfc(s.start)})
}

// verdict is a verdict on the period starting at from, violated (30 %
// credit), naming batch seq with cid as the period's last batch, signed by
// key. The key's enclave id is the one the verdict names.
func (s *testSLA) verdict(t *testing.T, key *ecdsa.PrivateKey, from time.Time, seq int64, cid string) string {
	t.Helper()
	id, err := verdict.EnclaveIDOf(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return s.verdictAs(t, key, id, from, seq, cid)
}

// verdictAs is verdict naming enclave id, whatever key signs it.
func (s *testSLA) verdictAs(t *testing.T, key *ecdsa.PrivateKey, id string, from time.Time, seq int64, cid string) string {
	t.Helper()
	v := verdict.Verdict{
		SLAID: s.id, SLADigest: hex.EncodeToString(s.digest[:]), Period: rfc(from), PeriodEnd: rfc(from.Add(period * time.Second)),
		Violated: true, CreditBPS: 3000, CreditAmount: fee * 3000 / 10000, Currency: "USD",
		ReportDigest: strings.Repeat("ab", 32), BatchSeq: seq, BatchCID: cid, Chaincode: "slaenclave", EnclaveID: id,
	}
	if err := v.Validate(); err != nil {
		t.Fatal(err)
	}
	msg, err := v.SigningBytes()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(msg)
	sig, err := ecdsa.SignASN1(randReader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(verdict.Signed{Verdict: v, Signature: sig})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// anchor anchors batch seq of the SLA, window [from, to), as its logger.
func (s *testSLA) anchor(t *testing.T, seq int64, cid string, from, to time.Time) {
	t.Helper()
	if err := s.anchorErr(t, seq, cid, from, to); err != nil {
		t.Fatalf("AnchorLogBatch %s #%d: %v", s.id, seq, err)
	}
	s.lastCID = cid
}

func (s *testSLA) anchorErr(t *testing.T, seq int64, cid string, from, to time.Time) error {
	t.Helper()
	prev := ""
	if seq > 1 {
		prev = s.lastCID
	}
	a := signedsla.Anchor{SLAID: s.id, Seq: seq, CID: cid, PrevCID: prev, PeriodStart: rfc(from), PeriodEnd: rfc(to)}
	sum := sha256.Sum256(a.SigningBytes())
	_, err := nw.SubmitSLA(logger, "AnchorLogBatch", []byte(s.doc), false, a.SLAID, fmt.Sprint(seq), cid, prev, a.PeriodStart, a.PeriodEnd, nw.SignB64(t, logger, sum[:]))
	return err
}

// cidOf is a well-formed content identifier for label (the refund chaincode
// compares it with the anchored one; nothing fetches it).
func cidOf(label string) string {
	sum := sha256.Sum256([]byte(label))
	return "bafkrei" + hex.EncodeToString(sum[:])[:52]
}
