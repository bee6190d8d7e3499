package cli

import (
	"fmt"
	"strconv"
	"strings"
)

// bookmarkArg is a page's bookmark as slasa prints it for the next
// command line: Go escapes (\x00 for the U+0000 that starts a composite
// key) inside single quotes, so that a shell passes it unchanged and
// parseBookmark reads it back.
func bookmarkArg(b string) string {
	q := strconv.Quote(b)
	return "'" + strings.ReplaceAll(q[1:len(q)-1], "'", `'\''`) + "'"
}

// parseBookmark reads a --bookmark flag: the text slasa printed for the
// next page (bookmarkArg, after the shell removed its quotes), the
// bookmark of a --json answer with its JSON escapes (\u0000), with or
// without its double quotes, or a bookmark without escapes as it is.
func parseBookmark(s string) (string, error) {
	if !strings.ContainsAny(s, `\"`) {
		return s, nil
	}
	q := s
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		q = `"` + q + `"`
	}
	b, err := strconv.Unquote(q)
	if err != nil {
		return "", usageError{fmt.Errorf("--bookmark: %q is not a bookmark printed by slasa (escapes such as \\x00 or \\u0000, as the previous page printed it)", s)}
	}
	return b, nil
}
