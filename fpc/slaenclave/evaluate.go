package slaenclave

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hyperledger/fabric-chaincode-go/shim"

	"github.com/slasa/slasa/driver"
	"github.com/slasa/slasa/internal/strictjson"
	"github.com/slasa/slasa/verdict"
)

// Evaluation is the result of Evaluate: the enclave's signed verdict and
// the detailed report it commits to.
type Evaluation struct {
	Verdict verdict.Signed `json:"verdict"`
	// Report is the exact report bytes: the driver.Outcome as compact JSON
	// without HTML escaping. verdict.report_digest is its hex SHA-256.
	Report json.RawMessage `json:"report"`
}

// ParseEvaluation decodes an Evaluate result, keeping the report bytes
// exactly as they appear in data.
func ParseEvaluation(data []byte) (*Evaluation, error) {
	var e Evaluation
	if err := strictjson.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("decode evaluation: %w", err)
	}
	if len(e.Verdict.Signature) == 0 {
		return nil, errors.New("evaluation: verdict.signature must not be empty")
	}
	return &e, nil
}

// CheckReport checks that the report is the one the verdict commits to. It
// does not check the verdict's signature; use verdict.Verify with the key
// from the enclave registry.
func (e *Evaluation) CheckReport() error {
	sum := sha256.Sum256(e.Report)
	if got := hex.EncodeToString(sum[:]); got != e.Verdict.Verdict.ReportDigest {
		return fmt.Errorf("evaluation: the report's SHA-256 %s is not the verdict's report_digest %s", got, e.Verdict.Verdict.ReportDigest)
	}
	return nil
}

func evaluate(stub shim.ChaincodeStubInterface, args []string) (*Evaluation, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("takes 2 arguments (slaID, period), got %d", len(args))
	}
	svc, err := services(stub)
	if err != nil {
		return nil, err
	}
	a, err := loadAgreement(stub, args[0])
	if err != nil {
		return nil, err
	}
	if err := authorizeParty(stub, a); err != nil {
		return nil, err
	}
	slaID := a.state.SLAID
	p, err := driver.ParsePeriod(a.sla, args[1])
	if err != nil {
		return nil, err
	}
	vk, err := verdictKey(stub, slaID, p)
	if err != nil {
		return nil, err
	}
	var frozen Evaluation
	if found, err := getJSON(stub, vk, &frozen); err != nil {
		return nil, fmt.Errorf("frozen verdict of period %s: %w", p, err)
	} else if found {
		return &frozen, nil
	}

	pk, err := periodKey(stub, slaID, p)
	if err != nil {
		return nil, err
	}
	var ps periodState
	found, err := getJSON(stub, pk, &ps)
	if err != nil {
		return nil, fmt.Errorf("period %s: %w", p, err)
	}
	// mutate:check enclave-no-batches
	if !found {
		return nil, fmt.Errorf("period %s of SLA %q is incomplete: no batch covers any of it yet (covered: none of %s..%s)",
			p, slaID, p, p.End.Format("2006-01-02T15:04:05Z07:00"))
	}
	// mutate:check enclave-complete
	if ps.CoveredEnd != ps.PeriodEnd {
		return nil, fmt.Errorf("period %s of SLA %q is incomplete: batches cover %s..%s of %s..%s",
			p, slaID, ps.Period, ps.CoveredEnd, ps.Period, ps.PeriodEnd)
	}
	acc, err := a.plan.NewAccumulator(p)
	if err != nil {
		return nil, err
	}
	if err := acc.UnmarshalBinary(ps.Accumulator); err != nil {
		return nil, fmt.Errorf("period %s: %w", p, err)
	}
	out, err := acc.Outcome()
	if err != nil {
		return nil, fmt.Errorf("period %s: %w", p, err)
	}
	report, err := out.JSON()
	if err != nil {
		return nil, fmt.Errorf("period %s: encode report: %w", p, err)
	}
	report = bytes.TrimSuffix(report, []byte("\n"))
	sum := sha256.Sum256(report)
	v := verdict.Verdict{
		SLAID: slaID, SLADigest: a.state.Digest, Period: out.Period, PeriodEnd: out.PeriodEnd,
		Violated: out.Violated, CreditBPS: out.CreditBPS, CreditAmount: out.CreditAmount, PenaltyAmount: out.PenaltyAmount,
		Currency: out.Currency, Terminate: out.Terminate, ReportDigest: hex.EncodeToString(sum[:]),
		BatchSeq: ps.LastSeq, BatchCID: ps.LastCID, Chaincode: svc.ChaincodeName(), EnclaveID: svc.EnclaveID(),
	}
	if err := v.Validate(); err != nil {
		return nil, fmt.Errorf("period %s: %w", p, err)
	}
	msg, err := v.SigningBytes()
	if err != nil {
		return nil, err
	}
	sig, err := svc.SignAsEnclave(msg)
	if err != nil {
		return nil, fmt.Errorf("sign verdict: %w", err)
	}
	ev := &Evaluation{Verdict: verdict.Signed{Verdict: v, Signature: sig}, Report: report}
	// Freeze: the verdict and its report are stored; the aggregate is no
	// longer needed and is dropped.
	if err := putJSON(stub, vk, ev); err != nil {
		return nil, err
	}
	ps.Evaluated, ps.Accumulator = true, nil
	if err := putJSON(stub, pk, &ps); err != nil {
		return nil, err
	}
	return ev, nil
}
