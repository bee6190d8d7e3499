package harness

import (
	"fmt"
	"testing"
)

func TestFreePortBase(t *testing.T) {
	base, err := FreePortBase()
	if err != nil {
		t.Skipf("no free block on this machine: %v", err)
	}
	if base < 20000 || base+PortBlock > 32500 || base == 27000 || (base-20000)%PortBlock != 0 {
		t.Fatalf("FreePortBase = %d, outside the documented range or alignment", base)
	}
}

func TestStartRejectsOrgs(t *testing.T) {
	for _, n := range []int{-1, 1, 2, 21} {
		if _, err := Start(Options{Orgs: n}); err == nil || err.Error() != fmt.Sprintf("Options.Orgs: %d must be 3..20", n) {
			t.Errorf("Start(Orgs: %d): err = %v", n, err)
		}
	}
}
