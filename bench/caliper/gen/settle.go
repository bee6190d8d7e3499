package main

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/ipfs/cidverify"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
	"github.com/slasa/slasa/verdict"
)

// runSettle is gen settle: it runs next to Caliper and writes settle.json,
// the arguments of the anchor and settle rounds, which can only be made
// once the SLAs are accepted and their paid periods have ended:
//
//  1. wait until the anchor round waits for it (the marker settle.wanted,
//     written by the anchor round's preparation: Caliper prepares a round
//     only after the previous ones, the accept round included, have ended);
//  2. read every SLA back (GetSLA): it must be ACTIVE with one paid period,
//     the first one that had not started at its acceptance;
//  3. wait until every paid period has ended (a batch is anchored only once
//     its window is over, a period settled only once it has ended);
//  4. sign, per SLA, -batches consecutive anchors whose windows cut the paid
//     period (the last one ends at the period's end) as the logger, and the
//     verdict of the paid period naming the last batch with the test
//     enclave's key (enclave-key.pem, written by gen prepare);
//  5. anchor the batches of the shared SLAs (payloads.json shared, accepted
//     by gen prepare) itself, as the logger: the round
//     settle-shared-provider only settles them.
//
// The anchor round's workload waits for settle.json (or settle.error, which
// this writes when it fails), so the wait is outside every measured round;
// the GetSLA reads happen between the accept round and the anchor round.
func runSettle(args []string) (err error) {
	fs := flag.NewFlagSet("settle", flag.ContinueOnError)
	runDir := fs.String("run-dir", "", "run folder of the running network (holds network.json)")
	out := fs.String("out", "", "the folder of gen prepare (payloads.json, benchmark.yaml, enclave-key.pem); settle.json is written there")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *runDir == "" || *out == "" {
		return errors.New("-run-dir and -out: required")
	}
	defer func() {
		if err != nil {
			_ = os.WriteFile(filepath.Join(*out, settleErrorFile), []byte(err.Error()+"\n"), 0o644)
		}
	}()
	deadline := time.Now().Add(*timeout)
	info, err := fabnet.Load(*runDir)
	if err != nil {
		return err
	}
	var pl Payloads
	if err := readJSONFile(filepath.Join(*out, payloadsFile), &pl); err != nil {
		return err
	}
	key, err := readECKey(filepath.Join(*out, enclaveKeyFile))
	if err != nil {
		return err
	}

	// 1. The rounds up to the accept round have ended.
	for {
		if _, err := os.Stat(filepath.Join(*out, settleWantedFile)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no round asked for %s within %s", settleFile, *timeout)
		}
		time.Sleep(250 * time.Millisecond)
	}
	// Every accept has committed when the next round is prepared; allow the
	// peers a little time to see the last blocks.
	activeBy := time.Now().Add(30 * time.Second)

	// 2. Every SLA's paid period, from the ledger.
	conn, err := info.Connect("client")
	if err != nil {
		return err
	}
	defer conn.Close()
	agreement := conn.Network.GetContract(ccAgreement)
	type paid struct{ start, end time.Time }
	all := append(append([]SLAPayload(nil), pl.SLAs...), pl.Shared...)
	periods := make([]paid, len(all))
	var last time.Time
	for i, s := range all {
		var a struct {
			Status      string `json:"status"`
			LastPeriod  string `json:"last_period"`
			PaidThrough string `json:"paid_through"`
			PaidPeriods int64  `json:"paid_periods"`
		}
		for {
			// On the client organization's peer: GetSLA answers there only.
			raw, err := agreement.Evaluate("GetSLA", client.WithArguments(s.ID), client.WithEndorsingOrganizations(conn.MSPID))
			if err != nil {
				return fmt.Errorf("GetSLA %s: %s", s.ID, gatewayError(err))
			}
			if err := json.Unmarshal(raw, &a); err != nil {
				return fmt.Errorf("GetSLA %s: %w", s.ID, err)
			}
			if a.Status == "ACTIVE" {
				break
			}
			// The other organization's peer may not have the last block yet.
			if time.Now().After(activeBy) {
				return fmt.Errorf("SLA %s is %s, not ACTIVE, after the accept round", s.ID, a.Status)
			}
			time.Sleep(250 * time.Millisecond)
		}
		start, err := signedsla.ParseInstant(a.LastPeriod)
		if err != nil {
			return fmt.Errorf("SLA %s: last_period: %w", s.ID, err)
		}
		end, err := signedsla.ParseInstant(a.PaidThrough)
		if err != nil {
			return fmt.Errorf("SLA %s: paid_through: %w", s.ID, err)
		}
		if a.PaidPeriods != 1 || end.Sub(start) != time.Duration(pl.Batches*windowSeconds)*time.Second {
			return fmt.Errorf("SLA %s: %d periods paid, last %s..%s; want one period of %d s", s.ID, a.PaidPeriods, a.LastPeriod, a.PaidThrough, pl.Batches*windowSeconds)
		}
		periods[i] = paid{start, end}
		if end.After(last) {
			last = end
		}
	}
	logf("settle: %d SLAs (%d shared) accepted; the last paid period ends at %s", len(all), len(pl.Shared), last.Format(time.RFC3339))

	// 3. Every paid period has ended (by a second: the peers' clocks are this machine's).
	if d := time.Until(last.Add(time.Second)); d > 0 {
		if time.Now().Add(d).After(deadline) {
			return fmt.Errorf("the paid periods end at %s, after the deadline", last.Format(time.RFC3339))
		}
		time.Sleep(d)
	}

	// 4. Anchors and verdicts.
	signLogger, err := (&preparer{info: info}).signer("logger")
	if err != nil {
		return err
	}
	enclaveID, err := verdict.EnclaveIDOf(&key.PublicKey)
	if err != nil {
		return err
	}
	var sp SettlePayloads
	var sharedAnchors [][][]string
	for i, s := range all {
		var doc sla.SLA
		if err := json.Unmarshal([]byte(s.Doc), &doc); err != nil {
			return err
		}
		var anchors [][]string
		prev := ""
		var lastAnchor signedsla.Anchor
		for k := 1; k <= pl.Batches; k++ {
			c, err := cidverify.Sum([]byte(fmt.Sprintf("%s batch %d", s.ID, k)))
			if err != nil {
				return err
			}
			from := periods[i].start.Add(time.Duration((k-1)*windowSeconds) * time.Second)
			a := signedsla.Anchor{SLAID: s.ID, Seq: int64(k), CID: c.String(), PrevCID: prev,
				PeriodStart: from.Format(time.RFC3339), PeriodEnd: from.Add(windowSeconds * time.Second).Format(time.RFC3339)}
			sum := sha256.Sum256(a.SigningBytes())
			sig, err := signLogger(sum[:])
			if err != nil {
				return err
			}
			anchors = append(anchors, []string{a.SLAID, strconv.FormatInt(a.Seq, 10), a.CID, a.PrevCID, a.PeriodStart, a.PeriodEnd,
				base64.StdEncoding.EncodeToString(sig)})
			prev, lastAnchor = a.CID, a
		}
		if lastAnchor.PeriodEnd != periods[i].end.Format(time.RFC3339) {
			return fmt.Errorf("SLA %s: the last batch ends at %s, not at the period's end %s", s.ID, lastAnchor.PeriodEnd, periods[i].end.Format(time.RFC3339))
		}
		if i < len(pl.SLAs) {
			sp.Anchors = append(sp.Anchors, anchors)
		} else {
			sharedAnchors = append(sharedAnchors, anchors)
		}

		report := sha256.Sum256([]byte(s.ID + " report"))
		creditBPS := int64(1000 * (i % 2)) // every other SLA gets a 10% credit
		v := verdict.Verdict{SLAID: s.ID, SLADigest: s.Digest, Period: periods[i].start.Format(time.RFC3339), PeriodEnd: lastAnchor.PeriodEnd,
			Violated: creditBPS > 0, CreditBPS: creditBPS, CreditAmount: doc.Price.AmountMinor * creditBPS / 10000,
			Currency: doc.Price.Currency, ReportDigest: hex.EncodeToString(report[:]), BatchSeq: lastAnchor.Seq, BatchCID: lastAnchor.CID,
			Chaincode: ccEnclave, EnclaveID: enclaveID}
		signed, err := verdict.Sign(v, key)
		if err != nil {
			return fmt.Errorf("SLA %d verdict: %w", i, err)
		}
		vj, err := json.Marshal(signed)
		if err != nil {
			return err
		}
		if i < len(pl.SLAs) {
			sp.Verdicts = append(sp.Verdicts, string(vj))
		} else {
			sp.SharedVerdicts = append(sp.SharedVerdicts, string(vj))
		}
	}
	// 5. The shared SLAs' batches, anchored here (outside the measured
	// rounds): one SLA's batches in sequence, the SLAs concurrently.
	t := time.Now()
	if err := anchorAll(info, pl.Shared, sharedAnchors); err != nil {
		return err
	}
	logf("settle: anchored the %d batches of each of the %d shared SLAs in %s", pl.Batches, len(sharedAnchors), time.Since(t).Round(time.Millisecond))
	// Written atomically: the workloads poll for the file.
	tmp := filepath.Join(*out, settleFile+".tmp")
	if err := writeJSON(tmp, &sp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(*out, settleFile)); err != nil {
		return err
	}
	logf("settle: wrote %s (%d SLAs, %d anchors each, verdicts of the paid periods)", settleFile, len(sp.Verdicts), pl.Batches)
	return nil
}

// anchorAll submits AnchorLogBatch as the logger for every SLA's anchors
// (anchors[i] are those of slas[i], endorsed by its two organizations), 32
// SLAs at a time, each SLA's batches in order.
func anchorAll(info *fabnet.Info, slas []SLAPayload, anchors [][][]string) error {
	if len(slas) != len(anchors) {
		return fmt.Errorf("anchors of %d SLAs for %d SLAs", len(anchors), len(slas))
	}
	p := &preparer{info: info, conns: map[string]*fabnet.Connection{}}
	defer p.close()
	sem := make(chan struct{}, 32)
	errs := make(chan error, len(anchors))
	var wg sync.WaitGroup
	for i, batches := range anchors {
		wg.Add(1)
		sem <- struct{}{}
		go func(s SLAPayload, batches [][]string) {
			defer wg.Done()
			defer func() { <-sem }()
			for _, a := range batches {
				if _, err := p.submitSLA("logger", "AnchorLogBatch", s, false, a...); err != nil {
					errs <- err
					return
				}
			}
		}(slas[i], batches)
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func readJSONFile(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func readECKey(path string) (*ecdsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "EC PRIVATE KEY" {
		return nil, fmt.Errorf("%s: not a PEM EC private key", path)
	}
	return x509.ParseECPrivateKey(b.Bytes)
}
