package slaenclave

import (
	"bytes"
	"encoding/hex"
	"fmt"

	"github.com/hyperledger/fabric-chaincode-go/shim"

	"github.com/slasa/slasa/driver"
	"github.com/slasa/slasa/fpc/enclaveapi"
	"github.com/slasa/slasa/verdict"
)

// Evaluation is the result of Evaluate: the enclave's signed verdict, the
// detailed report it commits to and the SLA's report key.
type Evaluation = enclaveapi.Evaluation

// ParseEvaluation decodes an Evaluate result, keeping the verdict and
// report bytes exactly as they appear in data.
func ParseEvaluation(data []byte) (*Evaluation, error) { return enclaveapi.ParseEvaluation(data) }

// frozenEvaluation is what the verdict key stores: the signed verdict and
// the report (the report key is derived again on every Evaluate).
type frozenEvaluation struct {
	Format  int    `json:"format"`
	Verdict []byte `json:"verdict"`
	Report  []byte `json:"report"`
}

// reportKey derives the SLA's report key from the enclave's sealed state
// key (HKDF-SHA256, label verdict.ReportKeyLabel, the SLA id as context).
func reportKey(svc Services, slaID string) ([]byte, error) {
	k, err := svc.DeriveKey(verdict.ReportKeyLabel, []byte(slaID))
	if err != nil {
		return nil, fmt.Errorf("report key: %w", err)
	}
	return k, nil
}

// evaluation returns the Evaluate result of a frozen verdict.
func evaluation(svc Services, slaID string, f *frozenEvaluation) (*Evaluation, error) {
	key, err := reportKey(svc, slaID)
	if err != nil {
		return nil, err
	}
	return &Evaluation{Format: enclaveapi.EvaluationFormat, Verdict: f.Verdict, Report: f.Report, ReportKey: hex.EncodeToString(key)}, nil
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
	var frozen frozenEvaluation
	if found, err := getJSON(stub, vk, &frozen); err != nil {
		return nil, fmt.Errorf("frozen verdict of period %s: %w", p, err)
	} else if found {
		if err := checkFormat("frozen verdict of period "+p.String(), frozen.Format); err != nil {
			return nil, err
		}
		return evaluation(svc, slaID, &frozen)
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
	if err := checkFormat("period "+p.String(), ps.Format); err != nil {
		return nil, err
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
	if err := loadAggregate(stub, a, p, acc, &ps, (*driver.Accumulator).PageNames); err != nil {
		return nil, err
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
	key, err := reportKey(svc, slaID)
	if err != nil {
		return nil, err
	}
	v := verdict.Verdict{
		SLAID: slaID, SLADigest: a.state.Digest, Period: out.Period, PeriodEnd: out.PeriodEnd,
		Violated: out.Violated, CreditBPS: out.CreditBPS, CreditAmount: out.CreditAmount, PenaltyAmount: out.PenaltyAmount,
		Currency: out.Currency, Terminate: out.Terminate, ReportDigest: verdict.ReportDigest(key, report),
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
	signed, err := marshal(verdict.Signed{Verdict: v, Signature: sig})
	if err != nil {
		return nil, err
	}
	f := &frozenEvaluation{Format: stateFormat, Verdict: signed, Report: report}
	// Freeze: the verdict and its report are stored; the aggregate is no
	// longer needed: its header is dropped and its pages deleted (they are
	// never read again: a frozen period's verdict is read first, and its
	// batches are refused).
	if err := putJSON(stub, vk, f, a.policy); err != nil {
		return nil, err
	}
	for _, name := range acc.PageNames() {
		key, err := pageKey(stub, slaID, p, name)
		if err != nil {
			return nil, err
		}
		if err := stub.DelState(key); err != nil {
			return nil, fmt.Errorf("delete page %s: %w", name, err)
		}
	}
	if a.sla.Support != nil {
		ps.Tickets = acc.OpenTickets()
	}
	ps.Evaluated, ps.Aggregate = true, nil
	if err := putJSON(stub, pk, &ps, a.policy); err != nil {
		return nil, err
	}
	return evaluation(svc, slaID, f)
}
