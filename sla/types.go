// Package sla defines the Parametric SLA: the machine-readable service level
// agreement that a provider and a client sign, monitor and settle on Fabric.
//
// The model follows ISO/IEC 19086-2: an SLA promises *metrics* (availability,
// error rate, latency, mean time to respond/resolve, throughput), each with
// *parameters* (units, percentile, which measurement) and *rules* (which
// samples are valid, what is a failed sample, when a sub-interval counts as
// down, how missing data is treated). The *interval* fixes the billing cycle
// (evaluation period), the sampling period and the sub-interval (minute) used
// by the algorithmic drivers. *Consequences* map metric values to service
// credits and penalties. The optional *support* section sets the
// trouble-ticket terms: acceptance and closure targets per severity, counted
// in 24x7 or business-hours calendars, pauses, escalation, per-ticket
// penalties and objectives over the tickets of a period.
//
// Everything that is endorsed on a ledger is an integer (minor currency
// units, basis points, milliseconds) or an exact decimal string; there are no
// floating point numbers anywhere in the model.
//
// The JSON Schema lives in schemas/parametric-sla.schema.json; the Go types
// here mirror it field for field.
package sla

import "github.com/slasa/slasa/internal/identity"

// SchemaVersion is the value of the schema_version field this package reads.
const SchemaVersion = "slasa.sla/v1"

// Billing cycle units.
const (
	CycleCalendarMonth = "calendar_month" // calendar month, UTC
	CycleDay           = "day"            // calendar day, UTC
	CycleHour          = "hour"           // clock hour, UTC
	CycleSeconds       = "seconds"        // fixed number of seconds from validity.start (tests, demos)
)

// Missing-data policies: what a sub-interval without enough valid samples counts as.
const (
	MissingDown     = "down"     // no data counts against the provider
	MissingUp       = "up"       // no data counts as available
	MissingExcluded = "excluded" // no data is left out of numerator and denominator
)

// Objective operators. The objective is met when `value OPERATOR target`.
const (
	OpGE = ">="
	OpGT = ">"
	OpLE = "<="
	OpLT = "<"
)

// Condition operators on a measurement of a sample.
const (
	CondEQ      = "=="
	CondNE      = "!="
	CondLT      = "<"
	CondLE      = "<="
	CondGT      = ">"
	CondGE      = ">="
	CondPresent = "present" // the sample carries the measurement (value ignored)
	CondAbsent  = "absent"  // the sample does not carry the measurement (value ignored)
)

// SLA is a Parametric SLA document.
type SLA struct {
	SchemaVersion string `json:"schema_version"`
	ID            string `json:"id"`
	// Nonce is 128 random bits written as 32 lower-case hex digits. It
	// makes the digest a hiding commitment: the digest is public on the
	// ledger while the terms are private to the parties, and without the
	// nonce anybody could confirm guessed terms against it. NewNonce makes
	// one; every SLA needs its own.
	Nonce        string       `json:"nonce"`
	Title        string       `json:"title"`
	Service      Service      `json:"service"`
	Parties      Parties      `json:"parties"`
	Price        Price        `json:"price"`
	Validity     Validity     `json:"validity"`
	Interval     Interval     `json:"interval"`
	Monitoring   Monitoring   `json:"monitoring"`
	Metrics      []Metric     `json:"metrics"`
	Consequences Consequences `json:"consequences"`
	// Support holds the trouble-ticket terms (severities with acceptance
	// and closure targets in calendars, pauses, escalation, per-ticket
	// penalties and objectives); nil when the SLA has none. Documents
	// without it keep the canonical form and digest they had before the
	// section existed.
	Support *Support `json:"support,omitempty"`
}

// Service describes the product the SLA covers; ProductID keys the product
// score kept by the refund chaincode.
type Service struct {
	ProductID   string `json:"product_id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Party is a Fabric identity: the MSP ID of its organization and the full
// subject and issuer distinguished names of its X.509 certificate (written as
// Fabric's cid.GetID writes them, package internal/identity), plus the
// wallet account that pays or is paid (empty for the logger). CommonName
// repeats the subject's CN for display and indexing; validation checks that
// the two agree. Only a certificate with exactly this MSP ID, subject and
// issuer acts as the party: another certificate with the same common name
// (from another CA of the MSP, or with another NodeOU role, which is part of
// the subject) does not.
type Party struct {
	MSPID      string `json:"msp_id"`
	CommonName string `json:"common_name"`
	Subject    string `json:"subject"`
	Issuer     string `json:"issuer"`
	Wallet     string `json:"wallet,omitempty"`
}

// ID returns the party's identity (MSP ID, subject, issuer).
func (p Party) ID() identity.ID {
	return identity.ID{MSPID: p.MSPID, Subject: p.Subject, Issuer: p.Issuer}
}

// Parties names who provides, who consumes and who logs.
type Parties struct {
	Provider Party `json:"provider"`
	Client   Party `json:"client"`
	// Logger is the agreed Cloud Logger identity whose signature every log
	// batch must carry.
	Logger Party `json:"logger"`
}

// Price is the fee for one billing period in minor currency units (cents).
type Price struct {
	AmountMinor int64  `json:"amount_minor"`
	Currency    string `json:"currency"` // ISO 4217 code, e.g. "USD"
}

// Validity is the window [Start, End) in which the SLA is in force, both
// RFC 3339 timestamps in UTC ("2026-01-01T00:00:00Z").
type Validity struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Interval is the computation interval of the SLA.
type Interval struct {
	BillingCycle BillingCycle `json:"billing_cycle"`
	// TimeZone is always "UTC"; it is explicit so that nobody has to guess.
	TimeZone string `json:"time_zone"`
	// SamplingPeriodMS is the agreed time between two samples of one probe.
	// A probe reports at most one sample per sampling slot; more are
	// rejected as duplicates.
	SamplingPeriodMS int64 `json:"sampling_period_ms"`
	// SubIntervalSeconds is the length of the unit of downtime, 60 for
	// "downtime minutes". It divides every period evenly.
	SubIntervalSeconds int64 `json:"sub_interval_seconds"`
}

// BillingCycle is the evaluation period. Periods of calendar units are
// aligned to UTC calendar boundaries; periods of Unit "seconds" are aligned to
// Validity.Start.
type BillingCycle struct {
	Unit    string `json:"unit"`
	Seconds int64  `json:"seconds,omitempty"` // only with Unit "seconds"
}

// Monitoring declares where measurements come from.
type Monitoring struct {
	Zones []Zone `json:"zones"`
}

// Zone is a failure domain probed independently (an availability zone).
type Zone struct {
	ID     string `json:"id"`
	Region string `json:"region"`
}

// Metric is one promise of the SLA (ISO/IEC 19086-2 metric).
type Metric struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Unit        string     `json:"unit"` // percent, ms, s, min, h, per_second
	Driver      DriverRef  `json:"driver"`
	Objective   Objective  `json:"objective"`
	Parameters  Parameters `json:"parameters"`
	Rules       Rules      `json:"rules"`
}

// DriverRef names the versioned algorithmic driver that computes a metric.
type DriverRef struct {
	ID      string `json:"id"`
	Version string `json:"version"`
}

// Objective is the service level objective: met when `value Operator Target`.
// Target is an exact decimal string in the metric's unit ("99.99", "20").
type Objective struct {
	Operator string `json:"operator"`
	Target   string `json:"target"`
}

// Parameters are the metric's parameters (ISO/IEC 19086-2 parameters).
type Parameters struct {
	// Measurement is the measurement the driver reads (latency_ms for a
	// latency percentile, requests for throughput).
	Measurement string `json:"measurement,omitempty"`
	// Percentile for latency drivers, 1..100 (nearest-rank method).
	Percentile int64 `json:"percentile,omitempty"`
}

// Rules are the metric's rules (ISO/IEC 19086-2 rules).
type Rules struct {
	// Valid lists conditions that every counted sample must meet (all of
	// them); samples failing one are rejected and counted by reason.
	Valid []Condition `json:"valid,omitempty"`
	// Failure lists conditions of which any one makes a valid sample failed.
	Failure []Condition `json:"failure,omitempty"`
	// ZoneDownBPS: a zone is down in a sub-interval when its failed samples
	// are at least this share (basis points) of its valid samples there.
	// 10000 means every sample failed.
	ZoneDownBPS int64 `json:"zone_down_bps,omitempty"`
	// MinZonesDown: a sub-interval is down when at least this many zones
	// are down in it ("unavailable when probes in >= 2 zones fail").
	MinZonesDown int64 `json:"min_zones_down,omitempty"`
	// MinSamples: a zone needs at least this many valid samples in a
	// sub-interval to be observed there; otherwise its data is missing.
	MinSamples int64 `json:"min_samples,omitempty"`
	// MissingData says what an unobserved zone in a sub-interval counts as:
	// "down", "up" or "excluded".
	MissingData string `json:"missing_data,omitempty"`
}

// Condition is a test on one named measurement of a sample; values are
// integers (booleans are 1 and 0).
type Condition struct {
	Measurement string `json:"measurement"`
	Op          string `json:"op"`
	Value       int64  `json:"value,omitempty"`
}

// Consequences maps metric outcomes to money.
type Consequences struct {
	// CreditTiers: for each metric, the tier with the highest credit whose
	// threshold the value is worse than applies.
	CreditTiers []CreditTier `json:"credit_tiers"`
	// MaxCreditBPS caps the sum of the credits over all metrics (10000 =
	// the whole period's fee).
	MaxCreditBPS int64 `json:"max_credit_bps"`
	// Penalties are fixed amounts owed when a metric's objective is missed.
	Penalties []Penalty `json:"penalties,omitempty"`
	// CollateralWallet is the provider's collateral account that covers
	// penalties beyond the escrowed fee; empty when there is none.
	CollateralWallet string `json:"collateral_wallet,omitempty"`
	// CollateralMinor is the collateral in minor units of the price's
	// currency that the provider locks from CollateralWallet into a
	// collateral hold when it proposes the SLA (the refund chaincode); the
	// penalties beyond the period's fee are paid from the hold, which goes
	// back to the provider only after the SLA's last period is settled or
	// expired. 0 (left out) when nothing is locked: penalties are then
	// paid from CollateralWallet as far as it has funds, which the
	// provider can empty.
	CollateralMinor int64 `json:"collateral_minor,omitempty"`
	// EscrowExpiry says how long after a period's end its verdict may take
	// and what happens to the escrowed fee without one; nil when a
	// period's escrow waits for its verdict for ever.
	EscrowExpiry *EscrowExpiry `json:"escrow_expiry,omitempty"`
	// Termination lets the client terminate when a metric is worse than
	// a threshold.
	Termination *Termination `json:"termination,omitempty"`
}

// Outcomes of an escrow whose verdict did not come in time.
const (
	ExpiryRefundClient    = "refund_client"
	ExpiryReleaseProvider = "release_provider"
	ExpirySplit           = "split"
)

// EscrowExpiry is the deadline of a period's verdict and the outcome
// without one: after period end + VerdictWithinSeconds either party may
// claim the escrow (refund ClaimExpiredEscrow), which pays the fee to the
// client (refund_client), to the provider (release_provider), or ClientBPS
// basis points of it to the client and the rest to the provider (split).
type EscrowExpiry struct {
	VerdictWithinSeconds int64  `json:"verdict_within_seconds"`
	Outcome              string `json:"outcome"`
	ClientBPS            int64  `json:"client_bps,omitempty"`
}

// CreditTier grants CreditBPS of the period's fee when the metric's value is
// worse than WorseThan ("worse" follows the objective's direction: below for
// >= and >, above for <= and <).
type CreditTier struct {
	Metric    string `json:"metric"`
	WorseThan string `json:"worse_than"`
	CreditBPS int64  `json:"credit_bps"`
}

// Penalty is a fixed amount in minor units owed when Metric's objective is
// not met in a period.
type Penalty struct {
	Metric      string `json:"metric"`
	AmountMinor int64  `json:"amount_minor"`
}

// Termination gives the client the right to terminate when Metric is worse
// than WorseThan in a period.
type Termination struct {
	Metric    string `json:"metric"`
	WorseThan string `json:"worse_than"`
}
