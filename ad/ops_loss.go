package ad

import (
	"fmt"
	"math"
	"slices"

	"github.com/gradus-ml/gradus/tensor"
)

// Normalizations and losses: softmax and log-softmax along an axis,
// cross-entropy of logits against class labels, and mean squared error.
// The forward kernels are numerically stable (shifted by the maximum) and
// run 16-bit inputs in float32, rounding the result once; the rules are
// closed forms written with Var operations.

// via32 runs f in float32 when t is a 16-bit tensor and rounds its result
// once to t's dtype, as hardware accumulating in float32 does.
func via32(t *tensor.Tensor, f func(*tensor.Tensor) *tensor.Tensor) *tensor.Tensor {
	if d := t.DType(); d == tensor.Float16 || d == tensor.BFloat16 {
		return f(t.AsType(tensor.Float32)).AsType(d)
	}
	return f(t)
}

// softmaxTensor is exp(x − max) / Σ exp(x − max) along axis.
func softmaxTensor(x *tensor.Tensor, axis int) *tensor.Tensor {
	if x.Size() == 0 {
		return x.Clone()
	}
	return via32(x, func(x *tensor.Tensor) *tensor.Tensor {
		if r := lastAxisRows(x, axis, softmaxRow32, softmaxRow64); r != nil {
			return r
		}
		ax := []int{axis}
		m := tensor.Map(tensor.Max(x, ax, true), finiteOr0)
		e := tensor.Exp(tensor.Sub(x, m))
		return tensor.Div(e, tensor.Sum(e, ax, true))
	})
}

// logSoftmaxTensor is x − log Σ exp(x) along axis, formed as
// (x − m) − log Σ exp(x − m) with m the maximum, so that large logits lose
// no digits to the cancellation x − (m + …).
func logSoftmaxTensor(x *tensor.Tensor, axis int) *tensor.Tensor {
	if x.Size() == 0 {
		return x.Clone()
	}
	return via32(x, func(x *tensor.Tensor) *tensor.Tensor {
		if r := lastAxisRows(x, axis, logSoftmaxRow32, logSoftmaxRow64); r != nil {
			return r
		}
		ax := []int{axis}
		z := tensor.Sub(x, tensor.Map(tensor.Max(x, ax, true), finiteOr0))
		return tensor.Sub(z, tensor.Log(tensor.Sum(tensor.Exp(z), ax, true)))
	})
}

// Row kernels of softmax and log-softmax over the last axis. Each computes
// exactly what the composition of tensor operations above computes, in the
// same order and with the same roundings (elementwise operations in the
// storage type, exp and log in float64 rounded to it, sums sequential),
// in one pass per row instead of six tensors.

// lastAxisRows applies f32 or f64 to every row of x along its last axis
// into a new tensor, or returns nil when axis is not the last axis or x is
// not Float32 or Float64.
func lastAxisRows(x *tensor.Tensor, axis int, f32 func(y, x []float32), f64 func(y, x []float64)) *tensor.Tensor {
	sh := x.Shape()
	if axis != len(sh)-1 || (x.DType() != tensor.Float32 && x.DType() != tensor.Float64) {
		return nil
	}
	n := sh[axis]
	if n == 0 || x.Size() == 0 {
		return nil
	}
	r := tensor.ArenaOf(x).Empty(x.DType(), sh...)
	rows := x.Size() / n
	if x.DType() == tensor.Float32 {
		y, xs := r.Data32(), x.Data32()
		parallelRows(rows, n, func(r0, r1 int) {
			for i := r0; i < r1; i++ {
				f32(y[i*n:(i+1)*n], xs[i*n:(i+1)*n])
			}
		})
	} else {
		y, xs := r.Data64(), x.Data64()
		parallelRows(rows, n, func(r0, r1 int) {
			for i := r0; i < r1; i++ {
				f64(y[i*n:(i+1)*n], xs[i*n:(i+1)*n])
			}
		})
	}
	return r
}

// rowShift is finiteOr0 of the row maximum (NaN propagating, as
// tensor.Max).
func rowShift[T float32 | float64](x []T) T {
	m := x[0]
	for _, v := range x[1:] {
		if (v != v || v > m) && m == m {
			m = v
		}
	}
	return T(finiteOr0(float64(m)))
}

func softmaxRow[T float32 | float64](y, x []T) {
	x = x[:len(y)]
	m := rowShift(x)
	var s T
	for i, v := range x {
		e := T(math.Exp(float64(v - m)))
		y[i] = e
		s += e
	}
	for i := range y {
		y[i] /= s
	}
}

func logSoftmaxRow[T float32 | float64](y, x []T) {
	x = x[:len(y)]
	m := rowShift(x)
	var s T
	for i, v := range x {
		z := v - m
		y[i] = z
		s += T(math.Exp(float64(z)))
	}
	l := T(math.Log(float64(s)))
	for i := range y {
		y[i] -= l
	}
}

// softmaxRuleRows is the first-order rule of softmax, y·(g − Σ g·y) along
// the last axis, for an untraced g and output, in one pass per row with
// the roundings of the composition (nil when it does not apply).
func softmaxRuleRows(c *Call, g *Var) *Var {
	y := c.Out
	if g.tr != nil || y.tr != nil || g.DType() != y.DType() || !slices.Equal(g.Shape(), y.Shape()) {
		return nil
	}
	if r := lastAxisRows2(g.val, y.val, c.Params.(int), softmaxVJPRow[float32], softmaxVJPRow[float64]); r != nil {
		return Const(r)
	}
	return nil
}

// lastAxisRows2 is lastAxisRows for row kernels of two inputs of one shape.
func lastAxisRows2(a, b *tensor.Tensor, axis int, f32 func(z, a, b []float32), f64 func(z, a, b []float64)) *tensor.Tensor {
	sh := a.Shape()
	if axis != len(sh)-1 || (a.DType() != tensor.Float32 && a.DType() != tensor.Float64) {
		return nil
	}
	n := sh[axis]
	if n == 0 || a.Size() == 0 {
		return nil
	}
	r := tensor.ArenaOf(a, b).Empty(a.DType(), sh...)
	rows := a.Size() / n
	if a.DType() == tensor.Float32 {
		z, as, bs := r.Data32(), a.Data32(), b.Data32()
		parallelRows(rows, n, func(r0, r1 int) {
			for i := r0; i < r1; i++ {
				f32(z[i*n:(i+1)*n], as[i*n:(i+1)*n], bs[i*n:(i+1)*n])
			}
		})
	} else {
		z, as, bs := r.Data64(), a.Data64(), b.Data64()
		parallelRows(rows, n, func(r0, r1 int) {
			for i := r0; i < r1; i++ {
				f64(z[i*n:(i+1)*n], as[i*n:(i+1)*n], bs[i*n:(i+1)*n])
			}
		})
	}
	return r
}

// softmaxVJPRow sets z = y·(g − Σ g·y) for one row (explicit conversions
// keep every product rounded, as the separate tensor operations do).
func softmaxVJPRow[T float32 | float64](z, g, y []T) {
	g, y = g[:len(z)], y[:len(z)]
	var s T
	for i, v := range g {
		s += T(v * y[i])
	}
	for i, v := range g {
		z[i] = y[i] * T(v-s)
	}
}

// logSoftmaxVJPRow sets z = g − exp(y)·Σ g for one row of the output y.
func logSoftmaxVJPRow[T float32 | float64](z, g, y []T) {
	g, y = g[:len(z)], y[:len(z)]
	var s T
	for _, v := range g {
		s += v
	}
	for i, v := range g {
		p := T(math.Exp(float64(y[i])))
		z[i] = v - T(p*s)
	}
}

func softmaxRow32(y, x []float32)    { softmaxRow(y, x) }
func softmaxRow64(y, x []float64)    { softmaxRow(y, x) }
func logSoftmaxRow32(y, x []float32) { logSoftmaxRow(y, x) }
func logSoftmaxRow64(y, x []float64) { logSoftmaxRow(y, x) }

// finiteOr0 maps ±Inf to 0, so a shift by an infinite maximum cannot form
// Inf − Inf.
func finiteOr0(v float64) float64 {
	if v-v != 0 && v == v {
		return 0
	}
	return v
}

// axisParam checks axis against x's dimensions and normalizes it.
func axisParam(op string, x *Var, axis int) int {
	n := len(x.Shape())
	if axis < -n || axis >= n {
		panic(fmt.Sprintf("ad.%s: axis %d out of range for shape %v", op, axis, x.Shape()))
	}
	if axis < 0 {
		axis += n
	}
	return axis
}

var softmaxPrim *Prim

func init() {
	softmaxPrim = register(&Prim{
		Name: "softmax",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor { return softmaxTensor(in[0], p.(int)) },
		// dy = y·(t − Σ y·t)
		JVP: func(c *Call, t []*Var) *Var {
			y := c.Out
			if r := softmaxRuleRows(c, t[0]); r != nil {
				return r
			}
			return Mul(y, Sub(t[0], Sum(Mul(y, t[0]), []int{c.Params.(int)}, true)))
		},
		// x̄ = y·(g − Σ g·y)
		VJP: func(c *Call, g *Var) []*Var {
			y := c.Out
			if r := softmaxRuleRows(c, g); r != nil {
				return []*Var{r}
			}
			return []*Var{Mul(y, Sub(g, Sum(Mul(g, y), []int{c.Params.(int)}, true)))}
		},
		Flops: elementwise(flopsExp+4, 4, 4),
	})
}

// Softmax returns exp(x) / Σ exp(x) along axis (negative counts from the
// end), computed stably by shifting by the maximum.
func Softmax(x *Var, axis int) *Var {
	return Apply(softmaxPrim, axisParam("Softmax", x, axis), x)
}

var logSoftmaxPrim *Prim

func init() {
	logSoftmaxPrim = register(&Prim{
		Name: "log_softmax",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor { return logSoftmaxTensor(in[0], p.(int)) },
		// dy = t − Σ softmax·t
		JVP: func(c *Call, t []*Var) *Var {
			p := Exp(c.Out)
			return Sub(t[0], Sum(Mul(p, t[0]), []int{c.Params.(int)}, true))
		},
		// x̄ = g − softmax·Σ g
		VJP: func(c *Call, g *Var) []*Var {
			if y := c.Out; g.tr == nil && y.tr == nil && g.DType() == y.DType() && slices.Equal(g.Shape(), y.Shape()) {
				if r := lastAxisRows2(g.val, y.val, c.Params.(int), logSoftmaxVJPRow[float32], logSoftmaxVJPRow[float64]); r != nil {
					return []*Var{Const(r)}
				}
			}
			p := Exp(c.Out)
			return []*Var{Sub(g, Mul(p, Sum(g, []int{c.Params.(int)}, true)))}
		},
		Flops: elementwise(flopsExp+flopsLog/4+3, flopsExp+3, flopsExp+3),
	})
}

// LogSoftmax returns x − log Σ exp(x) along axis (negative counts from the
// end), computed stably (finite for logits of any magnitude).
func LogSoftmax(x *Var, axis int) *Var {
	return Apply(logSoftmaxPrim, axisParam("LogSoftmax", x, axis), x)
}

// ceParams are the class labels of cross_entropy.
type ceParams struct{ labels []int }

// oneHot returns the constant [N, C] indicator of the labels.
func oneHot(d tensor.DType, labels []int, c int) *Var {
	t := tensor.Zeros(d, len(labels), c)
	for n, l := range labels {
		t.SetFlat(n*c+l, 1)
	}
	return Const(t)
}

// ceResidual is (softmax(x) − onehot)/N, the gradient of the loss.
func ceResidual(c *Call) *Var {
	x, labels := c.In[0], c.Params.(ceParams).labels
	n, k := x.Shape()[0], x.Shape()[1]
	return Scale(Sub(Softmax(x, 1), oneHot(x.DType(), labels, k)), 1/float64(n))
}

// ceGrad is (softmax(x) − onehot)·g/N as a tensor.
func ceGrad(x *tensor.Tensor, labels []int, g float64) *tensor.Tensor {
	p := softmaxTensor(x, 1)
	k := x.Shape()[1]
	for n, l := range labels {
		p.SetFlat(n*k+l, p.AtFlat(n*k+l)-1)
	}
	return tensor.Scale(p, g/float64(len(labels)))
}

var crossEntropyPrim *Prim

func init() {
	crossEntropyPrim = register(&Prim{
		Name: "cross_entropy",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			labels := p.(ceParams).labels
			x := in[0]
			if d := x.DType(); d == tensor.Float16 || d == tensor.BFloat16 {
				x = x.AsType(tensor.Float32) // the mean is rounded once, below
			}
			lsm := logSoftmaxTensor(x, 1)
			k := x.Shape()[1]
			s := 0.0
			for n, l := range labels {
				s -= lsm.AtFlat(n*k + l)
			}
			return tensor.Scalar(in[0].DType(), s/float64(len(labels)))
		},
		JVP: func(c *Call, t []*Var) *Var {
			return Sum(Mul(ceResidual(c), t[0]), nil, false)
		},
		VJP: func(c *Call, g *Var) []*Var {
			if x := c.In[0]; x.tr == nil && g.tr == nil {
				// first order: the constant (softmax − onehot)·g/N in one pass
				return []*Var{Const(ceGrad(x.val, c.Params.(ceParams).labels, g.val.Item()))}
			}
			return []*Var{Mul(ceResidual(c), g)}
		},
		Flops: func(in []*tensor.Tensor, _ *tensor.Tensor, _ any) Cost {
			n := float64(in[0].Size())
			return Cost{Fwd: (flopsExp + 3) * n, JVP: (flopsExp + 8) * n, VJP: (flopsExp + 7) * n}
		},
	})
}

// CrossEntropy returns the mean over the N rows of logits [N, C] of
// −log softmax(logits)[n, labels[n]]: the cross-entropy of the class
// probabilities against the labels (N = 0 gives NaN). The gradient in the
// logits is (softmax − onehot)/N. It panics if logits is not
// two-dimensional, if len(labels) differs from N, or if a label is outside
// [0, C).
func CrossEntropy(logits *Var, labels []int) *Var {
	sh := logits.Shape()
	if len(sh) != 2 {
		panic(fmt.Sprintf("ad.CrossEntropy: logits shape %v is not [N, C]", sh))
	}
	if len(labels) != sh[0] {
		panic(fmt.Sprintf("ad.CrossEntropy: %d labels for logits of shape %v", len(labels), sh))
	}
	for n, l := range labels {
		if l < 0 || l >= sh[1] {
			panic(fmt.Sprintf("ad.CrossEntropy: label %d of row %d is outside [0, %d)", l, n, sh[1]))
		}
	}
	return Apply(crossEntropyPrim, ceParams{slices.Clone(labels)}, logits)
}

// mseSize is the number of elements of the broadcast of a and b.
func mseSize(a, b []int) int {
	s, err := tensor.BroadcastShapes(a, b)
	if err != nil {
		panic(fmt.Sprintf("ad.MSE: shapes %v and %v: %v", a, b, err))
	}
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

var msePrim *Prim

func init() {
	msePrim = register(&Prim{
		Name: "mse",
		Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor {
			return via32(in[0], func(a *tensor.Tensor) *tensor.Tensor {
				b := in[1]
				if b.DType() != a.DType() {
					b = b.AsType(a.DType())
				}
				return tensor.Mean(tensor.Square(tensor.Sub(a, b)), nil, false)
			})
		},
		// d mean((a − b)²) = (2/n)·Σ (a − b)·(da − db)
		JVP: func(c *Call, t []*Var) *Var {
			a, b := c.In[0], c.In[1]
			var dt *Var
			switch {
			case t[1] == nil:
				dt = t[0]
			case t[0] == nil:
				dt = Neg(t[1])
			default:
				dt = Sub(t[0], t[1])
			}
			n := mseSize(a.Shape(), b.Shape())
			return Scale(Sum(Mul(Sub(a, b), dt), nil, false), 2/float64(n))
		},
		VJP: func(c *Call, g *Var) []*Var {
			a, b := c.In[0], c.In[1]
			n := mseSize(a.Shape(), b.Shape())
			ga := Mul(Scale(Sub(a, b), 2/float64(n)), g)
			return []*Var{unbroadcast(ga, a.Shape()), unbroadcast(Neg(ga), b.Shape())}
		},
		Flops: func(in []*tensor.Tensor, _ *tensor.Tensor, _ any) Cost {
			n := float64(mseSize(in[0].Shape(), in[1].Shape()))
			return Cost{Fwd: 3 * n, JVP: 4 * n, VJP: 4 * n}
		},
	})
}

// MSE returns the mean squared error mean((a − b)²) over the elements of
// the broadcast of a and b, as a zero-dimensional Var.
func MSE(a, b *Var) *Var {
	mseSize(a.Shape(), b.Shape())
	if a.DType() != b.DType() {
		panic(fmt.Sprintf("ad.MSE: dtypes %v and %v differ", a.DType(), b.DType()))
	}
	return Apply(msePrim, nil, a, b)
}
