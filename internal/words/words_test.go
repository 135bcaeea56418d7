package words

import "testing"

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0 records", 1: "1 record", 2: "2 records", -1: "-1 records"} {
		if got := Count(n, "record", "records"); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestCountTakesAnyInteger(t *testing.T) {
	if got := Count(uint64(1), "journal", "journals"); got != "1 journal" {
		t.Errorf("uint64: %q", got)
	}
	if got := Plural(int64(3), "row", "rows"); got != "rows" {
		t.Errorf("int64: %q", got)
	}
}
