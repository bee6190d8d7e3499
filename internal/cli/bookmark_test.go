package cli

import (
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// bookmarks of the chaincodes' pages: composite keys start with U+0000.
var testBookmarks = []string{
	"",
	"delta/client/00000000000000000001/tx/0",
	"\x00slas\x00client\x00ClientOrgMSP\x00client\x00SLA-1\x00",
	"\x00rep\x00O'Brien MSP\x00\"quoted\"\x00back\\slash\x00é\x00",
}

func TestBookmarkRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range testBookmarks {
		printed := bookmarkArg(b)
		// What a shell passes on when the printed text is pasted after --bookmark.
		out, err := exec.Command(sh, "-c", `printf %s `+printed).Output()
		if err != nil {
			t.Fatalf("sh with %s: %v", printed, err)
		}
		got, err := parseBookmark(string(out))
		if err != nil || got != b {
			t.Errorf("bookmark %q printed as %s, through the shell %q, read back %q (%v)", b, printed, out, got, err)
		}
		// The bookmark of a --json answer, pasted with or without its double quotes.
		j, _ := json.Marshal(b)
		for _, in := range []string{string(j), strings.Trim(string(j), `"`)} {
			if got, err := parseBookmark(in); err != nil || got != b {
				t.Errorf("JSON bookmark %s: read back %q (%v)", in, got, err)
			}
		}
	}
}

func TestBookmarkRefused(t *testing.T) {
	_, err := parseBookmark(`\q`)
	var u usageError
	if !errors.As(err, &u) || err.Error() != `--bookmark: "\\q" is not a bookmark printed by slasa (escapes such as \x00 or \u0000, as the previous page printed it)` {
		t.Fatalf("%v", err)
	}
}

func TestSLAListPrintsAShellBookmark(t *testing.T) {
	cmd := newListCommand()
	var buf strings.Builder
	cmd.SetOut(&buf)
	recs := []agreementRecord{{ID: "SLA-1", Status: "ACTIVE"}}
	if err := writeSLAList(cmd, recs, nil, testBookmarks[2], 1); err != nil {
		t.Fatal(err)
	}
	if want := `more: --bookmark '\x00slas\x00client\x00ClientOrgMSP\x00client\x00SLA-1\x00'` + "\n"; !strings.HasSuffix(buf.String(), want) {
		t.Fatalf("%q, want the suffix %q", buf.String(), want)
	}
}
