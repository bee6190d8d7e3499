package billing

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestMinorUnits(t *testing.T) {
	tests := []struct {
		code    string
		want    int
		wantErr string
	}{
		{"USD", 2, ""},
		{"EUR", 2, ""},
		{"JPY", 0, ""},
		{"KRW", 0, ""},
		{"BHD", 3, ""},
		{"KWD", 3, ""},
		{"TND", 3, ""},
		{"CLF", 4, ""},
		{"UYW", 4, ""},
		{"XCG", 2, ""},
		{"ANG", 0, `currency "ANG": not an active ISO 4217 currency code`},
		{"usd", 0, `currency "usd": not an active ISO 4217 currency code`},
		{"", 0, `currency "": not an active ISO 4217 currency code`},
		{"XAU", 0, `currency "XAU": ISO 4217 gives it no minor unit (N.A.), so it is not money`},
		{"XXX", 0, `currency "XXX": ISO 4217 gives it no minor unit (N.A.), so it is not money`},
	}
	for _, tt := range tests {
		got, err := MinorUnits(tt.code)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("MinorUnits(%q) error = %v, want %q", tt.code, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("MinorUnits(%q) = %d, %v; want %d", tt.code, got, err, tt.want)
		}
	}
}

func TestISO4217TableComplete(t *testing.T) {
	m, err := minorUnits()
	if err != nil {
		t.Fatal(err)
	}
	// List One has about 180 codes; a truncated table would pass the
	// spot checks above.
	if len(m) < 170 {
		t.Errorf("table has %d codes, want the whole of ISO 4217 List One (about 180)", len(m))
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		minor    int64
		currency string
		want     string
	}{
		{123456, "USD", "USD 1,234.56"},
		{-1200, "USD", "USD -12.00"},
		{0, "USD", "USD 0.00"},
		{5, "USD", "USD 0.05"},
		{-5, "USD", "USD -0.05"},
		{100, "USD", "USD 1.00"},
		{99999, "USD", "USD 999.99"},
		{100000, "USD", "USD 1,000.00"},
		{30000, "EUR", "EUR 300.00"},
		{1234567, "JPY", "JPY 1,234,567"},
		{0, "JPY", "JPY 0"},
		{-1000, "JPY", "JPY -1,000"},
		{1500, "BHD", "BHD 1.500"},
		{-1, "BHD", "BHD -0.001"},
		{1234567, "KWD", "KWD 1,234.567"},
		{12345, "CLF", "CLF 1.2345"},
		{math.MaxInt64, "USD", "USD 92,233,720,368,547,758.07"},
		{math.MinInt64, "USD", "USD -92,233,720,368,547,758.08"},
		{math.MaxInt64, "JPY", "JPY 9,223,372,036,854,775,807"},
		{math.MinInt64, "BHD", "BHD -9,223,372,036,854,775.808"},
	}
	for _, tt := range tests {
		got, err := Amount{tt.minor, tt.currency}.Format()
		if err != nil || got != tt.want {
			t.Errorf("Amount{%d, %s}.Format() = %q, %v; want %q", tt.minor, tt.currency, got, err, tt.want)
		}
	}
	if _, err := (Amount{1, "ABC"}).Format(); err == nil || !strings.Contains(err.Error(), `"ABC"`) {
		t.Errorf("Format with unknown currency: error %v, want one naming ABC", err)
	}
	if got, want := (Amount{1, "ABC"}).String(), `1 minor units of "ABC" (unknown currency)`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in, currency string
		want         int64
		wantErr      string
	}{
		{"1234.56", "USD", 123456, ""},
		{"-12", "USD", -1200, ""},
		{"+0.5", "USD", 50, ""},
		{"0", "USD", 0, ""},
		{"1500", "JPY", 1500, ""},
		{"1.5", "BHD", 1500, ""},
		{"0.001", "BHD", 1, ""},
		{"1.2345", "CLF", 12345, ""},
		{"92233720368547758.07", "USD", math.MaxInt64, ""},
		{"-92233720368547758.08", "USD", math.MinInt64, ""},
		{"9223372036854775807", "JPY", math.MaxInt64, ""},
		{"92233720368547758.08", "USD", 0, "overflows int64 minor units"},
		{"-92233720368547758.09", "USD", 0, "overflows int64 minor units"},
		{"99999999999999999999", "JPY", 0, "overflows int64 minor units"},
		{"1.234", "USD", 0, `amount "1.234": USD has 2 decimal places, not 3`},
		{"1.5", "JPY", 0, `amount "1.5": JPY has 0 decimal places, not 1`},
		{"1,234.56", "USD", 0, `amount "1,234.56": ',' is not a digit`},
		{"", "USD", 0, `amount "": no digits before the decimal point`},
		{"-", "USD", 0, `amount "-": no digits before the decimal point`},
		{".5", "USD", 0, `amount ".5": no digits before the decimal point`},
		{"12.", "USD", 0, `amount "12.": no digits after the decimal point`},
		{"1e3", "USD", 0, `amount "1e3": 'e' is not a digit`},
		{" 1", "USD", 0, `amount " 1": ' ' is not a digit`},
		{"1", "ZZZ", 0, `currency "ZZZ": not an active ISO 4217 currency code`},
	}
	for _, tt := range tests {
		got, err := ParseAmount(tt.in, tt.currency)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseAmount(%q, %s) error = %v, want %q", tt.in, tt.currency, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != (Amount{tt.want, tt.currency}) {
			t.Errorf("ParseAmount(%q, %s) = %v, %v; want %d", tt.in, tt.currency, got, err, tt.want)
		}
	}
}

func TestAddSubNeg(t *testing.T) {
	usd := func(m int64) Amount { return Amount{m, "USD"} }
	tests := []struct {
		name    string
		op      func() (Amount, error)
		want    Amount
		wantErr string
	}{
		{"add", func() (Amount, error) { return usd(100).Add(usd(-250)) }, usd(-150), ""},
		{"sub", func() (Amount, error) { return usd(100).Sub(usd(250)) }, usd(-150), ""},
		{"add to max", func() (Amount, error) { return usd(math.MaxInt64 - 1).Add(usd(1)) }, usd(math.MaxInt64), ""},
		{"sub to min", func() (Amount, error) { return usd(math.MinInt64 + 1).Sub(usd(1)) }, usd(math.MinInt64), ""},
		{"add overflow", func() (Amount, error) { return usd(math.MaxInt64).Add(usd(1)) },
			Amount{}, "USD 92,233,720,368,547,758.07 + USD 0.01: overflows int64 minor units"},
		{"add underflow", func() (Amount, error) { return usd(math.MinInt64).Add(usd(-1)) },
			Amount{}, "USD -92,233,720,368,547,758.08 + USD -0.01: overflows int64 minor units"},
		{"sub overflow", func() (Amount, error) { return usd(0).Sub(usd(math.MinInt64)) },
			Amount{}, "USD 0.00 - USD -92,233,720,368,547,758.08: overflows int64 minor units"},
		{"sub underflow", func() (Amount, error) { return usd(-2).Sub(usd(math.MaxInt64)) },
			Amount{}, "overflows int64 minor units"},
		{"neg", func() (Amount, error) { return usd(5).Neg() }, usd(-5), ""},
		{"neg min", func() (Amount, error) { return usd(math.MinInt64).Neg() }, Amount{}, "overflows int64 minor units"},
		{"currencies differ", func() (Amount, error) { return usd(1).Add(Amount{1, "EUR"}) },
			Amount{}, "cannot add EUR to USD: currencies differ"},
		{"sub currencies differ", func() (Amount, error) { return usd(1).Sub(Amount{1, "JPY"}) },
			Amount{}, "cannot subtract JPY from USD: currencies differ"},
	}
	for _, tt := range tests {
		got, err := tt.op()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error = %v, want %q", tt.name, err, tt.wantErr)
			}
			if strings.Contains(tt.wantErr, "overflows") && !errors.Is(err, ErrOverflow) {
				t.Errorf("%s: error %v is not ErrOverflow", tt.name, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}

func TestFormatBPS(t *testing.T) {
	for bps, want := range map[int64]string{0: "0.00%", 1: "0.01%", 1000: "10.00%", 3000: "30.00%", 2550: "25.50%", 10000: "100.00%", -50: "-0.50%"} {
		if got := FormatBPS(bps); got != want {
			t.Errorf("FormatBPS(%d) = %q, want %q", bps, got, want)
		}
	}
}

func TestAmountJSON(t *testing.T) {
	b, err := json.Marshal(Amount{-30000, "USD"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"minor":-30000,"currency":"USD","formatted":"USD -300.00"}`; string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
	if _, err := json.Marshal(Amount{1, "ABC"}); err == nil {
		t.Error("JSON of an unknown currency: no error")
	}
}
