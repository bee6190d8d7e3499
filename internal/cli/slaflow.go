package cli

// Proposing and accepting an SLA: the steps `slasa sla propose` and
// `slasa sla accept` take, shared with the console's propose and accept
// pages so that both sign and submit the same way.

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/signedsla"
	"github.com/slasa/slasa/sla"
)

// slaSigner is the identity of a party that proposes or accepts an SLA:
// its certificate and private key (on the CLI's machine or the console's
// server, never a browser) and its organization's peer.
type slaSigner interface {
	// MSPID is the identity's organization.
	MSPID() string
	// Certificate is the identity's certificate.
	Certificate() (*x509.Certificate, error)
	// Key is the identity's private key.
	Key() (*ecdsa.PrivateKey, error)
	// Submit submits cc.fn(args) with the transient map, endorsed by
	// exactly the organizations orgs, waits for its commit and returns the
	// transaction id.
	Submit(ctx context.Context, cc, fn string, args []string, transient map[string][]byte, orgs []string) (string, error)
}

// slaProposal is an SLA document ready to be proposed: with its nonce,
// valid, its digest and the organizations that endorse it.
type slaProposal struct {
	Data       []byte
	Doc        *sla.SLA
	Digest     [32]byte
	NonceAdded bool
	Orgs       []string
}

// DigestHex is the proposal's digest in hex.
func (p *slaProposal) DigestHex() string { return hex.EncodeToString(p.Digest[:]) }

// prepareProposal is proposalOf with an invalid document's error listing
// each problem with its JSON path (describeInvalid; name names the
// document).
func prepareProposal(name string, data []byte) (*slaProposal, error) {
	p, err := proposalOf(data)
	if err != nil {
		return nil, describeInvalid(name, err)
	}
	return p, nil
}

// proposalOf adds a nonce to the document data when it has none,
// validates it and computes its digest. An invalid document gives a
// *sla.ValidationError (each problem with its JSON path).
func proposalOf(data []byte) (*slaProposal, error) {
	data, added, err := sla.WithNonce(data)
	if err != nil {
		return nil, err
	}
	digest, doc, err := sla.DigestOf(data)
	if err != nil {
		return nil, err
	}
	orgs, err := fabnet.SLAOrgs(doc.Parties.Provider.MSPID, doc.Parties.Client.MSPID)
	if err != nil {
		return nil, err
	}
	return &slaProposal{Data: data, Doc: doc, Digest: digest, NonceAdded: added, Orgs: orgs}, nil
}

// signerIsParty checks that l is the SLA's party in role (MSP ID,
// certificate subject and issuer).
func signerIsParty(l slaSigner, role string, p sla.Party) error {
	cert, err := l.Certificate()
	if err != nil {
		return err
	}
	return partyMismatch(role, p, l.MSPID(), cert)
}

// proposeSLA checks that l is the proposal's provider, signs its digest
// with l's key and submits ProposeSLA with the document as transient data,
// endorsed by exactly the provider's and the client's organizations. It
// returns the transaction id.
func proposeSLA(ctx context.Context, l slaSigner, cc string, p *slaProposal) (string, error) {
	if err := signerIsParty(l, "provider", p.Doc.Parties.Provider); err != nil {
		return "", fmt.Errorf("sla propose: %w", err)
	}
	key, err := l.Key()
	if err != nil {
		return "", err
	}
	sig, err := signedsla.Sign(p.Digest, key)
	if err != nil {
		return "", err
	}
	tx, err := l.Submit(ctx, cc, "ProposeSLA", []string{base64.StdEncoding.EncodeToString(sig)}, map[string][]byte{transientSLA: p.Data}, p.Orgs)
	if err != nil {
		return "", explain(cc+".ProposeSLA", err)
	}
	return tx, nil
}

// slaAcceptance is a proposed SLA checked for its client's signature: the
// stored document's digest is the recorded one and the provider's
// signature over it verifies.
type slaAcceptance struct {
	A      *agreementRecord
	Rec    *signedsla.Record
	Doc    *sla.SLA
	Digest [32]byte
	Orgs   []string
}

// prepareAccept checks the proposed SLA a (GetSLA on a peer of l's
// organization) before l signs it as its client: the document's digest is
// the recorded one, l is the SLA's client and the provider's signature
// verifies.
func prepareAccept(l slaSigner, a *agreementRecord) (*slaAcceptance, error) {
	rec, err := signedsla.Parse(a.Signed)
	if err != nil {
		return nil, fmt.Errorf("SLA %s: signed record: %w", a.ID, err)
	}
	orgs, err := a.orgs()
	if err != nil {
		return nil, err
	}
	digest, doc, err := sla.DigestOf(rec.Document)
	if err != nil {
		return nil, describeInvalid("SLA "+a.ID, err)
	}
	if hex.EncodeToString(digest[:]) != a.Digest {
		return nil, fmt.Errorf("SLA %s: the stored document's digest %x differs from the recorded digest %s: not signing", a.ID, digest, a.Digest)
	}
	if err := signerIsParty(l, "client", doc.Parties.Client); err != nil {
		return nil, fmt.Errorf("sla accept: %w", err)
	}
	if cert, err := signedsla.ParseCertificatePEM([]byte(rec.Provider.Certificate)); err != nil {
		return nil, fmt.Errorf("SLA %s: provider certificate: %w", a.ID, err)
	} else if err := signedsla.VerifyDigest(cert, digest[:], rec.Provider.Signature); err != nil {
		return nil, fmt.Errorf("SLA %s: the provider's signature does not verify: %w", a.ID, err)
	}
	return &slaAcceptance{A: a, Rec: rec, Doc: doc, Digest: digest, Orgs: orgs}, nil
}

// acceptSLA signs the checked SLA's digest with l's key and submits
// AcceptSLA with the document as transient data, endorsed by exactly the
// provider's and the client's organizations. It returns the transaction
// id.
func acceptSLA(ctx context.Context, l slaSigner, cc string, acc *slaAcceptance) (string, error) {
	key, err := l.Key()
	if err != nil {
		return "", err
	}
	sig, err := signedsla.Sign(acc.Digest, key)
	if err != nil {
		return "", err
	}
	tx, err := l.Submit(ctx, cc, "AcceptSLA", []string{acc.A.ID, acc.A.Digest, base64.StdEncoding.EncodeToString(sig)},
		map[string][]byte{transientSLA: acc.Rec.Document}, acc.Orgs)
	if err != nil {
		return "", explain(cc+".AcceptSLA", err)
	}
	return tx, nil
}
