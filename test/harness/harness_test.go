package harness

import "testing"

func TestFreePortBase(t *testing.T) {
	base, err := FreePortBase()
	if err != nil {
		t.Skipf("no free block on this machine: %v", err)
	}
	if base < 20000 || base+250 > 32500 || base == 27000 || (base-20000)%250 != 0 {
		t.Fatalf("FreePortBase = %d, outside the documented range or alignment", base)
	}
}
