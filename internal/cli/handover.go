package cli

// slasa sla handover ID ENCLAVE_ID: a party approves another registered
// enclave as the judge of an SLA (agreement ApproveEnclaveHandover).

import (
	"encoding/json"
	"fmt"
	"time"

	fpcclient "github.com/slasa/slasa/fpc/client"
	"github.com/slasa/slasa/fpc/credentials"
	"github.com/slasa/slasa/sla"
	"github.com/spf13/cobra"
)

// handoverResult is what `sla handover --json` prints.
type handoverResult struct {
	ID         string         `json:"id"`
	ApprovedAs string         `json:"approved_as"`
	EnclaveID  string         `json:"enclave_id"`
	TxID       string         `json:"tx_id"`
	HandedOver bool           `json:"handed_over"`
	Enclave    *enclavePin    `json:"enclave"`
	Previous   *enclavePin    `json:"previous,omitempty"`
	Handover   *handoverState `json:"handover,omitempty"`
}

// callerRole returns "provider" or "client": the role of the session's
// identity in the agreement (MSP ID, certificate subject and issuer).
func callerRole(s *session, a *agreementRecord) (string, error) {
	cert, err := s.Certificate()
	if err != nil {
		return "", err
	}
	provider := partyMismatch("provider", sla.Party(a.Parties.Provider), s.MSPID, cert)
	if provider == nil {
		return "provider", nil
	}
	client := partyMismatch("client", sla.Party(a.Parties.Client), s.MSPID, cert)
	if client == nil {
		return "client", nil
	}
	return "", fmt.Errorf("%w; %w", provider, client)
}

func newHandoverCommand() *cobra.Command {
	var registry string
	cmd := &cobra.Command{
		Use:   "handover ID ENCLAVE_ID",
		Short: "Approve another registered enclave as the judge of an SLA (a party; ApproveEnclaveHandover)",
		Long: "An SLA is settled only by verdicts of the enclave pinned when the client accepted it (slasa sla\n" +
			"show: enclave). A redeploy with new enclave keys or a key rotation takes over an SLA only through\n" +
			"this explicit handover: the provider and the client (each by MSP ID, certificate subject and\n" +
			"issuer) approve the new enclave by its id, and when both have named the same enclave the pin moves\n" +
			"(the old pin stays in the SLA's enclave history). The enclave must be registered in the enclave\n" +
			"registry for the pinned chaincode (slasa enclave show --id ENCLAVE_ID) and differ from the pinned\n" +
			"one; the SLA must be ACTIVE or TERMINATED. A party's new approval replaces its earlier one.\n" +
			"Prints the registration approved and the approvals still pending. --as provider or --as client\n" +
			"(default client).",
		Args: exactArgs(2, "ID ENCLAVE_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("agreement-cc")
			id, enclaveID := args[0], args[1]
			s, err := connect(cmd, "client")
			if err != nil {
				return err
			}
			defer s.Close()
			_, a, err := fetchAgreement(cmd, s, cc, id, 15*time.Second)
			if err != nil {
				return err
			}
			role, err := callerRole(s, a)
			if err != nil {
				return fmt.Errorf("sla handover: only the SLA's provider or client may approve a handover: %w", err)
			}
			if a.Enclave == nil || a.Enclave.EnclaveID == "" {
				return fmt.Errorf("SLA %s is %s and has no pinned enclave yet (the client's acceptance pins one)", id, a.Status)
			}
			if a.Enclave.EnclaveID == enclaveID {
				return fmt.Errorf("sla handover: %s is already the pinned enclave of SLA %s", enclaveID, id)
			}
			ctx, cancel := withTimeout(cmd)
			defer cancel()
			raw, err := s.Network.GetContract(registry).EvaluateWithContext(ctx, "QueryEnclaveByID", clientArgs(a.Enclave.Chaincode, enclaveID)...)
			if err != nil {
				return explain(registry+".QueryEnclaveByID", err)
			}
			var rec credentials.Record
			if err := json.Unmarshal(raw, &rec); err != nil {
				return fmt.Errorf("%s.QueryEnclaveByID: decode: %w", registry, err)
			}
			orgs, err := a.orgs()
			if err != nil {
				return err
			}
			_, commit, err := s.Network.GetContract(cc).SubmitAsyncWithContext(ctx, "ApproveEnclaveHandover", slaTxOptions(orgs, nil, id, enclaveID)...)
			if err == nil {
				err = waitCommit(ctx, commit)
			}
			if err != nil {
				return explain(cc+".ApproveEnclaveHandover", err)
			}
			_, after, err := fetchAgreement(cmd, s, cc, id, 0)
			if err != nil {
				return err
			}
			res := handoverResult{ID: id, ApprovedAs: role, EnclaveID: enclaveID, TxID: commit.TransactionID(),
				Enclave: after.Enclave, Handover: after.Handover}
			if after.Enclave != nil && after.Enclave.EnclaveID == enclaveID {
				res.HandedOver, res.Previous = true, a.Enclave
			}
			if jsonFlag(cmd) {
				return writeJSON(cmd.OutOrStdout(), res)
			}
			fields := [][2]string{{"approved", enclaveID + " as the " + role + " of SLA " + id},
				{"registration", fmt.Sprintf("%s version %s, sequence %d, %s attestation, host %s, registered %s by %s",
					rec.Chaincode, rec.ChaincodeVersion, rec.ChaincodeSequence, rec.AttestationType, rec.PeerMSPID, orDash(rec.RegisteredAt), orDash(identityText(rec.RegisteredBy)))}}
			if res.HandedOver {
				fields = append(fields, [2]string{"handed over", "both parties approved: the SLA is now judged by " + pinText(after.Enclave)},
					[2]string{"replaced", pinText(a.Enclave)})
			} else if after.Handover != nil {
				fields = append(fields, [2]string{"handover", handoverText(after.Handover)},
					[2]string{"enclave", "still " + pinText(after.Enclave)})
			}
			return writeFields(cmd.OutOrStdout(), append(fields, [2]string{"tx", res.TxID}))
		},
	}
	cmd.Flags().StringVar(&registry, "registry-cc", fpcclient.DefaultRegistry, "enclave registry chaincode name")
	agreementCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}
