package ad

import "github.com/gradus-ml/gradus/tensor"

// Linear algebra primitives.

// matmulParams are the transposition flags of a matrix product.
type matmulParams struct{ ta, tb bool }

var matmulPrim *Prim

func init() {
	matmulPrim = register(&Prim{
		Name: "matmul",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			m := p.(matmulParams)
			return tensor.MatMul(in[0], in[1], m.ta, m.tb)
		},
		JVP: func(c *Call, t []*Var) *Var {
			m := c.Params.(matmulParams)
			return bilinearJVP(c, t, func(a, b *Var) *Var { return MatMulT(a, b, m.ta, m.tb) })
		},
		VJP: func(c *Call, g *Var) []*Var {
			m := c.Params.(matmulParams)
			a, b := c.In[0], c.In[1]
			var ga, gb *Var
			// C = op(A)·op(B): dop(A) = G·op(B)ᵀ, dop(B) = op(A)ᵀ·G
			if c.NeedsGrad(0) {
				switch {
				case !m.ta && !m.tb:
					ga = MatMulT(g, b, false, true)
				case !m.ta && m.tb:
					ga = MatMulT(g, b, false, false)
				case m.ta && !m.tb:
					ga = MatMulT(b, g, false, true)
				default:
					ga = MatMulT(b, g, true, true)
				}
			}
			if c.NeedsGrad(1) {
				switch {
				case !m.ta && !m.tb:
					gb = MatMulT(a, g, true, false)
				case !m.ta && m.tb:
					gb = MatMulT(g, a, true, false)
				case m.ta && !m.tb:
					gb = MatMulT(a, g, false, false)
				default:
					gb = MatMulT(g, a, true, true)
				}
			}
			return []*Var{unbroadcast(ga, a.Shape()), unbroadcast(gb, b.Shape())}
		},
		Flops: func(in []*tensor.Tensor, out *tensor.Tensor, p any) Cost {
			m := p.(matmulParams)
			sa := in[0].Shape()
			k := sa[len(sa)-1]
			if m.ta {
				k = sa[len(sa)-2]
			}
			f := 2 * float64(out.Size()) * float64(k)
			return Cost{Fwd: f, JVP: 2 * f, VJP: 2 * f}
		},
	})
}

// MatMul returns a·b for matrices (or batches of them, with NumPy
// broadcasting of the batch axes).
func MatMul(a, b *Var) *Var { return MatMulT(a, b, false, false) }

// MatMulT returns op(a)·op(b), where op transposes the last two axes when
// the flag is set.
func MatMulT(a, b *Var, transA, transB bool) *Var {
	return Apply(matmulPrim, matmulParams{transA, transB}, a, b)
}
