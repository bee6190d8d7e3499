package logger

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/slasa/slasa/ipfs/cidverify"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

// testSLA returns the example SLA with a billing period of periodSec
// seconds starting at start, 1 s sampling and 10 s sub-intervals.
func testSLA(t *testing.T, start time.Time, periodSec int64) *sla.SLA {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "examples", "aws-ec2-region", "sla.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sla.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	s.ID = "unit-sla"
	s.Interval.BillingCycle = sla.BillingCycle{Unit: sla.CycleSeconds, Seconds: periodSec}
	s.Interval.SubIntervalSeconds = 10
	s.Validity = sla.Validity{Start: start.Format(time.RFC3339), End: start.Add(time.Duration(100*periodSec) * time.Second).Format(time.RFC3339)}
	doc, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if s, err = sla.Parse(doc); err != nil {
		t.Fatal(err)
	}
	return s
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// fakeLedger is an in-memory agreement chaincode for anchors.
type fakeLedger struct {
	mu      sync.Mutex
	anchors map[int64]signedsla.Anchor
	cert    *x509.Certificate
	// now is the transaction time of an anchor (the logger's clock); the
	// chaincode refuses a window that ends after it. nil: no check.
	now func() time.Time
	// failGet and failAnchor make the next calls fail; anchorThenFail
	// makes AnchorLogBatch commit but report an error (a lost reply).
	failGet, failAnchor, anchorThenFail int
	submits                             int
}

func newFakeLedger(cert *x509.Certificate) *fakeLedger {
	return &fakeLedger{anchors: map[int64]signedsla.Anchor{}, cert: cert}
}

func (l *fakeLedger) GetLogBatch(_ context.Context, slaID string, seq int64) (*signedsla.Anchor, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failGet > 0 {
		l.failGet--
		return nil, errors.New("peer unavailable")
	}
	a, ok := l.anchors[seq]
	if !ok {
		return nil, fmt.Errorf("batch %d: %w", seq, ErrNotAnchored)
	}
	return &a, nil
}

func (l *fakeLedger) LastLogBatch(_ context.Context, slaID string) (*signedsla.Anchor, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.anchors[int64(len(l.anchors))]
	if !ok {
		return nil, nil
	}
	return &a, nil
}

func (l *fakeLedger) AnchorLogBatch(_ context.Context, a signedsla.Anchor, sig []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failAnchor > 0 {
		l.failAnchor--
		return errors.New("orderer unavailable")
	}
	// The chaincode's rules: logger signature, window over, consecutive, chained, once.
	if err := signedsla.VerifyAnchor(a, l.cert, sig); err != nil {
		return err
	}
	if l.now != nil {
		end, err := signedsla.ParseInstant(a.PeriodEnd)
		if err != nil {
			return err
		}
		if now := l.now(); end.After(now) {
			return fmt.Errorf("periodEnd: the window ends at %s, after this transaction (%s); a batch is anchored only once its window is over",
				a.PeriodEnd, now.Format(time.RFC3339Nano))
		}
	}
	if _, ok := l.anchors[a.Seq]; ok {
		return fmt.Errorf("batch %d is already anchored", a.Seq)
	}
	if a.Seq > 1 {
		prev, ok := l.anchors[a.Seq-1]
		if !ok || prev.CID != a.PrevCID || prev.PeriodEnd != a.PeriodStart {
			return fmt.Errorf("batch %d does not continue the chain", a.Seq)
		}
	}
	l.submits++
	l.anchors[a.Seq] = a
	if l.anchorThenFail > 0 {
		l.anchorThenFail--
		return errors.New("commit status timeout")
	}
	return nil
}

// fakeStore is an in-memory IPFS node.
type fakeStore struct {
	mu    sync.Mutex
	data  map[string][]byte
	fail  int
	wrong bool
}

func (s *fakeStore) Add(_ context.Context, data []byte) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		return "", errors.New("connection refused")
	}
	c, err := cidverify.Sum(data)
	if err != nil {
		return "", err
	}
	if s.data == nil {
		s.data = map[string][]byte{}
	}
	s.data[c.String()] = append([]byte(nil), data...)
	if s.wrong {
		return "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy", nil
	}
	return c.String(), nil
}

type fakeKeys struct{ priv *rsa.PrivateKey }

func (k fakeKeys) EncryptionKey(context.Context) (*rsa.PublicKey, error) {
	return &k.priv.PublicKey, nil
}

// testIdentity makes a self-signed logger certificate.
func testIdentity(t *testing.T) (Identity, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "logger@providerorg.slasa.local"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return Identity{CertPEM: signedsla.CertificatePEM(cert), Key: key}, cert
}

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

func testRSA(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	rsaOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return rsaKey
}

func sampleLine(t *testing.T, at time.Time, probe, zone string, ok bool) []byte {
	t.Helper()
	line, err := FormatRecord(Sample{Time: at, Probe: probe, Zone: zone, Region: "region-1",
		Measurements: []Measurement{{Name: "ok", Value: b2i(ok), Bool: true}, {Name: "latency_ms", Value: 12}, {Name: "status", Value: 200}}})
	if err != nil {
		t.Fatal(err)
	}
	return line
}
