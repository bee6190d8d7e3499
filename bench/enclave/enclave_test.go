package enclave

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/slasa/slasa/driver"
	"github.com/slasa/slasa/ipfs/cidverify"
	"github.com/slasa/slasa/ipfs/kubotest"
	"github.com/slasa/slasa/logbatch"
	"github.com/slasa/slasa/logs"
	shimtunnel "github.com/slasa/slasa/shim-tunnel"
	"github.com/slasa/slasa/shim-tunnel/shimclient"
	"github.com/slasa/slasa/sla"
)

// batchSamples is the number of log records in the benchmarked batch.
const batchSamples = 10_000

// encryptionKeyBits is the size of the chaincode encryption key, as
// fpc/runtime's simulated enclave generates it.
const encryptionKeyBits = 3072

// fixture is one sealed batch of batchSamples records of the example SLA
// (three zones, one probe each, one sample per second), the keys to open it
// and the logger's CA to chain its certificate to; prior is the period's
// stored aggregate before the batch (nil for the period's first batch).
type fixture struct {
	plan    *driver.Plan
	period  driver.Period
	start   time.Time
	end     time.Time
	data    []byte
	cid     string
	ek      *rsa.PrivateKey
	roots   *x509.CertPool
	records int64
	prior   []byte
}

// newFixture returns the fixture of the first batch of the period April
// 2026.
func newFixture(tb testing.TB) *fixture { return newFixtureAt(tb, 0, batchSamples) }

// newFixtureAt returns the fixture of a batch of records records starting
// at offset into the period, with prior the aggregate of every second
// before it (the same three probes, one sample per second each, as earlier
// batches would have left it).
func newFixtureAt(tb testing.TB, offset time.Duration, records int) *fixture {
	tb.Helper()
	root, err := kubotest.RepoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "examples", "aws-ec2-region", "sla.json"))
	if err != nil {
		tb.Fatal(err)
	}
	s, err := sla.Parse(doc)
	if err != nil {
		tb.Fatal(err)
	}
	plan, err := driver.Compile(s)
	if err != nil {
		tb.Fatal(err)
	}
	period, err := driver.PeriodOf(s, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		tb.Fatal(err)
	}
	start := period.Start.Add(offset)
	var prior []byte
	if offset > 0 {
		if prior, err = priorState(plan, period, start); err != nil {
			tb.Fatal(err)
		}
	}
	// 10k records: 3 zones x ~3334 seconds, every 97th sample a failure.
	var buf bytes.Buffer
	zones := []string{"a", "b", "c"}
	n := 0
	var end time.Time
	for sec := 0; n < records; sec++ {
		at := start.Add(time.Duration(sec) * time.Second)
		for zi, z := range zones {
			if n == records {
				break
			}
			ok := (n % 97) != 0
			fmt.Fprintf(&buf, `{"time":"%s","source":{"probe":"probe-%s1","zone":"zone-%s","region":"region-1"},"measurements":{"ok":%t}}`+"\n",
				at.Add(time.Duration(zi)*250*time.Millisecond).Format("2006-01-02T15:04:05.000Z"), z, z, ok)
			n++
		}
		end = at.Add(time.Second)
	}
	// RSA 3072, like the chaincode encryption key of the simulated
	// enclave (fpc/runtime): the batch key is unwrapped with it.
	ek, err := rsa.GenerateKey(rand.Reader, encryptionKeyBits)
	if err != nil {
		tb.Fatal(err)
	}
	caKey, caCert := selfSigned(tb)
	loggerKey, loggerPEM := issue(tb, caKey, caCert, "logger@providerorg.slasa.local")
	h := logbatch.Header{SLAID: s.ID, Seq: 1, WindowStart: start.Format(time.RFC3339), WindowEnd: end.Format(time.RFC3339)}
	data, err := logbatch.Seal(h, buf.Bytes(), int64(n), &ek.PublicKey, loggerPEM, loggerKey)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := cidverify.Sum(data)
	if err != nil {
		tb.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(caCert)
	return &fixture{plan: plan, period: period, start: start, end: end, data: data, cid: c.String(), ek: ek, roots: roots, records: int64(n), prior: prior}
}

// priorState returns the aggregate of one sample per second of probes
// probe-a1, probe-b1 and probe-c1 in their zones from the period start to
// until, every 97th failing.
func priorState(plan *driver.Plan, period driver.Period, until time.Time) ([]byte, error) {
	acc, err := plan.NewAccumulator(period)
	if err != nil {
		return nil, err
	}
	in := acc.Interner()
	region, _ := in.Regions.InternString("region-1")
	buf := make([]logs.Sample, 0, 3*3600)
	n := 0
	for t := period.Start.UnixMilli(); t < until.UnixMilli(); t += 1000 {
		for zi, z := range []string{"a", "b", "c"} {
			probe, _ := in.Probes.InternString("probe-" + z + "1")
			zone, _ := in.Zones.InternString("zone-" + z)
			ok := int64(1)
			if n%97 == 0 {
				ok = 0
			}
			n++
			buf = append(buf, logs.Sample{TimeMS: t + int64(zi)*250, Probe: probe, Zone: zone, Region: region, Kind: logs.KindMeasurement,
				Present: 1, Values: [logs.MaxMeasurements]int64{ok}})
		}
		if len(buf) == cap(buf) {
			acc.Add(buf)
			buf = buf[:0]
		}
	}
	acc.Add(buf)
	return acc.MarshalBinary()
}

func selfSigned(tb testing.TB) (*ecdsa.PrivateKey, *x509.Certificate) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca.providerorg.slasa.local", Organization: []string{"providerorg.slasa.local"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return key, cert
}

func issue(tb testing.TB, caKey *ecdsa.PrivateKey, ca *x509.Certificate, cn string) (*ecdsa.PrivateKey, string) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn, OrganizationalUnit: []string{"client"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	return key, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// ingest is what IngestBatch does with the bytes of one batch: check them
// against the anchored CID, verify the logger's signature and decrypt,
// chain the logger's certificate to its organization's CA, restore the
// period's aggregate when earlier batches left one, fold every record into
// it (checking the window and the record count) and encode it for the state
// write.
func (f *fixture) ingest(data []byte) (int64, error) {
	c, err := cidverify.Parse(f.cid)
	if err != nil {
		return 0, err
	}
	if err := cidverify.Verify(c, data); err != nil {
		return 0, err
	}
	opened, err := logbatch.Open(data, f.ek)
	if err != nil {
		return 0, err
	}
	if _, err := opened.LoggerCert.Verify(x509.VerifyOptions{Roots: f.roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return 0, err
	}
	return f.aggregate(opened.Records, opened.Count)
}

// aggregate is IngestBatch's state update: restore the period's aggregate
// (when earlier batches left one), fold the records, encode it again.
func (f *fixture) aggregate(records []byte, want int64) (int64, error) {
	acc, err := f.plan.NewAccumulator(f.period)
	if err != nil {
		return 0, err
	}
	if f.prior != nil {
		if err := acc.UnmarshalBinary(f.prior); err != nil {
			return 0, err
		}
	}
	n, err := f.fold(acc, records, want)
	if err != nil {
		return 0, err
	}
	if _, err := acc.MarshalBinary(); err != nil {
		return 0, err
	}
	return n, nil
}

// fold mirrors fpc/slaenclave's fold: decode, window check, Add in chunks.
func (f *fixture) fold(acc *driver.Accumulator, records []byte, want int64) (int64, error) {
	d, err := acc.NewDecoder(bytes.NewReader(records))
	if err != nil {
		return 0, err
	}
	startMS, endMS := f.start.UnixMilli(), f.end.UnixMilli()
	buf := make([]logs.Sample, 0, 1024)
	var n int64
	for {
		var s logs.Sample
		err := d.Next(&s)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
		n++
		if s.TimeMS < startMS || s.TimeMS >= endMS {
			return n, fmt.Errorf("line %d outside the window", d.Line())
		}
		buf = append(buf, s)
		if len(buf) == cap(buf) {
			acc.Add(buf)
			buf = buf[:0]
		}
	}
	acc.Add(buf)
	if n != want {
		return n, fmt.Errorf("header.records %d, batch holds %d", want, n)
	}
	return n, nil
}

// cpuSeconds is the CPU time (user + system) the process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// measure runs op b.N times and reports samples per wall-clock second and
// samples per CPU second of the whole process (GC included): on a shared
// machine the second is the per-core figure, the first also counts the time
// the benchmark waited for a core.
func measure(b *testing.B, n int64, op func() error) {
	b.Helper()
	cpu0 := cpuSeconds()
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuSeconds() - cpu0
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
	if cpu > 0 {
		b.ReportMetric(float64(n)*float64(b.N)/cpu, "samples/cpu-s")
	}
}

// TestIngest checks the fixture and the pipeline once (so `go test` covers
// them without running the benchmarks).
func TestIngest(t *testing.T) {
	f := newFixture(t)
	n, err := f.ingest(f.data)
	if err != nil {
		t.Fatal(err)
	}
	if n != batchSamples {
		t.Fatalf("folded %d samples, want %d", n, batchSamples)
	}
	tampered := bytes.Clone(f.data)
	tampered[len(tampered)/2] ^= 1
	if _, err := f.ingest(tampered); err == nil {
		t.Fatal("a tampered batch was ingested")
	}
	late := newFixtureAt(t, 29*24*time.Hour+23*time.Hour, batchSamples)
	if n, err := late.ingest(late.data); err != nil || n != batchSamples {
		t.Fatalf("late batch: %d samples, %v", n, err)
	}
}

// BenchmarkIngest measures each stage of the enclave's work on one batch
// of 10k samples, the first of its month, and the whole of it
// ("end-to-end", no network); then the same batch as the last of the month
// (restoring the aggregate of the 29 days 23 hours before it) and batches
// of other sizes end to end.
func BenchmarkIngest(b *testing.B) {
	f := newFixture(b)
	c, err := cidverify.Parse(f.cid)
	if err != nil {
		b.Fatal(err)
	}
	opened, err := logbatch.Open(f.data, f.ek)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("batch: %d samples, %d bytes encoded (%d bytes of JSON Lines)", f.records, len(f.data), len(opened.Records))
	b.Run("verify-cid", func(b *testing.B) {
		measure(b, f.records, func() error { return cidverify.Verify(c, f.data) })
	})
	b.Run("verify-signature", func(b *testing.B) {
		measure(b, f.records, func() error { _, _, err := logbatch.Parse(f.data); return err })
	})
	b.Run("verify-signature+decrypt", func(b *testing.B) {
		measure(b, f.records, func() error { _, err := logbatch.Open(f.data, f.ek); return err })
	})
	b.Run("fold", func(b *testing.B) {
		measure(b, f.records, func() error {
			acc, err := f.plan.NewAccumulator(f.period)
			if err != nil {
				return err
			}
			_, err = f.fold(acc, opened.Records, opened.Count)
			return err
		})
	})
	b.Run("fold+state", func(b *testing.B) {
		measure(b, f.records, func() error { _, err := f.aggregate(opened.Records, opened.Count); return err })
	})
	b.Run("end-to-end", func(b *testing.B) {
		measure(b, f.records, func() error { _, err := f.ingest(f.data); return err })
	})
	// The same batch as the last of the month (29 days 23 hours in): the
	// stored aggregate then covers the month so far, and restoring and
	// encoding it grows with that coverage.
	late := newFixtureAt(b, 29*24*time.Hour+23*time.Hour, batchSamples)
	b.Logf("late batch: prior aggregate %d bytes", len(late.prior))
	lateOpened, err := logbatch.Open(late.data, late.ek)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("late/fold+state", func(b *testing.B) {
		measure(b, late.records, func() error {
			_, err := late.aggregate(lateOpened.Records, lateOpened.Count)
			return err
		})
	})
	b.Run("late/end-to-end", func(b *testing.B) {
		measure(b, late.records, func() error { _, err := late.ingest(late.data); return err })
	})
	// Batches of other sizes: the per-batch costs (RSA-OAEP unwrap of the
	// batch key, signature and certificate checks) amortised differently.
	for _, n := range []int{5_000, 20_000, 40_000} {
		g := newFixtureAt(b, 0, n)
		b.Run(fmt.Sprintf("end-to-end-%dk", n/1000), func(b *testing.B) {
			measure(b, g.records, func() error { _, err := g.ingest(g.data); return err })
		})
	}
}

// BenchmarkIngestThroughShim fetches the batch from a real kubo node through
// the tunneling shim (HTTP on loopback, the "cat" backend like the
// network's shim) and then ingests it: the enclave host's whole path for one
// batch, minus Fabric's state reads and writes. Set SLASA_BENCH_NO_KUBO=1 to
// skip it (it builds kubo on first use).
func BenchmarkIngestThroughShim(b *testing.B) {
	if os.Getenv("SLASA_BENCH_NO_KUBO") == "1" {
		b.Skip("SLASA_BENCH_NO_KUBO=1")
	}
	f := newFixture(b)
	node := kubotest.Start(b)
	if got := node.Add(b, f.data); got != f.cid {
		b.Fatalf("kubo named the batch %s, cidverify %s", got, f.cid)
	}
	srv, err := shimtunnel.NewServer(shimtunnel.NewKuboCat(node.API, nil), shimtunnel.Config{})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	client, err := shimclient.New(hs.URL)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("fetch", func(b *testing.B) {
		measure(b, f.records, func() error { _, err := client.Fetch(ctx, f.cid); return err })
	})
	b.Run("fetch+ingest", func(b *testing.B) {
		measure(b, f.records, func() error {
			data, err := client.Fetch(ctx, f.cid)
			if err != nil {
				return err
			}
			_, err = f.ingest(data)
			return err
		})
	})
}
