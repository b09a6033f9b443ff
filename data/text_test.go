package data

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestVocabRoundTrip(t *testing.T) {
	text := []byte("héllo, wörld — ça va?\n")
	v, err := NewRuneVocab(text)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := v.Encode(text)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Decode(ids); got != string(text) {
		t.Fatalf("round trip %q, want %q", got, text)
	}
	if v.Size() != 16 || v.Symbol(0) != "\n" || v.Symbol(v.Size()-1) != "—" || v.Bytes() {
		t.Fatalf("size %d, first %q, last %q", v.Size(), v.Symbol(0), v.Symbol(v.Size()-1))
	}
	for i := 1; i < v.Size(); i++ {
		if v.symbols[i-1] >= v.symbols[i] {
			t.Fatal("symbols not sorted")
		}
	}
	_, err = v.Encode([]byte("hollx"))
	wantErr(t, err, `character 'x' at byte offset 4`)
	_, err = NewRuneVocab([]byte("ok\xffno"))
	wantErr(t, err, "not valid UTF-8 at byte offset 2")

	bv := NewByteVocab([]byte("ok\xffno"))
	ids, err = bv.Encode([]byte("\xffook"))
	if err != nil {
		t.Fatal(err)
	}
	if bv.Size() != 4 || bv.Decode(ids) != "\xffook" || !slices.Equal(ids, []int{3, 2, 2, 0}) {
		t.Fatalf("byte vocab size %d ids %v", bv.Size(), ids)
	}
	_, err = bv.Encode([]byte("z"))
	wantErr(t, err, "byte 0x7a at offset 0")
}

func TestTextOpticks(t *testing.T) {
	p, err := OpticksPath()
	if err != nil {
		t.Skip(err)
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	txt, err := LoadText("", TextOptions{}) // the default is the Opticks
	if err != nil {
		t.Fatal(err)
	}
	if txt.Name != p {
		t.Fatalf("default text %s, want %s", txt.Name, p)
	}
	n := len(txt.Train) + len(txt.Val)
	if n != len([]rune(string(raw))) {
		t.Fatalf("%d ids for %d runes", n, len([]rune(string(raw))))
	}
	if got := txt.Vocab.Decode(txt.Train) + txt.Vocab.Decode(txt.Val); got != string(raw) {
		t.Fatal("decoding train+val does not give back the text")
	}
	if len(txt.Val) != (n+5)/10 && len(txt.Val) != n/10 {
		t.Fatalf("validation part %d of %d", len(txt.Val), n)
	}
	bt, err := LoadText(p, TextOptions{Bytes: true, ValFraction: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(bt.Train) != len(raw) || len(bt.Val) != 0 || bt.Vocab.Size() <= txt.Vocab.Size()-10 {
		t.Fatalf("byte text: %d train, %d val, %d symbols", len(bt.Train), len(bt.Val), bt.Vocab.Size())
	}
}

func TestTinyShakespeare(t *testing.T) {
	d := sharedData(t)
	if d == "" || !isFile(filepath.Join(d, TinyShakespeareFile)) {
		t.Skip("tinyshakespeare.txt not found beside the repository")
	}
	p, err := TinyShakespearePath(filepath.Join(d, TinyShakespeareFile))
	if err != nil {
		t.Fatal(err)
	}
	txt, err := LoadText(p, TextOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if txt.Vocab.Size() != 65 || len(txt.Train)+len(txt.Val) != 1115394 || len(txt.Train) != 1003855 {
		t.Fatalf("vocab %d, %d train + %d val", txt.Vocab.Size(), len(txt.Train), len(txt.Val))
	}
	if txt.Vocab.Decode(txt.Train[:14]) != "First Citizen:" {
		t.Fatalf("starts %q", txt.Vocab.Decode(txt.Train[:14]))
	}
}

func TestNewTextErrors(t *testing.T) {
	_, err := NewText("t", nil, TextOptions{})
	wantErr(t, err, "text t is empty")
	_, err = NewText("t", []byte("abc"), TextOptions{ValFraction: 1})
	wantErr(t, err, "validation fraction 1")
	_, err = LoadText(filepath.Join(t.TempDir(), "none.txt"), TextOptions{})
	wantErr(t, err, "none.txt")
	_, err = TinyShakespearePath(filepath.Join(t.TempDir(), "none.txt"))
	wantErr(t, err, "none.txt not found")
}

func TestWindowSampler(t *testing.T) {
	ids := make([]int, 50)
	for i := range ids {
		ids[i] = i
	}
	s, err := NewWindowSampler(ids, 8, 4, 42)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := NewWindowSampler(ids, 8, 4, 42)
	s3, _ := NewWindowSampler(ids, 8, 4, 43)
	differs := false
	for range 20 {
		x, y := s.Next()
		x2, y2 := s2.Next()
		x3, _ := s3.Next()
		if len(x) != 32 || len(y) != 32 {
			t.Fatalf("lengths %d %d", len(x), len(y))
		}
		if !slices.Equal(x, x2) || !slices.Equal(y, y2) {
			t.Fatal("same seed, different windows")
		}
		differs = differs || !slices.Equal(x, x3)
		for b := range 4 {
			for j := range 8 {
				k := b*8 + j
				if y[k] != x[k]+1 || (j > 0 && x[k] != x[k-1]+1) || y[k] >= 50 {
					t.Fatalf("window %d: x %v y %v", b, x[b*8:b*8+8], y[b*8:b*8+8])
				}
			}
		}
	}
	if !differs {
		t.Fatal("seeds 42 and 43 gave the same windows")
	}
	// every start is reachable, including the last
	s4, _ := NewWindowSampler(ids[:5], 4, 1, 1)
	seen := map[int]bool{}
	for range 100 {
		x, _ := s4.Next()
		seen[x[0]] = true
	}
	if len(seen) != 1 || !seen[0] {
		t.Fatalf("starts %v, want only 0", seen)
	}
	_, err = NewWindowSampler(ids[:8], 8, 1, 1)
	wantErr(t, err, "8 ids, need at least context+1 = 9")
	_, err = NewWindowSampler(ids, 0, 1, 1)
	wantErr(t, err, "context 0")
}
