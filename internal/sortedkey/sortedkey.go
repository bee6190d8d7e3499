// Package sortedkey keeps a slice sorted by a string key, one element per
// key: the months of a score, the products of a reputation summary.
package sortedkey

import (
	"slices"
	"strings"
)

// Find returns the index of the element of list (sorted by key) whose key
// is k, and whether there is one; when there is none, the index is where
// it would go.
func Find[T any](list []T, k string, key func(T) string) (int, bool) {
	return slices.BinarySearchFunc(list, k, func(e T, k string) int { return strings.Compare(key(e), k) })
}

// Slot returns the index of the element of *list (sorted by key) whose key
// is k, inserting newT(k) at its place first when there is none.
func Slot[T any](list *[]T, k string, key func(T) string, newT func(string) T) int {
	i, found := Find(*list, k, key)
	if !found {
		*list = slices.Insert(*list, i, newT(k))
	}
	return i
}
