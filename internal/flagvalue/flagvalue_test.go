package flagvalue

import (
	"flag"
	"reflect"
	"testing"
)

func TestListAndMulti(t *testing.T) {
	var l List
	var m Multi
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.Var(&l, "sla", "")
	fs.Var(&m, "probe", "")
	if err := fs.Parse([]string{"-sla", "a  b", "-sla", "c", "-probe", "p,zone-a,http://x/a b", "-probe", "q"}); err != nil {
		t.Fatal(err)
	}
	if want := (List{"a", "b", "c"}); !reflect.DeepEqual(l, want) {
		t.Errorf("List = %q, want %q", l, want)
	}
	if want := (Multi{"p,zone-a,http://x/a b", "q"}); !reflect.DeepEqual(m, want) {
		t.Errorf("Multi = %q, want %q", m, want)
	}
}
