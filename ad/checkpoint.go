package ad

import (
	"fmt"

	"github.com/gradus-ml/gradus/tensor"
)

// Checkpointing: a segment of the computation recorded as one node whose
// intermediate values are recomputed during the backward pass instead of
// being kept.

// ckptParams carry the segment.
type ckptParams struct{ f Func }

var checkpointPrim *Prim

func init() {
	checkpointPrim = register(&Prim{
		Name: "checkpoint",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			xs := make([]*Var, len(in))
			for i, t := range in {
				xs[i] = Const(t)
			}
			y := p.(ckptParams).f(xs...)
			if y == nil {
				panic("ad.Checkpoint: the segment returned a nil Var")
			}
			if y.tr != nil {
				// the segment captured a traced Var instead of receiving it
				// as an input: its derivative would be lost silently
				panic(fmt.Sprintf("ad.Checkpoint: the segment's output (shape %v) depends on a Var traced in %s mode that is not one of its inputs; pass every Var to differentiate in xs", y.Shape(), y.tr.kind()))
			}
			return y.val
		},
		JVP: func(c *Call, t []*Var) *Var {
			fw, err := NewForward(&Options{Policy: *c.Policy, Stats: c.stats})
			if err != nil {
				panic(err) // the policy was validated by the calling trace
			}
			defer fw.Close()
			xs := make([]*Var, len(c.In))
			for i, x := range c.In {
				xs[i] = x
				if t[i] != nil {
					xs[i], _ = fw.Seed(x, t[i])
				}
			}
			_, tan := fw.Tangent(c.Params.(ckptParams).f(xs...))
			return tan
		},
		VJP: func(c *Call, g *Var) []*Var {
			tp, err := NewTape(&Options{Policy: *c.Policy, Stats: c.stats})
			if err != nil {
				panic(err)
			}
			defer tp.Close()
			ws := make([]*Var, len(c.In))
			for i, x := range c.In {
				ws[i] = tp.Watch(x)
			}
			gs, err := tp.Backward(c.Params.(ckptParams).f(ws...), g, ws...)
			if err != nil {
				panic(fmt.Sprintf("ad.Checkpoint: recomputation failed: %v", err))
			}
			return gs
		},
	})
}

// Checkpoint returns f(xs...) recorded as a single node: f's intermediate
// values are not kept, and the backward pass recomputes them (trading time
// for memory). f must be deterministic, and every Var it differentiates
// must come in through xs: Checkpoint panics if f uses a traced Var it
// captured from outside, whose derivative would otherwise be lost. Kink
// counts inside the segment are added to the trace's Stats when it is
// recomputed.
func Checkpoint(f Func, xs ...*Var) *Var { return Apply(checkpointPrim, ckptParams{f}, xs...) }

// CheckpointN is Checkpoint for a segment with several outputs.
func CheckpointN(f func(xs ...*Var) []*Var, xs ...*Var) []*Var {
	var shapes [][]int
	var dtypes []tensor.DType
	packed := func(zs ...*Var) *Var {
		outs := f(zs...)
		shapes = make([][]int, len(outs))
		dtypes = make([]tensor.DType, len(outs))
		for i, o := range outs {
			shapes[i], dtypes[i] = o.Shape(), o.DType()
		}
		return flatConcat(outs)
	}
	y := Checkpoint(packed, xs...)
	outs := make([]*Var, len(shapes))
	off := 0
	for i, s := range shapes {
		n := 1
		for _, d := range s {
			n *= d
		}
		outs[i] = Cast(Reshape(SliceAxis(y, 0, off, off+n), s...), dtypes[i])
		off += n
	}
	return outs
}
