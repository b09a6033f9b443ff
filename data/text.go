package data

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gradus-ml/gradus/tensor"
)

// Vocab is a character vocabulary: the sorted distinct characters of a
// text, runes or bytes, numbered from 0.
type Vocab struct {
	bytes   bool
	symbols []rune // sorted; for a byte vocabulary, the byte values
	index   map[rune]int
}

// NewRuneVocab returns the vocabulary of the distinct runes of text, which
// must be valid UTF-8 (the error gives the offset of the first bad byte).
func NewRuneVocab(text []byte) (*Vocab, error) {
	if !utf8.Valid(text) {
		off := 0
		for off < len(text) {
			r, n := utf8.DecodeRune(text[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return nil, fmt.Errorf("data: text is not valid UTF-8 at byte offset %d (use a byte vocabulary)", off)
	}
	seen := map[rune]bool{}
	for _, r := range string(text) {
		seen[r] = true
	}
	syms := make([]rune, 0, len(seen))
	for r := range seen {
		syms = append(syms, r)
	}
	slices.Sort(syms)
	return newVocab(false, syms), nil
}

// NewByteVocab returns the vocabulary of the distinct bytes of text.
func NewByteVocab(text []byte) *Vocab {
	var seen [256]bool
	for _, b := range text {
		seen[b] = true
	}
	var syms []rune
	for b, ok := range seen {
		if ok {
			syms = append(syms, rune(b))
		}
	}
	return newVocab(true, syms)
}

func newVocab(bytes bool, syms []rune) *Vocab {
	v := &Vocab{bytes: bytes, symbols: syms, index: make(map[rune]int, len(syms))}
	for i, r := range syms {
		v.index[r] = i
	}
	return v
}

// Size returns the number of characters.
func (v *Vocab) Size() int { return len(v.symbols) }

// Bytes reports whether v numbers bytes rather than runes.
func (v *Vocab) Bytes() bool { return v.bytes }

// Symbol returns character id as a string (one rune, or one byte for a
// byte vocabulary). It panics if id is out of range.
func (v *Vocab) Symbol(id int) string {
	if v.bytes {
		return string([]byte{byte(v.symbols[id])})
	}
	return string(v.symbols[id])
}

// Encode returns the ids of the characters of text. The error names the
// first character not in the vocabulary and its byte offset.
func (v *Vocab) Encode(text []byte) ([]int, error) {
	ids := make([]int, 0, len(text))
	if v.bytes {
		for off, b := range text {
			id, ok := v.index[rune(b)]
			if !ok {
				return nil, fmt.Errorf("data: byte 0x%02x at offset %d is not in the vocabulary", b, off)
			}
			ids = append(ids, id)
		}
		return ids, nil
	}
	for off := 0; off < len(text); {
		r, n := utf8.DecodeRune(text[off:])
		if r == utf8.RuneError && n <= 1 {
			return nil, fmt.Errorf("data: invalid UTF-8 at byte offset %d", off)
		}
		id, ok := v.index[r]
		if !ok {
			return nil, fmt.Errorf("data: character %q at byte offset %d is not in the vocabulary", r, off)
		}
		ids = append(ids, id)
		off += n
	}
	return ids, nil
}

// Decode returns the text of ids. It panics if an id is out of range,
// which means the ids do not come from this vocabulary.
func (v *Vocab) Decode(ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		if id < 0 || id >= len(v.symbols) {
			panic(fmt.Sprintf("data: Vocab.Decode: id %d out of range [0, %d)", id, len(v.symbols)))
		}
		if v.bytes {
			b.WriteByte(byte(v.symbols[id]))
		} else {
			b.WriteRune(v.symbols[id])
		}
	}
	return b.String()
}

// TextOptions configures NewText and LoadText. The zero value numbers
// runes and keeps the last 10% for validation.
type TextOptions struct {
	// Bytes numbers bytes instead of runes (for text that is not UTF-8).
	Bytes bool
	// ValFraction is the fraction of the text, at its end, kept for
	// validation: 0 means 0.1; a negative value keeps none.
	ValFraction float64
}

// Text is an encoded text for character-level language models: its
// vocabulary and the ids of its training part and of its validation part,
// the last characters of the text.
type Text struct {
	Name  string
	Vocab *Vocab
	Train []int
	Val   []int
}

// NewText builds the vocabulary of raw (the whole text, so that the
// validation part is encodable too), encodes it and splits it.
func NewText(name string, raw []byte, opt TextOptions) (*Text, error) {
	frac := opt.ValFraction
	switch {
	case frac == 0:
		frac = 0.1
	case frac < 0:
		frac = 0
	case frac >= 1 || math.IsNaN(frac):
		return nil, fmt.Errorf("data: text %s: validation fraction %v, want < 1", name, opt.ValFraction)
	}
	var v *Vocab
	if opt.Bytes {
		v = NewByteVocab(raw)
	} else {
		var err error
		if v, err = NewRuneVocab(raw); err != nil {
			return nil, fmt.Errorf("data: text %s: %w", name, err)
		}
	}
	ids, err := v.Encode(raw)
	if err != nil {
		return nil, fmt.Errorf("data: text %s: %w", name, err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("data: text %s is empty", name)
	}
	nTrain := len(ids) - int(math.Round(frac*float64(len(ids))))
	return &Text{Name: name, Vocab: v, Train: ids[:nTrain:nTrain], Val: ids[nTrain:]}, nil
}

// LoadText reads the text file at path and builds a Text (see NewText).
// An empty path means the zero-download default, Newton's Opticks from the
// Go toolchain (see OpticksPath).
func LoadText(path string, opt TextOptions) (*Text, error) {
	if path == "" {
		p, err := OpticksPath()
		if err != nil {
			return nil, err
		}
		path = p
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	t, err := NewText(path, raw, opt)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// WindowSampler draws random context windows from a sequence of ids: a
// batch of B windows x of T consecutive ids and their targets y, the ids
// one position later.
type WindowSampler struct {
	ids        []int
	ctx, batch int
	rng        *tensor.RNG
	x, y       []int
}

// NewWindowSampler returns a sampler of batch windows of context ids from
// ids, with window starts drawn uniformly by a generator seeded with seed.
// ids must hold at least context+1 ids.
func NewWindowSampler(ids []int, context, batch int, seed uint64) (*WindowSampler, error) {
	if context <= 0 || batch <= 0 {
		return nil, fmt.Errorf("data: window sampler: context %d and batch %d, want both > 0", context, batch)
	}
	if len(ids) < context+1 {
		return nil, fmt.Errorf("data: window sampler: %d ids, need at least context+1 = %d", len(ids), context+1)
	}
	return &WindowSampler{
		ids: ids, ctx: context, batch: batch, rng: tensor.NewRNG(seed),
		x: make([]int, batch*context), y: make([]int, batch*context),
	}, nil
}

// Next returns a new batch: x and y of length B·T, row-major (window b
// is x[b·T:(b+1)·T]), with y[i] the id after x[i] in the text. The slices
// are reused by the next call.
func (s *WindowSampler) Next() (x, y []int) {
	starts := len(s.ids) - s.ctx // number of valid starts
	for b := range s.batch {
		i := s.rng.IntN(starts)
		copy(s.x[b*s.ctx:(b+1)*s.ctx], s.ids[i:i+s.ctx])
		copy(s.y[b*s.ctx:(b+1)*s.ctx], s.ids[i+1:i+1+s.ctx])
	}
	return s.x, s.y
}
