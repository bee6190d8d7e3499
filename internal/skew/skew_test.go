package skew

import (
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"equal", now, ""},
		{"behind within", now.Add(-5 * time.Minute), ""},
		{"ahead within", now.Add(5 * time.Minute), ""},
		{"behind beyond", now.Add(-5*time.Minute - time.Millisecond),
			"transaction timestamp 2026-03-01T11:54:59.999Z is 5m0.001s behind this peer's clock (2026-03-01T12:00:00Z); more than the allowed 5m0s: submit it again with the current time"},
		{"ahead beyond", now.Add(time.Hour), "is 1h0m0s ahead of this peer's clock"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.t, now, Default)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv(EnvVar, "")
	if d, err := FromEnv(); err != nil || d != Default {
		t.Fatalf("unset: %s %v", d, err)
	}
	t.Setenv(EnvVar, "90s")
	if d, err := FromEnv(); err != nil || d != 90*time.Second {
		t.Fatalf("90s: %s %v", d, err)
	}
	t.Setenv(EnvVar, "soon")
	if _, err := FromEnv(); err == nil || !strings.Contains(err.Error(), `SLASA_MAX_CLOCK_SKEW: "soon" is not a duration`) {
		t.Fatalf("bad value: %v", err)
	}
	if err := Validate(0); err == nil || err.Error() != "max clock skew: 0s is not positive" {
		t.Fatalf("Validate(0) = %v", err)
	}
}
