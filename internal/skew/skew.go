// Package skew is the one clock guard of slasa's chaincode servers: a peer
// refuses to endorse a transaction whose timestamp (chosen by the client,
// unchecked by Fabric) is more than the allowed skew away from its own clock.
// The clock only refuses; it never decides what is written.
//
// Every chaincode server takes the allowed skew from the same places: the
// -max-clock-skew flag, else the SLASA_MAX_CLOCK_SKEW environment variable
// (a Go duration such as "5m"), else Default. The contract-API chaincodes use
// it through internal/ccguard, the enclave runtime (v1 shim) directly.
//
// The package is pure Go: both shim generations link it.
package skew

import (
	"fmt"
	"os"
	"time"
)

// Default is the largest difference between a transaction's timestamp and
// the endorsing peer's clock accepted by default.
const Default = 5 * time.Minute

// EnvVar names the environment variable that sets the allowed skew.
const EnvVar = "SLASA_MAX_CLOCK_SKEW"

// FromEnv returns the skew named by SLASA_MAX_CLOCK_SKEW, or Default when
// it is not set.
func FromEnv() (time.Duration, error) {
	v := os.Getenv(EnvVar)
	if v == "" {
		return Default, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a duration: %w", EnvVar, v, err)
	}
	return d, nil
}

// Validate fails unless max is positive.
func Validate(max time.Duration) error {
	if max <= 0 {
		return fmt.Errorf("max clock skew: %s is not positive", max)
	}
	return nil
}

// Check refuses a transaction timestamp t more than max away from the
// peer's clock reading now.
func Check(t, now time.Time, max time.Duration) error {
	t, now = t.UTC(), now.UTC()
	d := t.Sub(now)
	if d < 0 {
		d = -d
	}
	// mutate:check skew-check tested-by=./internal/skew,./internal/ccguard,./fpc/runtime
	if d > max {
		dir := "behind"
		if t.After(now) {
			dir = "ahead of"
		}
		return fmt.Errorf("transaction timestamp %s is %s %s this peer's clock (%s); more than the allowed %s: submit it again with the current time",
			t.Format(time.RFC3339Nano), d.Round(time.Millisecond), dir, now.Format(time.RFC3339Nano), max)
	}
	return nil
}
