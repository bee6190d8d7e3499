package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slasa/slasa/internal/fabricfake"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/sla"
)

// partyOf is the SLA party naming id.
func partyOf(id *fabricfake.Identity) sla.Party {
	i := identity.FromCert(id.MSPID, id.Cert)
	return sla.Party{MSPID: i.MSPID, CommonName: id.Cert.Subject.CommonName, Subject: i.Subject, Issuer: i.Issuer, Wallet: "w"}
}

// sessionOf is a session acting as id (only its certificate is read).
func sessionOf(t *testing.T, id *fabricfake.Identity) *session {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(p, id.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return &session{MSPID: id.MSPID, CN: id.Cert.Subject.CommonName, CertPath: p}
}

// TestCallerRole checks that the CLI names a party by MSP ID, subject and
// issuer, like the chaincodes: a certificate with the party's common name
// from a second CA of the MSP, or with another NodeOU role, is not the party.
func TestCallerRole(t *testing.T) {
	ca := fabricfake.MustNewCA("ProviderOrgMSP")
	ca2 := fabricfake.MustNewNamedCA("ProviderOrgMSP", "ca2.providerorg.slasa.local", "providerorg.slasa.local")
	cca := fabricfake.MustNewCA("ClientOrgMSP")
	provider := ca.MustIssue("provider@providerorg.slasa.local", "client")
	client := cca.MustIssue("client@clientorg.slasa.local", "client")
	var a agreementRecord
	a.Parties.Provider, a.Parties.Client = agreementParty(partyOf(provider)), agreementParty(partyOf(client))

	tests := []struct {
		name string
		who  *fabricfake.Identity
		role string
		err  []string
	}{
		{"provider", provider, "provider", nil},
		{"client", client, "client", nil},
		{"same common name, second CA", ca2.MustIssue("provider@providerorg.slasa.local", "client"), "",
			[]string{"you are ProviderOrgMSP/provider@providerorg.slasa.local (issuer ca2.providerorg.slasa.local), not the SLA's provider ProviderOrgMSP/provider@providerorg.slasa.local (issuer ca.providerorg.slasa.local)", "certificate issuer"}},
		{"same common name, admin role", ca.MustIssue("provider@providerorg.slasa.local", "admin"), "",
			[]string{"not the SLA's provider", "certificate subject", "OU=admin"}},
		{"another organization", fabricfake.MustNewCA("OtherOrgMSP").MustIssue("other@otherorg.slasa.local", "client"), "",
			[]string{"not the SLA's client ClientOrgMSP/client@clientorg.slasa.local", `MSP "OtherOrgMSP" is not the MSP "ClientOrgMSP"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			role, err := callerRole(sessionOf(t, tc.who), &a)
			if role != tc.role {
				t.Errorf("role %q, want %q", role, tc.role)
			}
			if (err != nil) != (len(tc.err) > 0) {
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			}
			for _, w := range tc.err {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}

	// propose and accept check the same way before signing anything.
	if err := checkParty(sessionOf(t, provider), "provider", partyOf(provider)); err != nil {
		t.Errorf("the provider is refused as itself: %v", err)
	}
	if err := checkParty(sessionOf(t, client), "provider", partyOf(provider)); err == nil ||
		!strings.Contains(err.Error(), "you are ClientOrgMSP/client@clientorg.slasa.local (issuer ca.clientorg.slasa.local), not the SLA's provider") {
		t.Errorf("the client as provider: %v", err)
	}
}
