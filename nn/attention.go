package nn

import (
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// CausalSelfAttention is multi-head self-attention in which position t
// attends to positions ≤ t, as nanoGPT's CausalSelfAttention: one Linear
// CAttn projects x [B, T, D] to the queries, keys and values ([B, T, 3D],
// in that order), each split into Heads heads of D/Heads; the scores
// q·kᵀ/√(D/Heads) get −1e9 added above the diagonal (the causal mask), pass
// through a softmax over the keys, weight the values, and the heads,
// concatenated, go through the Linear CProj. Names: c_attn.weight,
// c_attn.bias, c_proj.weight, c_proj.bias.
type CausalSelfAttention struct {
	Heads int
	CAttn *Linear // D → 3D
	CProj *Linear // D → D
}

// maskValue is added to the scores of future positions.
const maskValue = -1e9

// NewCausalSelfAttention returns attention over dim features with heads
// heads (dim must be a multiple of heads).
func NewCausalSelfAttention(rng *tensor.RNG, d tensor.DType, dim, heads int) *CausalSelfAttention {
	if heads < 1 || dim%heads != 0 {
		panic(fmt.Sprintf("nn.NewCausalSelfAttention: width %d is not a multiple of %d heads", dim, heads))
	}
	return &CausalSelfAttention{Heads: heads, CAttn: NewLinear(rng, d, dim, 3*dim, true), CProj: NewLinear(rng, d, dim, dim, true)}
}

// causalMask returns the [T, T] additive mask: 0 on and below the
// diagonal, maskValue above.
func causalMask(d tensor.DType, t int) *tensor.Tensor {
	m := tensor.Zeros(d, t, t)
	for i := 0; i < t; i++ {
		for j := i + 1; j < t; j++ {
			m.SetFlat(i*t+j, maskValue)
		}
	}
	return m
}

// Forward maps x [B, T, D] to [B, T, D].
func (a *CausalSelfAttention) Forward(c *Ctx, x *ad.Var) *ad.Var {
	s := x.Shape()
	d := a.CProj.Weight.Shape()[0]
	if len(s) != 3 || s[2] != d {
		panic(fmt.Sprintf("nn.CausalSelfAttention: input %v is not [B, T, %d]", s, d))
	}
	b, t, h := s[0], s[1], a.Heads
	dh := d / h
	qkv := a.CAttn.Forward(c, x)  // [B, T, 3D]
	head := func(i int) *ad.Var { // [B, H, T, dh]
		return ad.Permute(ad.Reshape(ad.SliceAxis(qkv, 2, i*d, (i+1)*d), b, t, h, dh), 0, 2, 1, 3)
	}
	q, k, v := head(0), head(1), head(2)
	att := ad.Scale(ad.MatMulT(q, k, false, true), 1/math.Sqrt(float64(dh))) // [B, H, T, T]
	att = ad.Add(att, ad.Const(causalMask(x.DType(), t)))
	att = ad.Softmax(att, -1)
	y := ad.MatMul(att, v)                             // [B, H, T, dh]
	y = ad.Reshape(ad.Permute(y, 0, 2, 1, 3), b, t, d) // [B, T, D]
	return a.CProj.Forward(c, y)
}

// Params lists c_attn and c_proj.
func (a *CausalSelfAttention) Params() []Param {
	return childParams(child{"c_attn", a.CAttn}, child{"c_proj", a.CProj})
}
