package strictjson

import "testing"

func TestUnmarshal(t *testing.T) {
	type msg struct {
		A int    `json:"a"`
		B string `json:"b"`
	}
	tests := []struct {
		in string
		ok bool
	}{
		{`{"a":1,"b":"x"}`, true},
		{` {"a":1} `, true},
		{`{"a":1,"c":2}`, false},
		{`{"a":1} {"a":2}`, false},
		{`{"a":1}]`, false},
		{`{"a":1`, false},
		{``, false},
		{`[1]`, false},
	}
	for _, tc := range tests {
		var m msg
		if err := Unmarshal([]byte(tc.in), &m); (err == nil) != tc.ok {
			t.Errorf("Unmarshal(%q) error = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}
