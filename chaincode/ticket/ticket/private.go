package ticket

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/internal/ccpolicy"
)

// Keys of the transient map.
const (
	// TransientTicket carries the ticket's current record, as GetTicket
	// returns it (TicketView.Record).
	TransientTicket = "ticket"
	// TransientInput carries the function's input, a JSON object.
	TransientInput = "input"
	// TransientSLA carries the SLA document (CreateTicket,
	// ChangeSeverity).
	TransientSLA = "sla"
)

// implicitPrefix starts the name of an organization's implicit collection.
const implicitPrefix = "_implicit_org_"

// Collection returns the name of the implicit collection of the
// organization mspID, where that organization's copy of its tickets'
// records is stored.
func Collection(mspID string) string { return implicitPrefix + mspID }

// readTransient returns the transaction's transient map after checking
// that it holds no key but allowed.
func readTransient(ctx contractapi.TransactionContextInterface, allowed ...string) (map[string][]byte, error) {
	tm, err := ctx.GetStub().GetTransient()
	if err != nil {
		return nil, fmt.Errorf("read the transient map: %w", err)
	}
	var extra []string
	for k := range tm {
		if !slices.Contains(allowed, k) {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		return nil, fmt.Errorf("transient: key %q is not used; this function reads only %s", clip(extra[0]), quoteAll(allowed))
	}
	return tm, nil
}

func quoteAll(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = fmt.Sprintf("%q", k)
	}
	return strings.Join(q, " and ")
}

// decodeInput decodes the transient input into v (a pointer to the
// function's input struct), refusing unknown fields. A missing input is an
// error when required, else v stays as it is.
func decodeInput(tm map[string][]byte, v any, required bool) error {
	raw, ok := tm[TransientInput]
	if !ok || len(raw) == 0 {
		if required {
			return fmt.Errorf("transient %q: missing: pass the function's input as a JSON object in the transient map under key %q (the arguments are written to the block, the transient map is not)",
				TransientInput, TransientInput)
		}
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("transient %q: %w", TransientInput, err)
	}
	if dec.More() {
		return fmt.Errorf("transient %q: more than one JSON value", TransientInput)
	}
	return nil
}

// encodeRecord returns the record's JSON and its hex SHA-256.
func encodeRecord(r *TicketRecord) ([]byte, string, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, "", fmt.Errorf("encode ticket %q of SLA %q: %w", r.ID, r.SLAID, err)
	}
	sum := sha256.Sum256(data)
	return data, hex.EncodeToString(sum[:]), nil
}

// decodeRecord decodes a record strictly (no unknown field, one value).
func decodeRecord(raw []byte) (*TicketRecord, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var r TicketRecord
	if err := dec.Decode(&r); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	return &r, nil
}

// currentRecord returns the ticket's record from the transient map (key
// TransientTicket) after checking that it is the record whose hash the
// public record p holds. The record is compared by its JSON encoding, so
// any faithful JSON of it will do (as GetTicket returns it, or re-indented).
func currentRecord(tm map[string][]byte, p *TicketPublic) (*TicketRecord, error) {
	raw, ok := tm[TransientTicket]
	if !ok || len(raw) == 0 {
		return nil, fmt.Errorf("transient %q: missing: pass the ticket's current record (the record GetTicket returns) in the transient map under key %q", TransientTicket, TransientTicket)
	}
	r, err := decodeRecord(raw)
	if err != nil {
		return nil, fmt.Errorf("transient %q: not a ticket record: %w", TransientTicket, err)
	}
	_, hash, err := encodeRecord(r)
	if err != nil {
		return nil, err
	}
	// mutate:check record-hash
	if hash != p.Hash {
		return nil, fmt.Errorf("transient %q: it is not the current record of ticket %q of SLA %q (seq %d); read it again with GetTicket", TransientTicket, p.ID, p.SLAID, p.Seq)
	}
	return r, nil
}

// putTicket writes the record r to the implicit collection of every
// organization of p.Orgs and the public record p, with r's hash, under
// key. Each private write needs its organization's peer.
func putTicket(ctx contractapi.TransactionContextInterface, key string, p *TicketPublic, r *TicketRecord) error {
	data, hash, err := encodeRecord(r)
	if err != nil {
		return err
	}
	p.Hash = hash
	pub, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode ticket %q of SLA %q: %w", p.ID, p.SLAID, err)
	}
	if err := ctx.GetStub().PutState(key, pub); err != nil {
		return fmt.Errorf("write ticket %q of SLA %q: %w", p.ID, p.SLAID, err)
	}
	for _, msp := range p.Orgs {
		if err := ctx.GetStub().PutPrivateData(Collection(msp), key, data); err != nil {
			return fmt.Errorf("write the record of ticket %q of SLA %q to %s: %w", p.ID, p.SLAID, Collection(msp), err)
		}
	}
	return nil
}

// setOrgsPolicy sets on the ticket's public key the key-level policy "a
// peer of every organization of p.Orgs".
func setOrgsPolicy(ctx contractapi.TransactionContextInterface, key string, p *TicketPublic) error {
	pol, err := ccpolicy.AllOf(p.Orgs...)
	if err != nil {
		return fmt.Errorf("ticket %q of SLA %q: %w", p.ID, p.SLAID, err)
	}
	if err := ctx.GetStub().SetStateValidationParameter(key, pol); err != nil {
		return fmt.Errorf("ticket %q of SLA %q: set key-level policy: %w", p.ID, p.SLAID, err)
	}
	return nil
}

// localMSP returns the MSP ID of the organization whose peer runs this
// chaincode (CORE_PEER_LOCALMSPID, shim.GetMSPID).
func localMSP() (string, error) {
	msp, err := shim.GetMSPID()
	if err != nil {
		return "", fmt.Errorf("this chaincode server does not know its organization: %w (set CORE_PEER_LOCALMSPID to the MSP ID of its peer's organization)", err)
	}
	return msp, nil
}

// readRecord returns the record of ticket p from the implicit collection
// of mspID, this peer's organization, after checking it against p's hash.
func readRecord(ctx contractapi.TransactionContextInterface, p *TicketPublic, key, mspID string) (*TicketRecord, error) {
	coll := Collection(mspID)
	raw, err := ctx.GetStub().GetPrivateData(coll, key)
	if err != nil {
		return nil, fmt.Errorf("read the record of ticket %q of SLA %q from %s: %w", p.ID, p.SLAID, coll, err)
	}
	if raw == nil {
		return nil, fmt.Errorf("ticket %q of SLA %q: this peer holds no copy of its record in %s", p.ID, p.SLAID, coll)
	}
	return checkedRecord(p, raw, coll)
}

// checkedRecord decodes a record read from coll and checks it against p.
func checkedRecord(p *TicketPublic, raw []byte, coll string) (*TicketRecord, error) {
	r, err := decodeRecord(raw)
	var hash string
	if err == nil {
		_, hash, err = encodeRecord(r)
	}
	// mutate:check read-record-hash
	if err != nil || hash != p.Hash {
		return nil, fmt.Errorf("ticket %q of SLA %q: the record in %s is not the record of the public hash %s (seq %d)", p.ID, p.SLAID, coll, p.Hash, p.Seq)
	}
	return r, nil
}

// ticketNonce derives a ticket record's nonce from the SLA document's
// nonce (128 random bits the parties keep secret): HMAC-SHA256 keyed with
// it over the SLA and ticket ids. Every endorser derives the same nonce,
// and nobody without the SLA's nonce can guess it, so the record's hash
// in the block and on the public record hides the record.
func ticketNonce(slaNonce, slaID, ticketID string) string {
	m := hmac.New(sha256.New, []byte(slaNonce))
	m.Write([]byte("slasa ticket nonce\x00" + slaID + "\x00" + ticketID))
	return hex.EncodeToString(m.Sum(nil))
}
