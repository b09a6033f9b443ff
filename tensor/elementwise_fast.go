package tensor

import (
	"math"

	"github.com/gradus-ml/gradus/internal/kernels"
)

// Typed elementwise kernels. The hot elementwise operations run one tight
// loop per (operation, element type) instead of calling a float64 closure
// per element: the operation is selected once per call (a switch outside
// the loop) and the loop body is the operation itself. Results are
// identical to the closure forms: float32-stored dtypes compute in float32
// where the closure form did (+, −, ·, /, negation, scaling, comparisons,
// max/min) and in float64 rounded to float32 where it did (transcendental
// functions); 16-bit dtypes are rounded after the loop as before.

type float interface{ ~float32 | ~float64 }

// binOp names a typed binary kernel.
type binOp uint8

const (
	opAdd binOp = iota
	opSub
	opMul
	opDiv
	opMax
	opMin
	opGT
	opGE
	opLT
	opLE
	opEQ
	opNE
)

// binVV sets z[i] = x[i] op y[i].
func binVV[T float](op binOp, z, x, y []T) {
	n := len(z)
	x, y = x[:n], y[:n]
	switch op {
	case opAdd:
		for i := range z {
			z[i] = x[i] + y[i]
		}
	case opSub:
		for i := range z {
			z[i] = x[i] - y[i]
		}
	case opMul:
		for i := range z {
			z[i] = x[i] * y[i]
		}
	case opDiv:
		for i := range z {
			z[i] = x[i] / y[i]
		}
	default:
		for i := range z {
			z[i] = binScalar(op, x[i], y[i])
		}
	}
}

// binVS sets z[i] = x[i] op s.
func binVS[T float](op binOp, z, x []T, s T) {
	x = x[:len(z)]
	switch op {
	case opAdd:
		for i, v := range x {
			z[i] = v + s
		}
	case opSub:
		for i, v := range x {
			z[i] = v - s
		}
	case opMul:
		for i, v := range x {
			z[i] = v * s
		}
	case opDiv:
		for i, v := range x {
			z[i] = v / s
		}
	default:
		for i, v := range x {
			z[i] = binScalar(op, v, s)
		}
	}
}

// binSV sets z[i] = s op y[i].
func binSV[T float](op binOp, z []T, s T, y []T) {
	y = y[:len(z)]
	switch op {
	case opAdd:
		for i, v := range y {
			z[i] = s + v
		}
	case opSub:
		for i, v := range y {
			z[i] = s - v
		}
	case opMul:
		for i, v := range y {
			z[i] = s * v
		}
	case opDiv:
		for i, v := range y {
			z[i] = s / v
		}
	default:
		for i, v := range y {
			z[i] = binScalar(op, s, v)
		}
	}
}

// binScalar is one element of op (the less frequent operations).
func binScalar[T float](op binOp, x, y T) T {
	switch op {
	case opAdd:
		return x + y
	case opSub:
		return x - y
	case opMul:
		return x * y
	case opDiv:
		return x / y
	case opMax:
		if x != x || y != y {
			return T(math.NaN())
		}
		return max(x, y)
	case opMin:
		if x != x || y != y {
			return T(math.NaN())
		}
		return min(x, y)
	case opGT:
		return bool01[T](x > y)
	case opGE:
		return bool01[T](x >= y)
	case opLT:
		return bool01[T](x < y)
	case opLE:
		return bool01[T](x <= y)
	case opEQ:
		return bool01[T](x == y)
	case opNE:
		return bool01[T](x != y)
	}
	panic("tensor: unknown binary kernel")
}

func bool01[T float](c bool) T {
	if c {
		return 1
	}
	return 0
}

// binRun applies op to one run of a broadcast iteration: n outputs from x
// with inner stride ka and y with inner stride kb (each 0 or 1).
func binRun[T float](op binOp, z, x, y []T, ka, kb int) {
	switch {
	case ka == 1 && kb == 1:
		binVV(op, z, x, y)
	case ka == 1:
		binVS(op, z, x, y[0])
	case kb == 1:
		binSV(op, z, x[0], y)
	default:
		v := binScalar(op, x[0], y[0])
		for i := range z {
			z[i] = v
		}
	}
}

// binaryTyped is binary for the operations with typed kernels.
func binaryTyped(name string, op binOp, a, b *Tensor) *Tensor {
	mustSameDType(name, a, b)
	var r *Tensor
	if sameShape(a.shape, b.shape) {
		r = emptyOf(a.shape, a, b)
		if a.dtype.is64() {
			parallelChunks(len(r.f64), func(lo, hi int) { binVV(op, r.f64[lo:hi], a.f64[lo:hi], b.f64[lo:hi]) })
		} else {
			parallelChunks(len(r.f32), func(lo, hi int) { binVV(op, r.f32[lo:hi], a.f32[lo:hi], b.f32[lo:hi]) })
		}
	} else {
		out := mustBroadcast(name, a.shape, b.shape)
		r = emptyOf(out, a, b)
		if a.dtype.is64() {
			broadcastRunsPar(out, a.shape, b.shape, func(o, ia, ib, n, ka, kb int) {
				binRun(op, r.f64[o:o+n], a.f64[ia:], b.f64[ib:], ka, kb)
			})
		} else {
			broadcastRunsPar(out, a.shape, b.shape, func(o, ia, ib, n, ka, kb int) {
				binRun(op, r.f32[o:o+n], a.f32[ia:], b.f32[ib:], ka, kb)
			})
		}
	}
	roundSlice(r.dtype, r.f32)
	return r
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// unOp names a typed unary kernel.
type unOp uint8

const (
	opNeg unOp = iota
	opScale
	opAddS
	opRelu
	opAbs
	opSquare
	opSqrt
	opRsqrt
	opExp
	opLog
	opLog1p
	opExpm1
	opTanh
	opSigmoid
	opSoftplus
	opSin
	opCos
	opErf
	opClamp
	opSign
	opPowS
)

// unLoop sets z[i] = op(x[i]) with parameters p and q (scale, offset,
// bounds, exponent). The arithmetic forms run in T; the transcendental
// ones in float64, rounded to T.
func unLoop[T float](op unOp, z, x []T, p, q float64) {
	x = x[:len(z)]
	switch op {
	case opNeg:
		for i, v := range x {
			z[i] = -v
		}
	case opScale:
		s := T(p)
		for i, v := range x {
			z[i] = s * v
		}
	case opAddS:
		s := T(p)
		for i, v := range x {
			z[i] = v + s
		}
	case opRelu:
		switch x := any(x).(type) {
		case []float32:
			reluLoop32(any(z).([]float32), x)
		case []float64:
			reluLoop64(any(z).([]float64), x)
		}
	case opAbs:
		for i, v := range x {
			z[i] = T(math.Abs(float64(v)))
		}
	case opSquare:
		for i, v := range x {
			z[i] = v * v
		}
	case opSqrt:
		for i, v := range x {
			z[i] = T(math.Sqrt(float64(v)))
		}
	case opRsqrt:
		for i, v := range x {
			z[i] = T(1 / math.Sqrt(float64(v)))
		}
	case opExp:
		for i, v := range x {
			z[i] = T(math.Exp(float64(v)))
		}
	case opLog:
		for i, v := range x {
			z[i] = T(math.Log(float64(v)))
		}
	case opLog1p:
		for i, v := range x {
			z[i] = T(math.Log1p(float64(v)))
		}
	case opExpm1:
		for i, v := range x {
			z[i] = T(math.Expm1(float64(v)))
		}
	case opTanh:
		for i, v := range x {
			z[i] = T(math.Tanh(float64(v)))
		}
	case opSigmoid:
		for i, v := range x {
			z[i] = T(sigmoid(float64(v)))
		}
	case opSoftplus:
		for i, v := range x {
			z[i] = T(softplus(float64(v)))
		}
	case opSin:
		for i, v := range x {
			z[i] = T(math.Sin(float64(v)))
		}
	case opCos:
		for i, v := range x {
			z[i] = T(math.Cos(float64(v)))
		}
	case opErf:
		for i, v := range x {
			z[i] = T(math.Erf(float64(v)))
		}
	case opClamp:
		for i, v := range x {
			f := float64(v)
			if f < p {
				f = p
			}
			if f > q {
				f = q
			}
			z[i] = T(f)
		}
	case opSign:
		for i, v := range x {
			switch {
			case v > 0:
				v = 1
			case v < 0:
				v = -1
			}
			z[i] = v
		}
	case opPowS:
		if _, f32 := any(x).([]float32); f32 && p == 2 {
			// a float32 squared is exact in float64, as math.Pow(x, 2) is
			for i, v := range x {
				f := float64(v)
				z[i] = T(f * f)
			}
		} else {
			for i, v := range x {
				z[i] = T(math.Pow(float64(v), p))
			}
		}
	default:
		panic("tensor: unknown unary kernel")
	}
}

// unaryTyped applies the typed kernel op to a.
func unaryTyped(op unOp, a *Tensor, p, q float64) *Tensor {
	r := emptyOf(a.shape, a)
	if a.dtype.is64() {
		parallelChunks(len(r.f64), func(lo, hi int) { unLoop(op, r.f64[lo:hi], a.f64[lo:hi], p, q) })
		return r
	}
	parallelChunks(len(r.f32), func(lo, hi int) {
		unLoop(op, r.f32[lo:hi], a.f32[lo:hi], p, q)
		roundSlice(r.dtype, r.f32[lo:hi])
	})
	return r
}

// parMin is the number of elements below which an elementwise loop runs on
// the calling goroutine alone: smaller loops take less time than handing
// work to another goroutine.
const parMin = 1 << 15

// parallelChunks calls f on disjoint ranges [lo, hi) covering [0, n), on up
// to kernels.Threads() goroutines (the caller included) when n is large,
// each range at least parMin long and a multiple of 16 elements (so no two
// goroutines write the same cache line of a float32 or float64 slice
// allocated on a 64-byte boundary).
func parallelChunks(n int, f func(lo, hi int)) { parallelChunksMinAlign(n, parMin, 16, f) }

// parallelChunksMin splits [0, n) into ranges of at least minN items (no
// alignment), for loops over rows or runs.
func parallelChunksMin(n, minN int, f func(lo, hi int)) { parallelChunksMinAlign(n, minN, 1, f) }

// parallelChunksMinAlign is the common form: ranges of at least minN items
// with bounds multiples of align (see kernels.ParallelFor).
func parallelChunksMinAlign(n, minN, align int, f func(lo, hi int)) {
	kernels.ParallelFor(n, minN, align, f)
}

// reluLoop32 sets z = x where x is not below 0 and 0 where it is (−0 and
// NaN pass through), clearing the bits of negative elements with a mask
// so that the random signs of activations cost no branch mispredictions.
func reluLoop32(z, x []float32) {
	x = x[:len(z)]
	for i, v := range x {
		var m uint32
		if v < 0 {
			m = ^uint32(0)
		}
		z[i] = math.Float32frombits(math.Float32bits(v) &^ m)
	}
}

// reluLoop64 is reluLoop32 for float64.
func reluLoop64(z, x []float64) {
	x = x[:len(z)]
	for i, v := range x {
		var m uint64
		if v < 0 {
			m = ^uint64(0)
		}
		z[i] = math.Float64frombits(math.Float64bits(v) &^ m)
	}
}
