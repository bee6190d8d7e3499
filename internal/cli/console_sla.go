package cli

// The console's propose and accept pages. The provider pastes or uploads an
// SLA document; the console validates it (every problem with its JSON path,
// also as you type through /propose/check), shows its digest with the nonce
// added, and on confirmation signs that digest with the provider's identity
// on the server and submits ProposeSLA (proposalOf, proposeSLA: what
// `slasa sla propose` does). The client reviews a proposed SLA, sees what
// it pays, and confirms: prepareAccept and acceptSLA, as `slasa sla accept`.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/slasa/slasa/sla"
)

// maxSLAUpload bounds a propose form: the largest SLA document and the
// form's other fields.
const maxSLAUpload = sla.MaxDocumentBytes + 64<<10

// digestText is what an SLA digest looks like.
var digestText = regexp.MustCompile(`^[0-9a-f]{64}$`)

// slaCheck is the answer of /propose/check: whether the document is valid,
// each problem with its JSON path, and its id and digest when valid (the
// digest only when the document already has its nonce: otherwise proposing
// adds one and the digest is shown then).
type slaCheck struct {
	Valid        bool          `json:"valid"`
	ID           string        `json:"id,omitempty"`
	Digest       string        `json:"digest,omitempty"`
	NonceMissing bool          `json:"nonce_missing,omitempty"`
	Problems     []sla.Problem `json:"problems"`
	Error        string        `json:"error,omitempty"`
}

// checkSLAText validates an SLA document as proposing it would.
func checkSLAText(data []byte) (*slaProposal, slaCheck) {
	p, err := proposalOf(data)
	if err != nil {
		c := slaCheck{Problems: []sla.Problem{}}
		var verr *sla.ValidationError
		if errors.As(err, &verr) {
			c.Problems = verr.Problems
		} else {
			c.Error = err.Error()
		}
		return nil, c
	}
	c := slaCheck{Valid: true, ID: p.Doc.ID, Problems: []sla.Problem{}, NonceMissing: p.NonceAdded}
	if !p.NonceAdded {
		c.Digest = p.DigestHex()
	}
	return p, c
}

// proposeInput is the document of a propose form: the uploaded file when
// one was chosen, else the pasted text.
func proposeInput(r *http.Request) ([]byte, error) {
	if r.MultipartForm != nil {
		if f, h, err := r.FormFile("file"); err == nil {
			defer f.Close()
			if h.Size > 0 {
				data, err := io.ReadAll(io.LimitReader(f, sla.MaxDocumentBytes+1))
				if err != nil {
					return nil, fmt.Errorf("file: %w", err)
				}
				return data, nil
			}
		} else if !errors.Is(err, http.ErrMissingFile) {
			return nil, fmt.Errorf("file: %w", err)
		}
	}
	text := r.PostForm.Get("sla")
	if strings.TrimSpace(text) == "" {
		return nil, errors.New("sla: paste an SLA JSON document or choose a file: nothing was submitted")
	}
	return []byte(text), nil
}

// proposeView is what the propose page shows.
type proposeView struct {
	Text     string
	Check    *slaCheck
	Review   *slaProposal
	Document string
	Fee      string
	Cycle    string
	Collat   string
	Party    string
}

func (s *consoleServer) proposePage(w http.ResponseWriter, _ *http.Request, cs *consoleSession, _ consoleLedger) {
	s.render(w, http.StatusOK, "propose", cs, pageData{Title: "Propose an SLA", Nav: "propose", Data: &proposeView{}})
}

// proposeCheck answers the page's script: the document's problems as JSON.
func (s *consoleServer) proposeCheck(w http.ResponseWriter, r *http.Request, _ *consoleSession, _ consoleLedger) {
	_, c := checkSLAText([]byte(r.PostForm.Get("sla")))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(c)
}

// propose reviews (step=review) or signs and proposes (step=sign) the
// posted document.
func (s *consoleServer) propose(w http.ResponseWriter, r *http.Request, cs *consoleSession, l consoleLedger) {
	v := &proposeView{Text: r.PostForm.Get("sla")}
	page := func(status int, msg string) {
		s.render(w, status, "propose", cs, pageData{Title: "Propose an SLA", Nav: "propose", Error: msg, Data: v})
	}
	step := r.PostForm.Get("step")
	if step != "review" && step != "sign" {
		page(http.StatusBadRequest, fmt.Sprintf("step: %q is not review or sign: nothing was submitted", step))
		return
	}
	data, err := proposeInput(r)
	if err != nil {
		page(http.StatusBadRequest, err.Error())
		return
	}
	v.Text = string(data)
	p, c := checkSLAText(data)
	if p == nil {
		v.Check = &c
		msg := fmt.Sprintf("sla: the document is not a valid SLA (%d problems, each below with its JSON path): nothing was submitted", len(c.Problems))
		if c.Error != "" {
			msg = "sla: " + strings.TrimPrefix(c.Error, "sla: ") + ": nothing was submitted"
		}
		page(http.StatusBadRequest, msg)
		return
	}
	if err := signerIsParty(l, "provider", p.Doc.Parties.Provider); err != nil {
		page(http.StatusForbidden, "parties.provider: "+err.Error()+": nothing was submitted")
		return
	}
	if step == "sign" {
		switch digest := r.PostForm.Get("digest"); {
		case p.NonceAdded:
			page(http.StatusBadRequest, "sla: the document has no nonce: review it first (the review adds one and shows the digest you sign): nothing was submitted")
			return
		case !digestText.MatchString(digest):
			page(http.StatusBadRequest, "digest: the reviewed digest (64 lower-case hex digits) is missing: review the document first: nothing was submitted")
			return
		case digest != p.DigestHex():
			page(http.StatusBadRequest, fmt.Sprintf("digest: the document's digest is %s, not the reviewed %s: review it again: nothing was submitted", p.DigestHex(), digest))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
		defer cancel()
		tx, err := proposeSLA(ctx, l, s.agreementCC, p)
		if err != nil {
			page(http.StatusConflict, err.Error())
			return
		}
		http.Redirect(w, r, "/slas/"+url.PathEscape(p.Doc.ID)+"?"+url.Values{"done": {"propose"}, "tx": {tx}}.Encode(), http.StatusSeeOther)
		return
	}
	doc := p.Doc
	v.Review, v.Document, v.Text = p, string(p.Data), string(p.Data)
	v.Fee, v.Cycle, v.Party = money(doc.Price.AmountMinor, doc.Price.Currency), cycleText(doc.Interval.BillingCycle), agreementParty(doc.Parties.Client).String()
	if c := doc.Consequences; c.CollateralMinor > 0 {
		v.Collat = fmt.Sprintf("%s locked from your wallet %s into the SLA's collateral hold when the proposal commits (refused when the wallet cannot cover it)",
			money(c.CollateralMinor, doc.Price.Currency), c.CollateralWallet)
	}
	s.render(w, http.StatusOK, "propose", cs, pageData{Title: "Propose SLA " + doc.ID, Nav: "propose", Data: v})
}

// acceptView is what the accept page shows.
type acceptView struct {
	Acc     *slaAcceptance
	Fee     string
	Cycle   string
	Wallet  string
	Collat  string
	Current string
}

// acceptance reads the SLA of the request's path and checks it for the
// client's signature; it writes the error page itself when it fails.
func (s *consoleServer) acceptance(ctx context.Context, w http.ResponseWriter, r *http.Request, cs *consoleSession, l consoleLedger) *slaAcceptance {
	id := r.PathValue("id")
	if !consoleIDText.MatchString(id) {
		s.fail(w, cs, http.StatusBadRequest, "sla: not an SLA id (1 to 256 printable ASCII characters, no space): nothing was read")
		return nil
	}
	a, _, err := s.source(l).slaRecord(ctx, id)
	if err != nil {
		s.fail(w, cs, http.StatusBadGateway, err.Error())
		return nil
	}
	if a.Status != "PROPOSED" {
		s.fail(w, cs, http.StatusConflict, fmt.Sprintf("SLA %s is %s, not PROPOSED: there is nothing to accept.", id, a.Status))
		return nil
	}
	acc, err := prepareAccept(l, a)
	if err != nil {
		status := http.StatusConflict
		if strings.HasPrefix(err.Error(), "sla accept: you are") {
			status = http.StatusForbidden
		}
		s.fail(w, cs, status, err.Error()+": nothing was signed.")
		return nil
	}
	return acc
}

func (s *consoleServer) acceptPage(w http.ResponseWriter, r *http.Request, cs *consoleSession, l consoleLedger) {
	ctx, cancel := pageContext(r)
	defer cancel()
	acc := s.acceptance(ctx, w, r, cs, l)
	if acc == nil {
		return
	}
	doc := acc.Doc
	v := &acceptView{Acc: acc, Fee: money(doc.Price.AmountMinor, doc.Price.Currency), Cycle: cycleText(doc.Interval.BillingCycle),
		Wallet: doc.Parties.Client.Wallet, Current: currentPeriod(acc.A, doc, s.now())}
	if c := doc.Consequences; c.CollateralMinor > 0 {
		v.Collat = fmt.Sprintf("%s of the provider's, locked in the SLA's collateral hold since the proposal: it pays the penalties beyond a period's fee", money(c.CollateralMinor, doc.Price.Currency))
	}
	s.render(w, http.StatusOK, "accept", cs, pageData{Title: "Accept SLA " + acc.A.ID, Nav: "slas", Data: v})
}

func (s *consoleServer) accept(w http.ResponseWriter, r *http.Request, cs *consoleSession, l consoleLedger) {
	digest := r.PostForm.Get("digest")
	if !digestText.MatchString(digest) {
		s.fail(w, cs, http.StatusBadRequest, "digest: the reviewed digest (64 lower-case hex digits) is missing: open the accept page again: nothing was submitted")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
	defer cancel()
	acc := s.acceptance(ctx, w, r, cs, l)
	if acc == nil {
		return
	}
	if acc.A.Digest != digest {
		s.fail(w, cs, http.StatusConflict, fmt.Sprintf("digest: the SLA's digest is now %s, not the reviewed %s: review it again: nothing was submitted", acc.A.Digest, digest))
		return
	}
	tx, err := acceptSLA(ctx, l, s.agreementCC, acc)
	if err != nil {
		s.fail(w, cs, http.StatusConflict, err.Error())
		return
	}
	http.Redirect(w, r, "/slas/"+url.PathEscape(acc.A.ID)+"?"+url.Values{"done": {"accept"}, "tx": {tx}}.Encode(), http.StatusSeeOther)
}

// parseBody reads a POST's form: multipart (a file upload) or URL-encoded.
func parseBody(r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "multipart/form-data") {
		err := r.ParseMultipartForm(1 << 20)
		if errors.Is(err, multipart.ErrMessageTooLarge) {
			return fmt.Errorf("the form is larger than %d bytes", maxSLAUpload)
		}
		return err
	}
	return r.ParseForm()
}
