package kernels

import "math"

// Elementwise float32 kernels of a training step: the ReLU forward pass
// with its kink count, the step-derivative product of the ReLU family's
// backward pass, the sums of bias gradients, and the optimizer updates.
// They are memory bound; on amd64 with AVX2 the bulk of each slice (a
// multiple of 8 elements) runs in assembly (elementwise_amd64.s) and the
// tail in the portable Go loops below, which are also the whole kernel
// under -tags purego, on other architectures and on CPUs without AVX2.
//
// Every kernel gives the same bits on both paths: the assembly does the
// same IEEE operations, in the same order, as the Go loops, and never
// fuses a multiply and an add. A NaN operand propagates its payload
// (quieted); where two NaNs meet in one sum or product, which payload
// survives is unspecified, as it is in compiled Go, which may order the
// operands of a commutative operation either way. Output slices may be the
// same slice as an input of the same length (in place) but must not
// otherwise overlap one.

// reluCountChunk bounds the elements one assembly call counts, so its
// eight 32-bit lane counters cannot overflow.
const reluCountChunk = 1 << 30

// ReluCount32 sets z[i] = x[i], with the negative elements (x < 0: not −0,
// not NaN) replaced by +0, and returns how many x[i] are ±0. x must be at
// least as long as z; z may be x.
func ReluCount32(z, x []float32) int {
	x = x[:len(z)]
	n := 0
	for len(z) > 0 {
		m := min(len(z), reluCountChunk)
		done, c := reluCount32Asm(z[:m], x[:m])
		n += c + reluCount32Go(z[done:m], x[done:m])
		z, x = z[m:], x[m:]
	}
	return n
}

func reluCount32Go(z, x []float32) int { return reluCountGo(z, x) }

// ReluCount64 is ReluCount32 for float64, in portable Go.
func ReluCount64(z, x []float64) int { return reluCountGo(z, x) }

// reluCountGo is ReluCount32's loop: negative elements cleared by a mask
// (−0 and NaN kept), zeros counted.
func reluCountGo[T float32 | float64](z, x []T) int {
	x = x[:len(z)]
	n := 0
	for i, v := range x {
		if v == 0 {
			n++
		}
		if v < 0 {
			z[i] = 0
		} else {
			z[i] = v
		}
	}
	return n
}

// StepMul32 sets z[i] = g[i]·tbl[c] with the class c of x[i]: 0 below k,
// 1 above k, 2 equal to k, 3 NaN. g and x must be at least as long as z;
// z may be g or x.
func StepMul32(z, g, x []float32, k float32, tbl [4]float32) {
	g, x = g[:len(z)], x[:len(z)]
	done := stepMul32Asm(z, g, x, k, &tbl)
	stepMulGo(z[done:], g[done:], x[done:], k, &tbl)
}

// StepMul64 is StepMul32 for float64, in portable Go.
func StepMul64(z, g, x []float64, k float64, tbl [4]float64) { stepMulGo(z, g, x, k, &tbl) }

// stepMulGo is StepMul32's loop, the class chosen without branches.
func stepMulGo[T float32 | float64](z, g, x []T, k T, tbl *[4]T) {
	g, x = g[:len(z)], x[:len(z)]
	for i, v := range x {
		c := 0
		if v > k {
			c = 1
		}
		if v == k {
			c = 2
		}
		if v != v {
			c = 3
		}
		z[i] = g[i] * tbl[c&3]
	}
}

// ColSum32 sets dst[j] to the sum over r < rows of src[r·stride+j], for
// j < len(dst), added in the order of r to a +0 start: the running sums of
// each column of a row-major [rows, stride] block. src must hold
// (rows−1)·stride+len(dst) elements when rows > 0; dst must not overlap it.
func ColSum32(dst, src []float32, rows, stride int) {
	n := len(dst)
	if rows <= 0 || n == 0 {
		clear(dst)
		return
	}
	if stride < n {
		panic("kernels.ColSum32: stride shorter than the row")
	}
	_ = src[(rows-1)*stride+n-1]
	done := colSum32Asm(dst, src, rows, stride)
	colSum32Go(dst[done:], src[done:], rows, stride)
}

func colSum32Go(dst, src []float32, rows, stride int) {
	clear(dst)
	n := len(dst)
	if n == 0 {
		return
	}
	for r := range rows {
		row := src[r*stride : r*stride+n]
		for j, v := range row {
			dst[j] += v
		}
	}
}

// SGDCoef32 are the per-step coefficients of an SGD update in float32.
type SGDCoef32 struct {
	GSign        float32 // +1, or −1 to maximize
	L2           float32 // coupled L2 coefficient; 0 skips the term
	Decay        float32 // 1 − lr·weight decay
	NegLR        float32 // −lr
	Mu           float32 // momentum
	OneMinusDamp float32 // 1 − dampening
	First        bool    // the first step with momentum: buf = d
	Nesterov     bool
}

// SGD32 applies the plain SGD step to p with gradient g:
//
//	d = g·GSign (+ L2·p when L2 ≠ 0);  p = p·Decay + NegLR·d
//
// each product and sum rounded to float32. g must be as long as p.
func SGD32(p, g []float32, k *SGDCoef32) {
	g = g[:len(p)]
	done := sgd32Asm(p, g, k)
	sgd32Go(p[done:], g[done:], k)
}

func sgd32Go(p, g []float32, k *SGDCoef32) {
	g = g[:len(p)]
	for i := range p {
		th := p[i]
		d := g[i] * k.GSign
		if k.L2 != 0 {
			d += float32(k.L2 * th)
		}
		p[i] = float32(th*k.Decay) + float32(k.NegLR*d)
	}
}

// SGDMomentum32 applies the SGD step with momentum buffer buf:
//
//	d = g·GSign (+ L2·p);  b = First ? d : Mu·buf + OneMinusDamp·d;  buf = b
//	d = Nesterov ? d + Mu·b : b;  p = p·Decay + NegLR·d
//
// each product and sum rounded to float32. g and buf must be as long as p.
func SGDMomentum32(p, g, buf []float32, k *SGDCoef32) {
	g, buf = g[:len(p)], buf[:len(p)]
	done := sgdMomentum32Asm(p, g, buf, k)
	sgdMomentum32Go(p[done:], g[done:], buf[done:], k)
}

func sgdMomentum32Go(p, g, buf []float32, k *SGDCoef32) {
	g, buf = g[:len(p)], buf[:len(p)]
	for i := range p {
		th := p[i]
		d := g[i] * k.GSign
		if k.L2 != 0 {
			d += float32(k.L2 * th)
		}
		b := d
		if !k.First {
			b = float32(k.Mu*buf[i]) + float32(k.OneMinusDamp*d)
		}
		buf[i] = b
		if k.Nesterov {
			d += float32(k.Mu * b)
		} else {
			d = b
		}
		p[i] = float32(th*k.Decay) + float32(k.NegLR*d)
	}
}

// AdamCoef32 are the per-step coefficients of an Adam(W) update in float32.
type AdamCoef32 struct {
	GSign         float32 // +1, or −1 to maximize
	L2            float32 // coupled L2 coefficient; 0 skips the term
	Decay         float32 // 1 − lr·weight decay
	Beta1         float32
	OneMinusBeta1 float32
	Beta2         float32
	OneMinusBeta2 float32
	SqrtBC2       float32 // √(1 − β₂ᵗ)
	Eps           float32
	NegStep       float32 // −lr/(1 − β₁ᵗ)
}

// Adam32 applies the Adam step to p with gradient g and moments m, v:
//
//	d = g·GSign (+ L2·p);  p = p·Decay
//	m = m·Beta1 + OneMinusBeta1·d;  v = v·Beta2 + (OneMinusBeta2·d)·d
//	p = p + (NegStep·m) / (√v/SqrtBC2 + Eps)
//
// each operation rounded to float32 (the square root correctly rounded).
// g, m and v must be as long as p.
func Adam32(p, g, m, v []float32, k *AdamCoef32) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	done := adam32Asm(p, g, m, v, k)
	adam32Go(p[done:], g[done:], m[done:], v[done:], k)
}

func adam32Go(p, g, m, v []float32, k *AdamCoef32) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for i := range p {
		th := p[i]
		gi := g[i] * k.GSign
		if k.L2 != 0 {
			gi += float32(k.L2 * th)
		}
		th = float32(th * k.Decay)
		ms := float32(m[i]*k.Beta1) + float32(k.OneMinusBeta1*gi)
		vs := float32(v[i]*k.Beta2) + float32(float32(k.OneMinusBeta2*gi)*gi)
		m[i], v[i] = ms, vs
		denom := float32(float32(math.Sqrt(float64(vs)))/k.SqrtBC2) + k.Eps
		p[i] = th + float32(k.NegStep*ms)/denom
	}
}
