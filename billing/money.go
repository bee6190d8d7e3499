package billing

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
)

//go:embed iso4217.txt
var iso4217Table string

// noMinorUnit marks the ISO 4217 codes whose minor unit is "N.A.".
const noMinorUnit = -1

// minorUnits parses the embedded table once.
var minorUnits = sync.OnceValues(func() (map[string]int, error) {
	m := make(map[string]int)
	for i, line := range strings.Split(iso4217Table, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 || len(f[0]) != 3 {
			return nil, fmt.Errorf("iso4217.txt line %d: want \"CODE minor-unit\", got %q", i+1, line)
		}
		if _, dup := m[f[0]]; dup {
			return nil, fmt.Errorf("iso4217.txt line %d: duplicate code %s", i+1, f[0])
		}
		if f[1] == "N.A." {
			m[f[0]] = noMinorUnit
			continue
		}
		e, err := strconv.Atoi(f[1])
		if err != nil || e < 0 || e > 4 {
			return nil, fmt.Errorf("iso4217.txt line %d: minor unit %q is neither 0 to 4 nor N.A", i+1, f[1])
		}
		m[f[0]] = e
	}
	return m, nil
})

// MinorUnits returns the ISO 4217 minor unit of the currency code: the
// number of decimal places between the minor and the major unit (USD 2,
// JPY 0, BHD 3, CLF 4). It fails for a code that is not an active ISO 4217
// code and for the codes without a minor unit (XAU, XDR, XXX, ...).
func MinorUnits(code string) (int, error) {
	m, err := minorUnits()
	if err != nil {
		return 0, err
	}
	e, ok := m[code]
	switch {
	case !ok:
		return 0, fmt.Errorf("currency %q: not an active ISO 4217 currency code", code)
	case e == noMinorUnit:
		return 0, fmt.Errorf("currency %q: ISO 4217 gives it no minor unit (N.A.), so it is not money", code)
	}
	return e, nil
}

// pow10 returns 10^e for 0 <= e <= 4.
func pow10(e int) uint64 {
	p := uint64(1)
	for range e {
		p *= 10
	}
	return p
}

// ErrOverflow is returned (wrapped) when a sum, difference or parsed amount
// does not fit in int64 minor units.
var ErrOverflow = errors.New("overflows int64 minor units")

// Amount is an amount of money: an integer number of minor units (cents
// for USD, yen for JPY, fils for BHD) of an ISO 4217 currency. There are no
// floating point numbers anywhere in the package.
type Amount struct {
	Minor    int64  `json:"minor"`
	Currency string `json:"currency"`
}

// Format writes the amount the way this package prints money everywhere:
// the ISO 4217 code, a space, a minus sign for negative amounts, the major
// units grouped in thousands with commas, and exactly the currency's minor
// unit of decimals after a point: "USD 1,234.56", "USD -12.00",
// "JPY 1,235", "BHD 1.500", "USD 0.00". Putting the code first and the sign
// next to the digits (the style of bank statements and SWIFT/ISO 20022
// amount displays) keeps the codes of a column aligned and the sign
// unambiguous. It fails only for a currency that MinorUnits refuses.
func (a Amount) Format() (string, error) {
	e, err := MinorUnits(a.Currency)
	if err != nil {
		return "", err
	}
	return a.Currency + " " + formatMinor(a.Minor, e), nil
}

// FormatNumber is Format without the currency code: "-1,234.56".
func (a Amount) FormatNumber() (string, error) {
	e, err := MinorUnits(a.Currency)
	if err != nil {
		return "", err
	}
	return formatMinor(a.Minor, e), nil
}

// String is Format, or for a currency MinorUnits refuses the minor units
// and the code as given ("1234 minor units of XYZ (unknown currency)").
func (a Amount) String() string {
	s, err := a.Format()
	if err != nil {
		return fmt.Sprintf("%d minor units of %q (unknown currency)", a.Minor, a.Currency)
	}
	return s
}

// formatMinor writes minor units with e decimals, grouped thousands.
func formatMinor(minor int64, e int) string {
	u := uint64(minor)
	neg := minor < 0
	if neg {
		u = uint64(^minor) + 1 // exact for math.MinInt64 too
	}
	p := pow10(e)
	major, frac := u/p, u%p
	digits := strconv.FormatUint(major, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if e > 0 {
		f := strconv.FormatUint(frac, 10)
		b.WriteByte('.')
		b.WriteString(strings.Repeat("0", e-len(f)))
		b.WriteString(f)
	}
	return b.String()
}

// ParseAmount reads a decimal string in major units of currency into minor
// units: "1234.56" USD is 123456, "-12" USD is -1200, "1500" JPY is 1500,
// "1.5" BHD is 1500. An optional sign, digits, and at most the currency's
// minor unit of decimals after a point; no grouping commas, spaces,
// exponents, or rounding: "1.234" USD is an error, not 123.
func ParseAmount(s, currency string) (Amount, error) {
	e, err := MinorUnits(currency)
	if err != nil {
		return Amount{}, err
	}
	in := s
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	intPart, fracPart, hasPoint := strings.Cut(s, ".")
	switch {
	case intPart == "":
		return Amount{}, fmt.Errorf("amount %q: no digits before the decimal point", in)
	case hasPoint && fracPart == "":
		return Amount{}, fmt.Errorf("amount %q: no digits after the decimal point", in)
	case len(fracPart) > e:
		return Amount{}, fmt.Errorf("amount %q: %s has %d decimal places, not %d", in, currency, e, len(fracPart))
	}
	for _, part := range []string{intPart, fracPart} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return Amount{}, fmt.Errorf("amount %q: %q is not a digit (write digits, an optional sign and point only)", in, c)
			}
		}
	}
	digits := intPart + fracPart + strings.Repeat("0", e-len(fracPart))
	limit := uint64(math.MaxInt64)
	if neg {
		limit++ // math.MinInt64 has one more unit
	}
	var u uint64
	for _, c := range digits {
		d := uint64(c - '0')
		if u > (limit-d)/10 {
			return Amount{}, fmt.Errorf("amount %q %s: %w", in, currency, ErrOverflow)
		}
		u = u*10 + d
	}
	if neg {
		return Amount{Minor: int64(^u + 1), Currency: currency}, nil
	}
	return Amount{Minor: int64(u), Currency: currency}, nil
}

// Add returns a + b. It fails when the currencies differ or the sum
// overflows int64.
func (a Amount) Add(b Amount) (Amount, error) {
	if a.Currency != b.Currency {
		return Amount{}, fmt.Errorf("cannot add %s to %s: currencies differ", b.Currency, a.Currency)
	}
	s, err := addMinor(a.Minor, b.Minor)
	if err != nil {
		return Amount{}, fmt.Errorf("%s + %s: %w", a, b, err)
	}
	return Amount{Minor: s, Currency: a.Currency}, nil
}

// Sub returns a - b. It fails when the currencies differ or the difference
// overflows int64.
func (a Amount) Sub(b Amount) (Amount, error) {
	if a.Currency != b.Currency {
		return Amount{}, fmt.Errorf("cannot subtract %s from %s: currencies differ", b.Currency, a.Currency)
	}
	s, err := subMinor(a.Minor, b.Minor)
	if err != nil {
		return Amount{}, fmt.Errorf("%s - %s: %w", a, b, err)
	}
	return Amount{Minor: s, Currency: a.Currency}, nil
}

// Neg returns -a; it fails for math.MinInt64 minor units.
func (a Amount) Neg() (Amount, error) {
	if a.Minor == math.MinInt64 {
		return Amount{}, fmt.Errorf("-(%s): %w", a, ErrOverflow)
	}
	return Amount{Minor: -a.Minor, Currency: a.Currency}, nil
}

func addMinor(a, b int64) (int64, error) {
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return 0, ErrOverflow
	}
	return a + b, nil
}

func subMinor(a, b int64) (int64, error) {
	if (b < 0 && a > math.MaxInt64+b) || (b > 0 && a < math.MinInt64+b) {
		return 0, ErrOverflow
	}
	return a - b, nil
}

// MarshalJSON writes the amount as {"minor": 123456, "currency": "USD",
// "formatted": "USD 1,234.56"}: the integer is the value, the string is for
// people. It fails for a currency MinorUnits refuses.
func (a Amount) MarshalJSON() ([]byte, error) {
	f, err := a.Format()
	if err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		Minor     int64  `json:"minor"`
		Currency  string `json:"currency"`
		Formatted string `json:"formatted"`
	}{a.Minor, a.Currency, f})
}

// FormatBPS writes basis points as a percent with two decimals computed
// with integers: 3000 is "30.00%", 1 is "0.01%", 10000 is "100.00%".
func FormatBPS(bps int64) string {
	sign := ""
	u := uint64(bps)
	if bps < 0 {
		sign, u = "-", uint64(^bps)+1
	}
	return fmt.Sprintf("%s%d.%02d%%", sign, u/100, u%100)
}
