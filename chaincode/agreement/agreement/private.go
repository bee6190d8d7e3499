package agreement

import (
	"encoding/hex"
	"fmt"
	"sort"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/slasa/slasa/internal/ccpolicy"
	"github.com/slasa/slasa/sla"
)

// The SLA document is private to the provider's and the client's
// organizations. It travels in the transient map (never in the arguments,
// the results or the events, which are in the block), it is stored in both
// parties' implicit organization collections under the key of the public
// record, and the public record holds its digest, a hiding commitment
// (the document carries a random nonce).
//
// The block holds SHA-256 of each private key and value: the value is the
// document, whose nonce makes that hash as hiding as the digest.

// TransientSLA is the key of the transient map that carries the SLA
// document for ProposeSLA, AcceptSLA and RenewSLA.
const TransientSLA = "sla"

// implicitPrefix starts the name of an organization's implicit collection.
const implicitPrefix = "_implicit_org_"

// Collection returns the name of the implicit collection of the
// organization mspID, where that organization's copy of its SLA documents
// is stored.
func Collection(mspID string) string { return implicitPrefix + mspID }

// transientDocument returns the SLA document of the transaction's transient
// map (key TransientSLA, the only key allowed).
func transientDocument(ctx contractapi.TransactionContextInterface) ([]byte, error) {
	tm, err := ctx.GetStub().GetTransient()
	if err != nil {
		return nil, fmt.Errorf("read the transient map: %w", err)
	}
	keys := make([]string, 0, len(tm))
	for k := range tm {
		if k != TransientSLA {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		return nil, fmt.Errorf("transient: key %q is not used; the transient map carries only the SLA document under key %q", keys[0], TransientSLA)
	}
	doc, ok := tm[TransientSLA]
	if !ok || len(doc) == 0 {
		return nil, fmt.Errorf("transient %q: missing: pass the SLA document in the transient map under key %q (the arguments are written to the block, the transient map is not)",
			TransientSLA, TransientSLA)
	}
	return doc, nil
}

// parseDocument validates a document and returns it with its digest.
func parseDocument(raw []byte) (*sla.SLA, [32]byte, error) {
	doc, err := sla.Parse(raw)
	if err != nil {
		return nil, [32]byte{}, fmt.Errorf("transient %q: invalid SLA: %s", TransientSLA, describe(err))
	}
	digest, err := sla.Digest(doc)
	if err != nil {
		return nil, [32]byte{}, fmt.Errorf("transient %q: digest: %w", TransientSLA, err)
	}
	return doc, digest, nil
}

// termsOf returns the SLA document of the transaction's transient map after
// checking that it is the document of agreement a (its digest is a's).
func termsOf(ctx contractapi.TransactionContextInterface, a *Agreement) (*sla.SLA, error) {
	raw, err := transientDocument(ctx)
	if err != nil {
		return nil, err
	}
	doc, digest, err := parseDocument(raw)
	if err != nil {
		return nil, err
	}
	got := hex.EncodeToString(digest[:])
	// mutate:check terms-digest
	if got != a.Digest {
		return nil, fmt.Errorf("transient %q: the document's digest %s is not the digest of SLA %q (%s)", TransientSLA, got, a.ID, a.Digest)
	}
	return doc, nil
}

// putDocument writes the document raw of SLA id to the implicit collections
// of both parties, under the public record's key. Each write needs the
// endorsement of its organization's peer (the collection's endorsement
// policy), so a proposal needs both parties' peers.
func putDocument(ctx contractapi.TransactionContextInterface, id string, raw []byte, orgs ...string) error {
	key, err := slaKey(ctx, id)
	if err != nil {
		return err
	}
	for _, msp := range orgs {
		if err := ctx.GetStub().PutPrivateData(Collection(msp), key, raw); err != nil {
			return fmt.Errorf("write the document of SLA %q to %s: %w", id, Collection(msp), err)
		}
	}
	return nil
}

// localMSP returns the MSP ID of the organization whose peer runs this
// chaincode, from CORE_PEER_LOCALMSPID (shim.GetMSPID), which the
// organization's chaincode server must set.
func localMSP() (string, error) {
	msp, err := shim.GetMSPID()
	if err != nil {
		return "", fmt.Errorf("this chaincode server does not know its organization: %w (set CORE_PEER_LOCALMSPID to the MSP ID of its peer's organization)", err)
	}
	return msp, nil
}

// readDocument returns the document of agreement a from the implicit
// collection of the organization of this peer, mspID, after checking it
// against a's digest.
func readDocument(ctx contractapi.TransactionContextInterface, a *Agreement, mspID string) ([]byte, error) {
	key, err := slaKey(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	coll := Collection(mspID)
	raw, err := ctx.GetStub().GetPrivateData(coll, key)
	if err != nil {
		return nil, fmt.Errorf("read the document of SLA %q from %s: %w", a.ID, coll, err)
	}
	if raw == nil {
		return nil, fmt.Errorf("SLA %q: this peer holds no copy of its document in %s", a.ID, coll)
	}
	digest, _, err := sla.DigestOf(raw)
	// mutate:check get-document-digest
	if err != nil || hex.EncodeToString(digest[:]) != a.Digest {
		return nil, fmt.Errorf("SLA %q: the document in %s is not the document of the recorded digest %s", a.ID, coll, a.Digest)
	}
	return raw, nil
}

// setPartiesPolicy sets on the public key key, which the transaction
// creates, the key-level policy "a peer of the provider's organization and a
// peer of the client's": from now on only both parties together can change
// or delete it.
func setPartiesPolicy(ctx contractapi.TransactionContextInterface, a *Agreement, key string) error {
	p, err := ccpolicy.AllOf(a.Parties.Provider.MSPID, a.Parties.Client.MSPID)
	if err != nil {
		return fmt.Errorf("SLA %q: key %q: %w", a.ID, key, err)
	}
	if err := ctx.GetStub().SetStateValidationParameter(key, p); err != nil {
		return fmt.Errorf("SLA %q: key %q: set key-level policy: %w", a.ID, key, err)
	}
	return nil
}
