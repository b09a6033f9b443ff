package data

import (
	"slices"
	"testing"

	"github.com/gradus-ml/gradus/tensor"
)

// randomImages returns n distinct random images of shape (c, h, w).
func randomImages(n, c, h, w int) *Dataset {
	g := tensor.NewRNG(5)
	d := &Dataset{Shape: []int{c, h, w}, Classes: 1, Labels: make([]int, n)}
	for range n * c * h * w {
		d.X = append(d.X, float32(g.Float64()))
	}
	return d
}

// shifted returns the image src (c, h, w) shifted by (dy, dx), padded with
// pad, and mirrored if flip: the reference for Augment.
func shifted(src []float32, c, h, w, dy, dx int, flip bool, pad []float32) []float32 {
	out := make([]float32, len(src))
	for ch := range c {
		for y := range h {
			for x := range w {
				cx := x
				if flip {
					cx = w - 1 - x
				}
				sy, sx := y+dy, cx+dx
				v := pad[ch]
				if sy >= 0 && sy < h && sx >= 0 && sx < w {
					v = src[(ch*h+sy)*w+sx]
				}
				out[(ch*h+y)*w+x] = v
			}
		}
	}
	return out
}

func TestAugment(t *testing.T) {
	const c, h, w, p = 2, 5, 6, 2
	d := randomImages(40, c, h, w)
	pad := []float32{-1, -2}
	opt := BatchOptions{Shuffle: true, Seed: 3, Augment: Augment{Crop: p, FlipX: true, Pad: pad}}
	b, err := NewBatcher(d, 8, tensor.Float32, opt)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := NewBatcher(d, 8, tensor.Float32, BatchOptions{Shuffle: true, Seed: 3})
	type key struct {
		dy, dx int
		flip   bool
	}
	seen := map[key]int{}
	for e := range 5 {
		for x := range b.Epoch() {
			idx := slices.Clone(b.Indices())
			plain.Next()
			if !slices.Equal(idx, plain.Indices()) {
				t.Fatalf("epoch %d: augmentation changed the order", e)
			}
			for k, i := range idx {
				got := x.Data32()[k*d.Features() : (k+1)*d.Features()]
				found := false
				for dy := -p; dy <= p && !found; dy++ {
					for dx := -p; dx <= p && !found; dx++ {
						for _, flip := range []bool{false, true} {
							if slices.Equal(got, shifted(d.Example(i), c, h, w, dy, dx, flip, pad)) {
								seen[key{dy, dx, flip}]++
								found = true
								break
							}
						}
					}
				}
				if !found {
					t.Fatalf("example %d is no crop/flip of the original", i)
				}
			}
		}
	}
	if len(seen) < 40 { // 50 possible transforms, 200 draws
		t.Fatalf("only %d distinct transforms drawn: %v", len(seen), seen)
	}
	// same seed, same augmented batches
	b1, _ := NewBatcher(d, 8, tensor.Float32, opt)
	b2, _ := NewBatcher(d, 8, tensor.Float32, opt)
	for range 7 {
		x1, _ := b1.Next()
		x2, _ := b2.Next()
		if !slices.Equal(x1.Data32(), x2.Data32()) {
			t.Fatal("same seed, different augmented batches")
		}
	}
	_, err = NewBatcher(&Dataset{Shape: []int{4}, X: make([]float32, 4), Targets: []float32{1}}, 1, tensor.Float32, BatchOptions{Augment: Augment{FlipX: true}})
	wantErr(t, err, "want images (C, H, W)")
	_, err = NewBatcher(d, 1, tensor.Float32, BatchOptions{Augment: Augment{Crop: 1, Pad: []float32{0}}})
	wantErr(t, err, "1 padding values for 2 channels")
	_, err = NewBatcher(d, 1, tensor.Float32, BatchOptions{Augment: Augment{Crop: -1}})
	wantErr(t, err, "crop padding -1")
}
