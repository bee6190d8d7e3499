package sla

import "testing"

func BenchmarkParse(b *testing.B) {
	data := readFile(b, exampleFiles[1])
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDigest(b *testing.B) {
	s := mustParse(b, readFile(b, exampleFiles[1]))
	for b.Loop() {
		if _, err := Digest(s); err != nil {
			b.Fatal(err)
		}
	}
}
