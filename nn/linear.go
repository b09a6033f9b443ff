package nn

import (
	"fmt"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// Linear is y = x·Wᵀ + b over the last axis of x, as torch.nn.Linear:
// Weight is [out, in], Bias [out] (nil without bias). Names: weight, bias.
type Linear struct {
	Weight, Bias *tensor.Tensor
}

// NewLinear returns a Linear layer from in to out features with PyTorch's
// default initialization (weight and bias uniform in ±1/√in), in dtype d.
func NewLinear(rng *tensor.RNG, d tensor.DType, in, out int, bias bool) *Linear {
	b := kaimingBound(in)
	l := &Linear{Weight: uniformInit(rng, d, b, out, in)}
	if bias {
		l.Bias = uniformInit(rng, d, b, out)
	}
	return l
}

// Forward maps x [..., in] to [..., out].
func (l *Linear) Forward(c *Ctx, x *ad.Var) *ad.Var {
	s := x.Shape()
	in := l.Weight.Shape()[1]
	if len(s) == 0 || s[len(s)-1] != in {
		panic(fmt.Sprintf("nn.Linear: input %v does not end in %d features", s, in))
	}
	x2 := x
	if len(s) != 2 {
		x2 = ad.Reshape(x, -1, in)
	}
	y := ad.MatMulT(x2, c.Param(l.Weight), false, true)
	if l.Bias != nil {
		y = ad.Add(y, c.Param(l.Bias))
	}
	if len(s) != 2 {
		out := append(append([]int{}, s[:len(s)-1]...), l.Weight.Shape()[0])
		y = ad.Reshape(y, out...)
	}
	return y
}

// Params lists weight and bias.
func (l *Linear) Params() []Param {
	ps := []Param{{"weight", l.Weight}}
	if l.Bias != nil {
		ps = append(ps, Param{"bias", l.Bias})
	}
	return ps
}

// Embedding maps integer ids to rows of Weight [num, dim], as
// torch.nn.Embedding (initialized N(0, 1)). Name: weight.
type Embedding struct {
	Weight *tensor.Tensor
}

// NewEmbedding returns an embedding of num ids in dim dimensions.
func NewEmbedding(rng *tensor.RNG, d tensor.DType, num, dim int) *Embedding {
	if rng == nil {
		panic("nn: nil *tensor.RNG for parameter initialization")
	}
	return &Embedding{Weight: rng.Normal(d, num, dim)}
}

// Lookup returns the rows of ids, shaped shape + [dim] (shape nil: [len(ids)]).
// It panics on an id outside [0, num).
func (e *Embedding) Lookup(c *Ctx, ids []int, shape ...int) *ad.Var {
	num, dim := e.Weight.Shape()[0], e.Weight.Shape()[1]
	for i, id := range ids {
		if id < 0 || id >= num {
			panic(fmt.Sprintf("nn.Embedding: id %d at position %d is outside [0, %d)", id, i, num))
		}
	}
	y := ad.IndexSelect(c.Param(e.Weight), 0, ids)
	if shape == nil {
		return y
	}
	return ad.Reshape(y, append(append([]int{}, shape...), dim)...)
}

// Forward looks up the ids held (as whole numbers) by x, returning
// x.Shape() + [dim].
func (e *Embedding) Forward(c *Ctx, x *ad.Var) *ad.Var {
	return e.Lookup(c, IDs(x.Value()), x.Shape()...)
}

// Params lists weight.
func (e *Embedding) Params() []Param { return []Param{{"weight", e.Weight}} }

// IDs returns the elements of t as ints (token ids, class labels).
func IDs(t *tensor.Tensor) []int {
	ids := make([]int, t.Size())
	for i := range ids {
		ids[i] = int(t.AtFlat(i))
	}
	return ids
}
