package peercli

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// docPath is the document under test, relative to the repository root.
const docPath = "docs/peer-cli.md"

// block is one fenced bash block of the document.
type block struct {
	Line int // line of the opening fence, 1-based
	Code string
}

// bashBlocks returns the fenced ```bash blocks of a Markdown document, in order.
// An unterminated block is an error.
func bashBlocks(doc string) ([]block, error) {
	var blocks []block
	var cur *block
	sc := bufio.NewScanner(strings.NewReader(doc))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && trimmed == "```bash":
			cur = &block{Line: n}
		case cur != nil && trimmed == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.Code += line + "\n"
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cur != nil {
		return nil, fmt.Errorf("line %d: the bash block is not closed", cur.Line)
	}
	return blocks, nil
}

// script joins the blocks into one bash script that stops at the first failing command and says
// which block it is in.
func script(blocks []block) string {
	var b strings.Builder
	b.WriteString("set -euo pipefail\n")
	for i, bl := range blocks {
		fmt.Fprintf(&b, "echo '--- %s block %d (line %d)' >&2\n%s", docPath, i+1, bl.Line, bl.Code)
	}
	return b.String()
}

func TestBashBlocks(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []block
		err       string
	}{
		{"none", "# t\n```sh\nls\n```\n", nil, ""},
		{"two", "a\n```bash\necho 1\necho 2\n```\ntext\n```go\nx\n```\n```bash\necho 3\n```\n",
			[]block{{2, "echo 1\necho 2\n"}, {10, "echo 3\n"}}, ""},
		{"unclosed", "```bash\necho 1\n", nil, "line 1: the bash block is not closed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := bashBlocks(tc.doc)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// readDoc reads the document from the repository root above the working directory.
func readDoc(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", docPath))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestDocumentCoversTheLifecycle keeps the document complete: every step the README promises (the
// deploy configuration recorded on the contract chaincodes, wallets, an enclave registered and
// looked up by id, the lifecycle, the handover, anchors, settlement, a trouble ticket's transitions
// and queries) has a command in a bash block (which the integration test runs).
func TestDocumentCoversTheLifecycle(t *testing.T) {
	blocks, err := bashBlocks(readDoc(t))
	if err != nil {
		t.Fatal(err)
	}
	code := script(blocks)
	for _, want := range []string{
		"source network/env.sh provider", "source network/env.sh client",
		"for cc in agreement refund ercc", `{Args: ["Configure", $c]}`, `"GetConfig"`, "slasa config show",
		`"OpenAccount"`, `"Mint"`, "slasa enclave simulated-credentials", `"RegisterEnclave"`, `"QueryEnclave"`,
		`"QueryEnclaveByID"`, "slasa sla sign", `"ProposeSLA"`, `"AcceptSLA"`, `"ApproveEnclaveHandover"`,
		"slasa anchor sign", `"AnchorLogBatch"`, `"GetSLA"`, `"BalanceOf"`, `"GetReputation"`, `"GetProductScore"`, `"GetSLAScore"`,
		`"GetEscrow"`, "slasa verdict sign", `"SettleVerdict"`,
		// Terms private to the parties: the document as transient data, read back from the own copy.
		"--transient", "{sla: ($sla | @base64)}", ".signed.document", "source network/env.sh other other",
		// Trouble tickets: every transition and query, by the customer, the provider and the vendor.
		"network/deploy.sh ticket", "source network/env.sh vendor vendor", "slasa identity --as vendor --json",
		`"CreateTicket"`, "ticket_tx AssignVendor", "ticket_tx AcknowledgeTicket", "ticket_tx PauseTicket",
		"ticket_tx ResumeTicket", "ticket_tx UpdateTicket", "ticket_tx ResolveTicket", "ticket_tx ReopenTicket",
		"ticket_tx CloseTicket", "ticket_tx Escalate", "ticket_query GetTicket", "ticket_query ListTickets",
		"ticket_query GetTicketHistory",
	} {
		if !strings.Contains(code, want) {
			t.Errorf("%s: no bash block contains %q", docPath, want)
		}
	}
}
