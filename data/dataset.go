package data

import (
	"fmt"
	"math"
	"slices"

	"github.com/gradus-ml/gradus/tensor"
)

// Dataset is a supervised data set of N examples, each of shape Shape, held
// as float32 values in one row-major slice X of length N·prod(Shape).
//
// Image data sets have Shape (C, H, W) with pixels in [0, 1]; tables have
// Shape (F). A classification data set has Labels in [0, Classes); a
// regression data set has Targets instead and Classes = 0.
//
// Methods that return parts of a Dataset (Split) share its storage;
// methods that modify values (Normalize, Rescale, Shuffle) work in place.
type Dataset struct {
	Name         string    // human-readable name, e.g. "MNIST train"
	X            []float32 // N·prod(Shape) values, example after example
	Shape        []int     // shape of one example
	Labels       []int     // class of each example, or nil for regression
	Targets      []float32 // regression target of each example, or nil
	Classes      int       // number of classes (0 for regression)
	ClassNames   []string  // optional names of the classes
	FeatureNames []string  // optional names of the features (tables)
}

// Features returns the number of values in one example, prod(Shape).
func (d *Dataset) Features() int {
	n := 1
	for _, s := range d.Shape {
		n *= s
	}
	return n
}

// Len returns the number of examples.
func (d *Dataset) Len() int {
	switch {
	case d.Labels != nil:
		return len(d.Labels)
	case d.Targets != nil:
		return len(d.Targets)
	}
	if f := d.Features(); f > 0 {
		return len(d.X) / f
	}
	return 0
}

// Validate checks that the fields of d agree with each other: the length
// of X, the number of labels or targets, the label range and class names.
func (d *Dataset) Validate() error {
	f := 1
	for _, s := range d.Shape {
		if s <= 0 {
			return fmt.Errorf("data: dataset %q: example shape %v has a non-positive dimension", d.Name, d.Shape)
		}
		f *= s
	}
	if d.Labels != nil && d.Targets != nil {
		return fmt.Errorf("data: dataset %q has both labels and targets", d.Name)
	}
	n := d.Len()
	if len(d.X) != n*f {
		return fmt.Errorf("data: dataset %q: %d values for %d examples of shape %v (want %d)", d.Name, len(d.X), n, d.Shape, n*f)
	}
	if d.Labels != nil {
		if d.Classes <= 0 {
			return fmt.Errorf("data: dataset %q has labels but Classes = %d", d.Name, d.Classes)
		}
		for i, l := range d.Labels {
			if l < 0 || l >= d.Classes {
				return fmt.Errorf("data: dataset %q: label %d of example %d out of range [0, %d)", d.Name, l, i, d.Classes)
			}
		}
	}
	if d.ClassNames != nil && len(d.ClassNames) != d.Classes {
		return fmt.Errorf("data: dataset %q: %d class names for %d classes", d.Name, len(d.ClassNames), d.Classes)
	}
	if d.FeatureNames != nil && len(d.FeatureNames) != f {
		return fmt.Errorf("data: dataset %q: %d feature names for %d features", d.Name, len(d.FeatureNames), f)
	}
	return nil
}

// Example returns the values of example i (a slice of X, not a copy).
func (d *Dataset) Example(i int) []float32 {
	f := d.Features()
	return d.X[i*f : (i+1)*f : (i+1)*f]
}

// ClassCounts returns the number of examples of each class.
func (d *Dataset) ClassCounts() []int {
	c := make([]int, d.Classes)
	for _, l := range d.Labels {
		if l >= 0 && l < len(c) {
			c[l]++
		}
	}
	return c
}

// Split returns the first n examples and the rest. Both share storage with
// d; Clone one of them to modify it independently. Split panics unless
// 0 ≤ n ≤ d.Len(). Loaders order image data sets so that classes are
// interleaved or, for files in random order, as in the file; for a random
// validation set use TrainValSplit.
func (d *Dataset) Split(n int) (head, tail *Dataset) {
	if n < 0 || n > d.Len() {
		panic(fmt.Sprintf("data: Dataset.Split(%d) of %d examples", n, d.Len()))
	}
	f := d.Features()
	head, tail = d.shallow(), d.shallow()
	head.X, tail.X = d.X[:n*f:n*f], d.X[n*f:]
	if d.Labels != nil {
		head.Labels, tail.Labels = d.Labels[:n:n], d.Labels[n:]
	}
	if d.Targets != nil {
		head.Targets, tail.Targets = d.Targets[:n:n], d.Targets[n:]
	}
	return head, tail
}

// shallow copies the descriptive fields of d, sharing the data slices.
func (d *Dataset) shallow() *Dataset {
	c := *d
	return &c
}

// Clone returns a deep copy of d.
func (d *Dataset) Clone() *Dataset {
	c := *d
	c.X = slices.Clone(d.X)
	c.Shape = slices.Clone(d.Shape)
	c.Labels = slices.Clone(d.Labels)
	c.Targets = slices.Clone(d.Targets)
	c.ClassNames = slices.Clone(d.ClassNames)
	c.FeatureNames = slices.Clone(d.FeatureNames)
	return &c
}

// Subset returns a new data set (a copy) holding the examples idx, in that
// order. It panics if an index is out of range.
func (d *Dataset) Subset(idx []int) *Dataset {
	f, n := d.Features(), d.Len()
	s := d.shallow()
	s.Shape = slices.Clone(d.Shape)
	s.X = make([]float32, len(idx)*f)
	if d.Labels != nil {
		s.Labels = make([]int, len(idx))
	}
	if d.Targets != nil {
		s.Targets = make([]float32, len(idx))
	}
	for k, i := range idx {
		if i < 0 || i >= n {
			panic(fmt.Sprintf("data: Dataset.Subset: index %d out of range [0, %d)", i, n))
		}
		copy(s.X[k*f:(k+1)*f], d.X[i*f:(i+1)*f])
		if d.Labels != nil {
			s.Labels[k] = d.Labels[i]
		}
		if d.Targets != nil {
			s.Targets[k] = d.Targets[i]
		}
	}
	return s
}

// Shuffle permutes the examples of d in place, uniformly at random from
// rng. The same generator state gives the same permutation.
func (d *Dataset) Shuffle(rng *tensor.RNG) {
	f := d.Features()
	tmp := make([]float32, f)
	rng.Shuffle(d.Len(), func(i, j int) {
		a, b := d.X[i*f:(i+1)*f], d.X[j*f:(j+1)*f]
		copy(tmp, a)
		copy(a, b)
		copy(b, tmp)
		if d.Labels != nil {
			d.Labels[i], d.Labels[j] = d.Labels[j], d.Labels[i]
		}
		if d.Targets != nil {
			d.Targets[i], d.Targets[j] = d.Targets[j], d.Targets[i]
		}
	})
}

// TrainValSplit returns a random split of d into a training part and a
// validation part holding round(valFraction·N) examples, both copies. The
// examples are drawn with a generator seeded by seed, so the same seed
// gives the same split. valFraction must be in [0, 1).
func (d *Dataset) TrainValSplit(valFraction float64, seed uint64) (train, val *Dataset, err error) {
	if !(valFraction >= 0 && valFraction < 1) {
		return nil, nil, fmt.Errorf("data: validation fraction %v outside [0, 1)", valFraction)
	}
	n := d.Len()
	nv := int(math.Round(valFraction * float64(n)))
	perm := tensor.NewRNG(seed).Perm(n)
	val = d.Subset(perm[:nv])
	train = d.Subset(perm[nv:])
	train.Name, val.Name = d.Name+" (train part)", d.Name+" (validation part)"
	return train, val, nil
}

// channels returns the number of channels and the number of values per
// channel in one example: (C, H·W) for an example of shape (C, H, W), and
// (F, 1) for a table row of F features, so that per-channel statistics of
// a table are per-feature statistics.
func (d *Dataset) channels() (c, inner int) {
	switch len(d.Shape) {
	case 0:
		return 1, 1
	case 1:
		return d.Shape[0], 1
	}
	inner = 1
	for _, s := range d.Shape[1:] {
		inner *= s
	}
	return d.Shape[0], inner
}

// forChannels calls fn(c, values) for every contiguous run of values of
// channel c in X.
func (d *Dataset) forChannels(fn func(c int, v []float32)) {
	nc, inner := d.channels()
	if inner == 1 {
		// table: one value per channel per example
		f := nc
		for i := 0; i+f <= len(d.X); i += f {
			for c := range f {
				fn(c, d.X[i+c:i+c+1])
			}
		}
		return
	}
	for i := 0; i+inner <= len(d.X); i += inner {
		fn((i/inner)%nc, d.X[i:i+inner])
	}
}

// ChannelMeanStd returns the mean and the (population) standard deviation
// of each channel over all examples, computed in float64. Channels are the
// first example dimension of images (C of (C, H, W)) and the features of
// tables.
func (d *Dataset) ChannelMeanStd() (mean, std []float64) {
	nc, _ := d.channels()
	sum := make([]float64, nc)
	cnt := make([]float64, nc)
	d.forChannels(func(c int, v []float32) {
		s := 0.0
		for _, x := range v {
			s += float64(x)
		}
		sum[c] += s
		cnt[c] += float64(len(v))
	})
	mean = make([]float64, nc)
	for c := range mean {
		if cnt[c] > 0 {
			mean[c] = sum[c] / cnt[c]
		}
	}
	ss := make([]float64, nc)
	d.forChannels(func(c int, v []float32) {
		s, m := 0.0, mean[c]
		for _, x := range v {
			e := float64(x) - m
			s += e * e
		}
		ss[c] += s
	})
	std = make([]float64, nc)
	for c := range std {
		if cnt[c] > 0 {
			std[c] = math.Sqrt(ss[c] / cnt[c])
		}
	}
	return mean, std
}

// Normalize replaces each value x of channel c by (x − mean[c]) / std[c],
// in place. Use the statistics of the training set (ChannelMeanStd) for
// every split. It returns an error if the lengths do not match the number
// of channels or a std is not positive and finite.
func (d *Dataset) Normalize(mean, std []float64) error {
	nc, _ := d.channels()
	if len(mean) != nc || len(std) != nc {
		return fmt.Errorf("data: Normalize %q: %d means and %d stds for %d channels", d.Name, len(mean), len(std), nc)
	}
	for c := range nc {
		if !(std[c] > 0) || math.IsInf(std[c], 0) || math.IsNaN(mean[c]) || math.IsInf(mean[c], 0) {
			return fmt.Errorf("data: Normalize %q: channel %d has mean %v and std %v (want finite, std > 0)", d.Name, c, mean[c], std[c])
		}
	}
	d.forChannels(func(c int, v []float32) {
		m, s := mean[c], 1/std[c]
		for i, x := range v {
			v[i] = float32((float64(x) - m) * s)
		}
	})
	return nil
}

// ChannelMinMax returns the smallest and largest value of each channel.
func (d *Dataset) ChannelMinMax() (lo, hi []float64) {
	nc, _ := d.channels()
	lo, hi = make([]float64, nc), make([]float64, nc)
	for c := range lo {
		lo[c], hi[c] = math.Inf(1), math.Inf(-1)
	}
	d.forChannels(func(c int, v []float32) {
		for _, x := range v {
			lo[c] = min(lo[c], float64(x))
			hi[c] = max(hi[c], float64(x))
		}
	})
	return lo, hi
}

// Rescale maps each value x of channel c to (x − lo[c]) / (hi[c] − lo[c]),
// in place, so that values in [lo, hi] land in [0, 1]; a channel with
// hi = lo becomes 0. Use the bounds of the training set (ChannelMinMax)
// for every split.
func (d *Dataset) Rescale(lo, hi []float64) error {
	nc, _ := d.channels()
	if len(lo) != nc || len(hi) != nc {
		return fmt.Errorf("data: Rescale %q: %d lower and %d upper bounds for %d channels", d.Name, len(lo), len(hi), nc)
	}
	for c := range nc {
		if !(hi[c] >= lo[c]) || math.IsInf(lo[c], 0) || math.IsInf(hi[c], 0) {
			return fmt.Errorf("data: Rescale %q: channel %d has bounds [%v, %v] (want finite, lo ≤ hi)", d.Name, c, lo[c], hi[c])
		}
	}
	d.forChannels(func(c int, v []float32) {
		w := hi[c] - lo[c]
		for i, x := range v {
			if w == 0 {
				v[i] = 0
			} else {
				v[i] = float32((float64(x) - lo[c]) / w)
			}
		}
	})
	return nil
}

// Tensor returns all examples as one tensor of dtype dt and shape
// (N, Shape...), a copy.
func (d *Dataset) Tensor(dt tensor.DType) *tensor.Tensor {
	shape := append([]int{d.Len()}, d.Shape...)
	return tensor.FromFloat32s(dt, d.X, shape...)
}

// TargetTensor returns the regression targets as a tensor of dtype dt and
// shape (N), a copy; it returns nil for a classification data set.
func (d *Dataset) TargetTensor(dt tensor.DType) *tensor.Tensor {
	if d.Targets == nil {
		return nil
	}
	return tensor.FromFloat32s(dt, d.Targets, len(d.Targets))
}
