package sortedkey

import (
	"fmt"
	"testing"
)

type kv struct {
	k string
	n int
}

func TestSlot(t *testing.T) {
	var list []kv
	key := func(e kv) string { return e.k }
	newKV := func(k string) kv { return kv{k: k} }
	for _, k := range []string{"2026-03", "2026-01", "2026-03", "2026-02", "2026-01", "2026-01"} {
		list[Slot(&list, k, key, newKV)].n++
	}
	if got := fmt.Sprint(list); got != "[{2026-01 3} {2026-02 1} {2026-03 2}]" {
		t.Fatalf("list %s", got)
	}
	if i, ok := Find(list, "2026-02", key); !ok || i != 1 {
		t.Fatalf("Find 2026-02: %d %v", i, ok)
	}
	if i, ok := Find(list, "2026-04", key); ok || i != 3 {
		t.Fatalf("Find 2026-04: %d %v", i, ok)
	}
}
