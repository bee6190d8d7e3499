package cli

// Commands on the refund chaincode's escrow and collateral:
//
//	slasa escrow claim SLA PERIOD     ClaimExpiredEscrow (a member of either party's organization)
//	slasa collateral show SLA         GetCollateral: the SLA's collateral hold
//	slasa collateral release SLA      ReleaseCollateral (a member of either party's organization)

import (
	"fmt"

	"github.com/spf13/cobra"
)

func addMoneyCommands(root *cobra.Command) {
	subcommand(root, "escrow", "Escrowed period fees of the refund chaincode").AddCommand(newEscrowClaimCommand())
	subcommand(root, "collateral", "Collateral the provider locked for an SLA (refund chaincode)").AddCommand(newCollateralShowCommand(), newCollateralReleaseCommand())
}

func newEscrowClaimCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "claim SLA PERIOD",
		Short: "Claim a period's escrow whose verdict did not come by its deadline (ClaimExpiredEscrow; default --as client)",
		Long: "Submits ClaimExpiredEscrow for the period starting at PERIOD (RFC 3339) of an SLA whose consequences\n" +
			"name an escrow_expiry, once its verdict deadline (the period's end plus verdict_within_seconds, fixed\n" +
			"when the period was paid) has passed: the fee goes to the client, to the provider, or is split, as\n" +
			"the SLA says, the period counts as \"no verdict\" in the reputation, and a verdict relayed later is\n" +
			"refused. A member of the provider's or the client's organization may claim. Default --as client.",
		Args: exactArgs(2, "SLA PERIOD"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("refund-cc")
			s, err := connect(cmd, "client")
			if err != nil {
				return err
			}
			defer s.Close()
			return submitSimple(cmd, s, cc, "ClaimExpiredEscrow", "claimed", args[0], args[1])
		},
	}
	refundCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}

func newCollateralShowCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show SLA",
		Short: "Print an SLA's collateral hold: amount, held, drawn, released (GetCollateral; default --as provider)",
		Args:  exactArgs(1, "SLA"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("refund-cc")
			s, err := connect(cmd, "provider")
			if err != nil {
				return err
			}
			defer s.Close()
			out, err := evaluateJSON(cmd, s, cc, "GetCollateral", args[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), string(out))
			return err
		},
	}
	refundCCFlag(cmd)
	return cmd
}

func newCollateralReleaseCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "release SLA",
		Short: "Give what is left of an SLA's collateral back to the provider's wallet (ReleaseCollateral; default --as provider)",
		Long: "Submits ReleaseCollateral: allowed once the SLA was withdrawn, or terminated and past its ends_at, or\n" +
			"past its validity, and only when none of its periods is still in escrow (each settled, expired or\n" +
			"refunded). A member of the provider's or the client's organization may release. Default --as provider.",
		Args: exactArgs(1, "SLA"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cc, _ := cmd.Flags().GetString("refund-cc")
			s, err := connect(cmd, "provider")
			if err != nil {
				return err
			}
			defer s.Close()
			return submitSimple(cmd, s, cc, "ReleaseCollateral", "released", args[0])
		},
	}
	refundCCFlag(cmd)
	addJSONFlag(cmd)
	return cmd
}
