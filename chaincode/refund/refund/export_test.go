package refund

// SetMaxCompactReputation lowers the index keys one CompactReputation
// folds, for tests; the returned function restores it.
func SetMaxCompactReputation(n int64) (restore func()) {
	old := maxCompactReputation
	maxCompactReputation = n
	return func() { maxCompactReputation = old }
}
