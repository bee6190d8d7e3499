package slaenclave

import (
	"errors"
	"fmt"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/pkg/statebased"
	"github.com/hyperledger/fabric-chaincode-go/shim"

	"github.com/slasa/slasa/driver"
	"github.com/slasa/slasa/fpc/enclaveapi"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

// agreementState is the stored record of one registered SLA, written once
// at registration.
type agreementState struct {
	Format int    `json:"format"`
	SLAID  string `json:"sla_id"`
	Digest string `json:"sla_digest"`
	// Record is the signed SLA record as registered (JSON).
	Record       []byte `json:"record"`
	RegisteredAt string `json:"registered_at"`
}

// headState is the head of an SLA's batch chain, rewritten by every batch
// (small: the record is not rewritten).
type headState struct {
	Format int `json:"format"`
	// LastSeq is 0 before the first batch.
	LastSeq       int64  `json:"last_seq"`
	LastCID       string `json:"last_cid"`
	LastWindowEnd string `json:"last_window_end"`
	// Periods lists the starts of the periods with batches, in chain
	// order: the index by which GetAgreementStatus reads each period's key
	// by name (no range query).
	Periods []string `json:"periods"`
}

// periodState is the stored state of one billing period with batches. The
// covered window always starts at the period start (windows are
// contiguous), so CoveredEnd describes it.
type periodState struct {
	Format     int    `json:"format"`
	Period     string `json:"period"`
	PeriodEnd  string `json:"period_end"`
	CoveredEnd string `json:"covered_end"`
	Batches    int64  `json:"batches"`
	FirstSeq   int64  `json:"first_seq"`
	LastSeq    int64  `json:"last_seq"`
	// LastCID is the CID of the period's last batch so far (LastSeq); once
	// the period is complete, the batch whose window ends at its end.
	LastCID   string `json:"last_cid"`
	Evaluated bool   `json:"evaluated"`
	// Aggregate is the header of the driver aggregate
	// (driver.Accumulator.MarshalPaged), whose pages are stored under
	// their own keys (pageKey) and listed by name in it; dropped, with the
	// pages, once the period's verdict is frozen.
	Aggregate []byte `json:"aggregate,omitempty"`
	// Tickets are the tickets open at the period's end (SLAs with a
	// support section), kept when the verdict is frozen and the aggregate
	// dropped, to carry them into the next period
	// (driver.Accumulator.OpenTickets).
	Tickets []driver.Ticket `json:"tickets,omitempty"`
}

// agreement is a loaded SLA.
type agreement struct {
	key, headKey string
	state        agreementState
	head         headState
	sla          *sla.SLA
	plan         *driver.Plan
	// policy is the key-level endorsement policy of every key of the SLA:
	// a peer of the provider's and of the client's organization.
	policy []byte
}

// partiesPolicy returns the validation parameter "a peer of each party's
// organization" (one organization when both parties belong to it).
func partiesPolicy(s *sla.SLA) ([]byte, error) {
	ep, err := statebased.NewStateEP(nil)
	if err != nil {
		return nil, err
	}
	if err := ep.AddOrgs(statebased.RoleTypePeer, s.Parties.Provider.MSPID, s.Parties.Client.MSPID); err != nil {
		return nil, fmt.Errorf("SLA %q: key-level policy: %w", s.ID, err)
	}
	return ep.Policy()
}

func slaKey(stub shim.ChaincodeStubInterface, id string) (string, error) {
	k, err := stub.CreateCompositeKey(keySLA, []string{id})
	if err != nil {
		return "", fmt.Errorf("slaID: %w", err)
	}
	return k, nil
}

func headKey(stub shim.ChaincodeStubInterface, id string) (string, error) {
	return stub.CreateCompositeKey(keyHead, []string{id})
}

func periodKey(stub shim.ChaincodeStubInterface, id string, p driver.Period) (string, error) {
	return periodKeyOf(stub, id, p.String())
}

func periodKeyOf(stub shim.ChaincodeStubInterface, id, start string) (string, error) {
	return stub.CreateCompositeKey(keyPeriod, []string{id, start})
}

// pageKey keys page name of the aggregate of period p.
func pageKey(stub shim.ChaincodeStubInterface, id string, p driver.Period, name string) (string, error) {
	return stub.CreateCompositeKey(keyPage, []string{id, p.String(), name})
}

func verdictKey(stub shim.ChaincodeStubInterface, id string, p driver.Period) (string, error) {
	return stub.CreateCompositeKey(keyVerdict, []string{id, p.String()})
}

// checkFormat refuses state written by another version of the chaincode.
func checkFormat(what string, f int) error {
	if f != stateFormat {
		return fmt.Errorf("%s: stored in state format %d; this enclave reads format %d (register the SLA again with a new id)", what, f, stateFormat)
	}
	return nil
}

// loadAgreement reads a registered SLA and compiles its plan.
func loadAgreement(stub shim.ChaincodeStubInterface, id string) (*agreement, error) {
	if id == "" {
		return nil, errors.New("slaID: must not be empty")
	}
	key, err := slaKey(stub, id)
	if err != nil {
		return nil, err
	}
	hk, err := headKey(stub, id)
	if err != nil {
		return nil, err
	}
	a := &agreement{key: key, headKey: hk}
	found, err := getJSON(stub, key, &a.state)
	if err != nil {
		return nil, fmt.Errorf("SLA %q: %w", id, err)
	}
	if !found {
		return nil, fmt.Errorf("slaID: SLA %q is not registered with the enclave", id)
	}
	if err := checkFormat(fmt.Sprintf("SLA %q", id), a.state.Format); err != nil {
		return nil, err
	}
	if found, err := getJSON(stub, hk, &a.head); err != nil {
		return nil, fmt.Errorf("SLA %q: chain head: %w", id, err)
	} else if !found {
		return nil, fmt.Errorf("SLA %q: its chain head is not in the state", id)
	}
	rec, err := signedsla.Parse(a.state.Record)
	if err != nil {
		return nil, fmt.Errorf("stored SLA %q: %w", id, err)
	}
	if a.sla, err = sla.Parse(rec.Document); err != nil {
		return nil, fmt.Errorf("stored SLA %q: %w", id, err)
	}
	if a.plan, err = driver.Compile(a.sla); err != nil {
		return nil, fmt.Errorf("stored SLA %q: %w", id, err)
	}
	if a.policy, err = partiesPolicy(a.sla); err != nil {
		return nil, err
	}
	return a, nil
}

func registerAgreement(stub shim.ChaincodeStubInterface, args []string) (*Status, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("takes 1 argument (the signed SLA record JSON), got %d", len(args))
	}
	tr, err := loadTrust(stub)
	if err != nil {
		return nil, err
	}
	now, err := txTime(stub)
	if err != nil {
		return nil, err
	}
	rec, err := signedsla.Parse([]byte(args[0]))
	if err != nil {
		return nil, err
	}
	// mutate:check enclave-signatures
	if len(rec.Provider.Signature) == 0 || len(rec.Client.Signature) == 0 {
		missing := "provider"
		if len(rec.Provider.Signature) != 0 {
			missing = "client"
		} else if len(rec.Client.Signature) == 0 {
			missing = "provider and client"
		}
		return nil, fmt.Errorf("signed SLA record: the %s signature is missing; both parties must sign", missing)
	}
	doc, err := rec.Verify(tr.options(now))
	// mutate:check enclave-verify
	if err != nil {
		return nil, fmt.Errorf("signed SLA record: %w", err)
	}
	if _, err := driver.Compile(doc); err != nil {
		return nil, fmt.Errorf("SLA %q does not compile: %w", doc.ID, err)
	}
	_, end, err := doc.ValidityWindow()
	if err != nil {
		return nil, fmt.Errorf("SLA %q: %w", doc.ID, err)
	}
	// mutate:check enclave-expired
	if !end.After(now) {
		return nil, fmt.Errorf("SLA %q expired: validity.end %s is not after the transaction time %s", doc.ID, doc.Validity.End, now.Format(time.RFC3339))
	}
	if _, err := txLogger(doc); err != nil {
		return nil, err
	}
	key, err := slaKey(stub, doc.ID)
	if err != nil {
		return nil, err
	}
	var existing agreementState
	found, err := getJSON(stub, key, &existing)
	if err != nil {
		return nil, err
	}
	if found {
		// mutate:check enclave-digest-conflict
		if existing.Digest != rec.Digest {
			return nil, fmt.Errorf("SLA %q is already registered with digest %s; a different document (digest %s) cannot reuse its id", doc.ID, existing.Digest, rec.Digest)
		}
		// Idempotent: the same agreement again changes nothing.
		a, err := loadAgreement(stub, doc.ID)
		if err != nil {
			return nil, err
		}
		return statusOf(stub, a)
	}
	raw, err := rec.Marshal()
	if err != nil {
		return nil, err
	}
	hk, err := headKey(stub, doc.ID)
	if err != nil {
		return nil, err
	}
	policy, err := partiesPolicy(doc)
	if err != nil {
		return nil, err
	}
	a := &agreement{key: key, headKey: hk, policy: policy,
		state: agreementState{Format: stateFormat, SLAID: doc.ID, Digest: rec.Digest, Record: raw, RegisteredAt: now.Format(time.RFC3339Nano)},
		head:  headState{Format: stateFormat, Periods: []string{}}}
	if err := putJSON(stub, key, &a.state, policy); err != nil {
		return nil, err
	}
	if err := putJSON(stub, hk, &a.head, policy); err != nil {
		return nil, err
	}
	return statusOf(stub, a)
}

// txLogger returns the SLA's logger party; an SLA without one cannot be
// monitored.
func txLogger(s *sla.SLA) (sla.Party, error) {
	l := s.Parties.Logger
	if err := l.ID().Validate("parties.logger"); err != nil {
		return l, fmt.Errorf("SLA %q: %w", s.ID, err)
	}
	return l, nil
}

// Status is the result of RegisterAgreement and GetAgreementStatus.
type Status = enclaveapi.Status

// PeriodStatus is the batch coverage of one billing period.
type PeriodStatus = enclaveapi.PeriodStatus

// statusOf reads the status of an SLA: each period listed in its index is
// read by its key.
func statusOf(stub shim.ChaincodeStubInterface, a *agreement) (*Status, error) {
	st := &Status{SLAID: a.state.SLAID, SLADigest: a.state.Digest, RegisteredAt: a.state.RegisteredAt,
		LastSeq: a.head.LastSeq, LastCID: a.head.LastCID, LastWindowEnd: a.head.LastWindowEnd,
		Periods: []PeriodStatus{}, EvaluatedPeriods: []string{}}
	for _, start := range a.head.Periods {
		key, err := periodKeyOf(stub, a.state.SLAID, start)
		if err != nil {
			return nil, err
		}
		var p periodState
		found, err := getJSON(stub, key, &p)
		if err != nil {
			return nil, fmt.Errorf("period %s: %w", start, err)
		}
		if !found {
			return nil, fmt.Errorf("period %s of SLA %q is in the SLA's index but not in the state", start, a.state.SLAID)
		}
		st.Periods = append(st.Periods, PeriodStatus{Period: p.Period, PeriodEnd: p.PeriodEnd, CoveredEnd: p.CoveredEnd,
			Batches: p.Batches, FirstSeq: p.FirstSeq, LastSeq: p.LastSeq, Complete: p.CoveredEnd == p.PeriodEnd, Evaluated: p.Evaluated})
		if p.Evaluated {
			st.EvaluatedPeriods = append(st.EvaluatedPeriods, p.Period)
		}
	}
	return st, nil
}

func agreementStatus(stub shim.ChaincodeStubInterface, args []string) (*Status, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("takes 1 argument (slaID), got %d", len(args))
	}
	a, err := loadAgreement(stub, args[0])
	if err != nil {
		return nil, err
	}
	if err := authorizeParty(stub, a); err != nil {
		return nil, err
	}
	return statusOf(stub, a)
}

// authorizeParty admits the SLA's provider and client only: the creator's
// identity (MSP ID, certificate subject and issuer) must be one of theirs and
// the certificate must chain to that MSP's roots in the enclave's deploy
// configuration at the transaction time.
func authorizeParty(stub shim.ChaincodeStubInterface, a *agreement) error {
	tr, err := loadTrust(stub)
	if err != nil {
		return err
	}
	now, err := txTime(stub)
	if err != nil {
		return err
	}
	mspID, cert, err := caller(stub)
	if err != nil {
		return err
	}
	id := identity.FromCert(mspID, cert)
	// mutate:check enclave-party-identity
	if id != a.sla.Parties.Provider.ID() && id != a.sla.Parties.Client.ID() {
		return fmt.Errorf("access denied: the caller %s is not the provider or the client of SLA %q", id, a.state.SLAID)
	}
	// mutate:check enclave-party-chain
	if err := tr.chain(mspID, cert, now); err != nil {
		return fmt.Errorf("access denied: %w", err)
	}
	return nil
}
