package cli

// slasa identity: who an identity is, as the chaincodes compare identities
// (internal/identity: MSP ID + subject DN + issuer DN, and the NodeOU role).

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/slasa/slasa/internal/fabnet"
	"github.com/slasa/slasa/internal/identity"
	"github.com/slasa/slasa/signedsla"
	"github.com/spf13/cobra"
)

// partyBlock is an SLA party as the SLA document names it (sla.Party without
// the wallet).
type partyBlock struct {
	MSPID      string `json:"msp_id"`
	CommonName string `json:"common_name"`
	Subject    string `json:"subject"`
	Issuer     string `json:"issuer"`
}

// identityInfo is what `slasa identity --json` prints.
type identityInfo struct {
	// Party is the identity as an SLA's parties block names it.
	Party partyBlock `json:"party"`
	// Role is the certificate's NodeOU role ("admin", "client", ...; "" when none).
	Role string `json:"role"`
	// Name is the --as name; empty for an explicit --msp-id/--cert.
	Name string `json:"name,omitempty"`
}

// describeIdentity names a certificate of mspID.
func describeIdentity(mspID string, cert *x509.Certificate) identityInfo {
	id := identity.FromCert(mspID, cert)
	return identityInfo{
		Party: partyBlock{MSPID: id.MSPID, CommonName: identity.CommonName(id.Subject), Subject: id.Subject, Issuer: id.Issuer},
		Role:  identity.Role(cert),
	}
}

func newIdentityCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "identity [--as NAME | --msp-id MSP --cert FILE] [--json]",
		Short: "Print an identity's MSP ID, common name, subject, issuer and NodeOU role (what an SLA's parties block names)",
		Long: "Prints who an identity is the way the chaincodes compare identities: MSP ID, full subject DN and\n" +
			"issuer DN (written like Fabric's cid.GetID), its common name, and the NodeOU role of its certificate.\n" +
			"--json prints {\"party\": {msp_id, common_name, subject, issuer}, \"role\": ...}: the party object is\n" +
			"what an SLA's parties block needs (add the wallet). Reads the certificate only; no network call.",
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			as, _ := cmd.Flags().GetString("as")
			ex := readExplicitFlags(cmd)
			var (
				mspID, certPath, name string
			)
			if ex.MSPID != "" || ex.Cert != "" {
				if as != "" {
					return usageError{errors.New("--as and --msp-id/--cert exclude each other")}
				}
				if ex.MSPID == "" || ex.Cert == "" {
					return usageError{errors.New("an explicit identity needs both --msp-id and --cert")}
				}
				mspID, certPath = ex.MSPID, ex.Cert
			} else {
				id, err := identityFlag(cmd, "provider")
				if err != nil {
					return err
				}
				info, err := loadNetwork(cmd)
				if err != nil {
					return err
				}
				org, user, _ := fabnet.Identity(id)
				o, ok := info.Orgs[org]
				if !ok {
					return fmt.Errorf("identity %q: %w", id, fabnet.MissingOrgError(org))
				}
				u, ok := o.Users[user]
				if !ok {
					return fmt.Errorf("identity %q: user %q of %s not in the network description (provider-ca2 and provider-admin-role need a network started with SLASA_SECOND_CA=1)", id, user, o.MSPID)
				}
				mspID, certPath, name = o.MSPID, u.CertPath, id
			}
			data, err := os.ReadFile(certPath)
			if err != nil {
				return fmt.Errorf("certificate: %w", err)
			}
			cert, err := signedsla.ParseCertificatePEM(data)
			if err != nil {
				return fmt.Errorf("certificate %s: %w", certPath, err)
			}
			info := describeIdentity(mspID, cert)
			info.Name = name
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), info)
			}
			return writeFields(cmd.OutOrStdout(), [][2]string{
				{"msp_id", info.Party.MSPID}, {"common_name", info.Party.CommonName},
				{"subject", info.Party.Subject}, {"issuer", info.Party.Issuer}, {"role", orDash(info.Role)},
			})
		},
	}
	addJSONFlag(cmd)
	return cmd
}
