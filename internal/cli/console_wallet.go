package cli

import (
	"context"
	"fmt"

	"github.com/slasa/slasa/internal/identity"
)

// The Wallet page's lookup of the wallet of a user without a configured
// one: one page of ListSLAs of consoleWalletListPage (the chaincode's
// largest) and at most consoleWalletSLAs SLA documents.
const (
	consoleWalletListPage = 100
	consoleWalletSLAs     = 3
)

// consoleWallet returns the wallet the Wallet page shows a user of role
// without a configured wallet: the wallet that the first of the user's SLAs
// (ListSLAs' first page, in the chaincode's order) naming one names for the
// user. It reads one page of ListSLAs and at most consoleWalletSLAs
// documents, whatever the number of SLAs on the ledger (slasa statement's
// partyWallet reads them all to refuse an ambiguous choice; the console's
// operator sets wallet in the configuration for a user whose SLAs use
// several wallets).
func consoleWallet(ctx context.Context, l consoleLedger, src *billingSource, role string) (string, error) {
	caller := l.Caller()
	_, page, err := listSLAPage(ctx, l.Evaluate, src.agreement, role, caller.MSPID, identity.CommonName(caller.Subject), consoleWalletListPage, "")
	if err != nil {
		return "", err
	}
	read := 0
	for _, r := range page.Records {
		p := r.Parties.Client
		if role == roleProvider {
			p = r.Parties.Provider
		}
		if p.MSPID != caller.MSPID || p.Subject != caller.Subject || p.Issuer != caller.Issuer {
			continue
		}
		if read == consoleWalletSLAs {
			break
		}
		read++
		_, doc, err := src.slaRecord(ctx, r.ID)
		if err != nil {
			return "", err
		}
		w := doc.Parties.Client.Wallet
		if role == roleProvider {
			w = doc.Parties.Provider.Wallet
		}
		if w != "" {
			return w, nil
		}
	}
	return "", fmt.Errorf("no wallet is configured for this user, and none of its first SLAs names it (%s) as its %s with a wallet: the operator sets wallet in the console's configuration", idText(caller, ""), role)
}
