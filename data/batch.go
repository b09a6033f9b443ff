package data

import (
	"fmt"
	"iter"

	"github.com/gradus-ml/gradus/tensor"
)

// BatchOptions configures a Batcher. The zero value iterates in data set
// order and keeps the last, smaller batch of each epoch.
type BatchOptions struct {
	// Shuffle draws a new random order for each epoch from a generator
	// seeded with Seed: the same seed gives the same sequence of orders.
	Shuffle bool
	Seed    uint64
	// DropLast drops the last batch of an epoch when it is smaller than
	// the batch size.
	DropLast bool
	// Augment randomly transforms image examples as they are batched.
	Augment Augment
}

// Augment configures random augmentation of image examples of shape
// (C, H, W), drawn from a generator seeded from BatchOptions.Seed (apart
// from the one that shuffles, so augmenting does not change the order).
// The zero value does nothing. The transforms are those of the usual
// CIFAR-10 training pipeline "random crop with padding, random horizontal
// flip", applied in that order.
type Augment struct {
	// Crop pads each image with Crop pixels on every side and cuts back an
	// H×W window at a uniformly random offset (CIFAR-10 recipes use 4).
	Crop int
	// Pad gives the value of the padding pixels of each channel (nil: 0).
	// For a data set normalized with mean m and std s, black padding is
	// −m/s, as when padding comes before normalization.
	Pad []float32
	// FlipX mirrors each image left-right with probability 1/2.
	FlipX bool
}

func (a Augment) active() bool { return a.Crop > 0 || a.FlipX }

// Batcher cuts a Dataset into mini-batches: tensors of shape
// (B, Shape...) in a chosen dtype, with the labels of their examples.
//
// The tensors and label slices a Batcher returns are reused by the next
// call: copy them to keep them. A Batcher is not safe for concurrent use.
type Batcher struct {
	d       *Dataset
	size    int
	dt      tensor.DType
	opt     BatchOptions
	rng     *tensor.RNG
	augRNG  *tensor.RNG
	scratch []float32
	order   []int
	pos     int // next position in order
	epochs  int // epochs begun
	batches int // batches per epoch

	feat       int
	buf32      []float32
	buf64      []float64
	full, part *tensor.Tensor // batch tensors of size and of the last batch
	tbuf32     []float32
	tbuf64     []float64
	tfull      *tensor.Tensor
	tpart      *tensor.Tensor
	targets    *tensor.Tensor
	labels     []int
	idx        []int
}

// NewBatcher returns a Batcher over d yielding batches of size examples
// as tensors of dtype dt. It returns an error if d is inconsistent, the
// size is not positive, or DropLast leaves no batch at all.
func NewBatcher(d *Dataset, size int, dt tensor.DType, opt BatchOptions) (*Batcher, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if size <= 0 {
		return nil, fmt.Errorf("data: batch size %d, want > 0", size)
	}
	if _, err := tensor.ParseDType(dt.String()); err != nil {
		return nil, fmt.Errorf("data: batch dtype: %w", err)
	}
	n := d.Len()
	batches := n / size
	if !opt.DropLast && n%size != 0 {
		batches++
	}
	if batches == 0 {
		return nil, fmt.Errorf("data: dataset %q has %d examples: no batch of size %d (DropLast=%v)", d.Name, n, size, opt.DropLast)
	}
	if a := opt.Augment; a.active() || a.Crop != 0 || a.Pad != nil {
		if len(d.Shape) != 3 {
			return nil, fmt.Errorf("data: augmentation of dataset %q: examples of shape %v, want images (C, H, W)", d.Name, d.Shape)
		}
		if a.Crop < 0 {
			return nil, fmt.Errorf("data: augmentation crop padding %d, want ≥ 0", a.Crop)
		}
		if a.Pad != nil && len(a.Pad) != d.Shape[0] {
			return nil, fmt.Errorf("data: augmentation: %d padding values for %d channels", len(a.Pad), d.Shape[0])
		}
	}
	b := &Batcher{d: d, size: size, dt: dt, opt: opt, batches: batches, feat: d.Features()}
	b.rng = tensor.NewRNG(opt.Seed)
	if opt.Augment.active() {
		b.augRNG = tensor.NewRNG(opt.Seed).Split()
		b.scratch = make([]float32, b.feat)
	}
	b.order = make([]int, n)
	for i := range b.order {
		b.order[i] = i
	}
	b.pos = n // the first call to Next begins an epoch
	m := size * b.feat
	shape := append([]int{size}, d.Shape...)
	if dt == tensor.Float64 {
		b.buf64 = make([]float64, m)
		b.full = tensor.Wrap64(b.buf64, shape...)
	} else {
		b.buf32 = make([]float32, m)
		b.full = tensor.Wrap32(dt, b.buf32, shape...)
	}
	if d.Targets != nil {
		if dt == tensor.Float64 {
			b.tbuf64 = make([]float64, size)
			b.tfull = tensor.Wrap64(b.tbuf64, size)
		} else {
			b.tbuf32 = make([]float32, size)
			b.tfull = tensor.Wrap32(dt, b.tbuf32, size)
		}
	}
	b.labels = make([]int, 0, size)
	return b, nil
}

// Batches returns the number of batches in one epoch.
func (b *Batcher) Batches() int { return b.batches }

// Epochs returns the number of epochs begun so far.
func (b *Batcher) Epochs() int { return b.epochs }

// begin starts a new epoch, drawing a new order if shuffling.
func (b *Batcher) begin() {
	if b.opt.Shuffle {
		// Restore the identity first, so that the order of an epoch
		// depends only on the generator state.
		for i := range b.order {
			b.order[i] = i
		}
		b.rng.Shuffle(len(b.order), func(i, j int) { b.order[i], b.order[j] = b.order[j], b.order[i] })
	}
	b.pos = 0
	b.epochs++
}

// remaining reports whether the current epoch has another batch.
func (b *Batcher) remaining() bool {
	left := len(b.order) - b.pos
	if b.opt.DropLast {
		return left >= b.size
	}
	return left > 0
}

// Next returns the next batch: x of shape (B, Shape...) and the labels y
// of its examples (nil for a regression data set; see Targets). When an
// epoch is finished, Next begins the next one, reshuffling if asked, so it
// can drive training counted in steps.
func (b *Batcher) Next() (x *tensor.Tensor, y []int) {
	if !b.remaining() {
		b.begin()
	}
	return b.fill()
}

// Epoch begins a new epoch (abandoning what is left of the current one)
// and returns an iterator over its batches, as Next returns them:
//
//	for x, y := range b.Epoch() { … }
func (b *Batcher) Epoch() iter.Seq2[*tensor.Tensor, []int] {
	b.begin()
	return func(yield func(*tensor.Tensor, []int) bool) {
		for b.remaining() {
			if !yield(b.fill()) {
				return
			}
		}
	}
}

// fill copies the examples order[pos:pos+B] into the batch buffers.
func (b *Batcher) fill() (*tensor.Tensor, []int) {
	n := min(b.size, len(b.order)-b.pos)
	b.idx = b.order[b.pos : b.pos+n]
	b.pos += n
	f, d := b.feat, b.d
	for k, i := range b.idx {
		src := d.X[i*f : (i+1)*f]
		if b.augRNG != nil {
			b.augment(b.scratch, src)
			src = b.scratch
		}
		if b.buf64 != nil {
			dst := b.buf64[k*f : (k+1)*f]
			for j, v := range src {
				dst[j] = float64(v)
			}
		} else {
			roundCopy(b.dt, b.buf32[k*f:(k+1)*f], src)
		}
	}
	x := b.full
	if n < b.size {
		if b.part == nil || b.part.Dim(0) != n {
			shape := append([]int{n}, d.Shape...)
			if b.buf64 != nil {
				b.part = tensor.Wrap64(b.buf64[:n*f], shape...)
			} else {
				b.part = tensor.Wrap32(b.dt, b.buf32[:n*f], shape...)
			}
		}
		x = b.part
	}
	var y []int
	if d.Labels != nil {
		b.labels = b.labels[:0]
		for _, i := range b.idx {
			b.labels = append(b.labels, d.Labels[i])
		}
		y = b.labels
	}
	b.targets = nil
	if d.Targets != nil {
		for k, i := range b.idx {
			if b.tbuf64 != nil {
				b.tbuf64[k] = float64(d.Targets[i])
			} else {
				roundCopy(b.dt, b.tbuf32[k:k+1], d.Targets[i:i+1])
			}
		}
		b.targets = b.tfull
		if n < b.size {
			if b.tpart == nil || b.tpart.Dim(0) != n {
				if b.tbuf64 != nil {
					b.tpart = tensor.Wrap64(b.tbuf64[:n], n)
				} else {
					b.tpart = tensor.Wrap32(b.dt, b.tbuf32[:n], n)
				}
			}
			b.targets = b.tpart
		}
	}
	return x, y
}

// augment writes a randomly cropped and flipped copy of the image src to
// dst.
func (b *Batcher) augment(dst, src []float32) {
	a, sh := b.opt.Augment, b.d.Shape
	c, h, w := sh[0], sh[1], sh[2]
	p := a.Crop
	dy, dx := 0, 0
	if p > 0 {
		dy, dx = b.augRNG.IntN(2*p+1)-p, b.augRNG.IntN(2*p+1)-p
	}
	flip := a.FlipX && b.augRNG.Uint64()&1 == 1
	for ch := range c {
		var pad float32
		if a.Pad != nil {
			pad = a.Pad[ch]
		}
		plane, out := src[ch*h*w:(ch+1)*h*w], dst[ch*h*w:(ch+1)*h*w]
		for y := range h {
			sy := y + dy
			row := out[y*w : (y+1)*w]
			if sy < 0 || sy >= h {
				for x := range row {
					row[x] = pad
				}
				continue
			}
			for x := range row {
				cx := x
				if flip {
					cx = w - 1 - x
				}
				sx := cx + dx
				if sx < 0 || sx >= w {
					row[x] = pad
				} else {
					row[x] = plane[sy*w+sx]
				}
			}
		}
	}
}

// Targets returns the regression targets of the batch last returned, a
// tensor of shape (B) in the batch dtype, or nil for a classification data
// set. It is reused like the batch itself.
func (b *Batcher) Targets() *tensor.Tensor { return b.targets }

// Indices returns the data set indices of the examples of the batch last
// returned. The caller must not modify it.
func (b *Batcher) Indices() []int { return b.idx }

// roundCopy copies src to dst rounding to the dtype dt (a float32 dtype).
func roundCopy(dt tensor.DType, dst, src []float32) {
	switch dt {
	case tensor.Float16:
		for i, v := range src {
			dst[i] = tensor.RoundFloat16(v)
		}
	case tensor.BFloat16:
		for i, v := range src {
			dst[i] = tensor.RoundBFloat16(v)
		}
	default:
		copy(dst, src)
	}
}
