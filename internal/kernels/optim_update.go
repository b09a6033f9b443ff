package kernels

import "math"

// Float32 updates of the INNAprop, INNA and RMSprop optimizers, in the
// manner of SGD32 and Adam32 (elementwise.go): on amd64 with AVX2 the bulk
// of each slice (a multiple of 8 elements) runs in assembly
// (optim_update_amd64.s), the tail and every other platform in the Go loops
// below. Both paths do the same IEEE float32 operations in the same order,
// each rounded, nothing fused, the square roots and divisions correctly
// rounded; they give the same bits, up to which NaN payload survives where
// two NaNs meet in one sum (the assembly picks the operand order go1.26
// compiles optim's generic loops to; the Go loops here compile to another).

// INNApropCoef32 are the per-step coefficients of an INNAprop update in
// float32.
type INNApropCoef32 struct {
	GSign         float32 // +1, or −1 to maximize
	Decay         float32 // 1 − lr·weight decay
	Sigma         float32 // second-moment decay σ
	OneMinusSigma float32 // 1 − σ
	SqrtBC        float32 // √(1 − σᵗ)
	Eps           float32
	PsiKeep       float32 // 1 − lr/β
	PsiTheta      float32 // lr·(1/β − α)
	ThetaKeep     float32 // 1 + s1
	S2            float32 // lr/(β − lr)
	GScale        float32 // −lr·β
}

// INNAprop32 applies the INNAprop step to p with gradient g, second moment
// v and auxiliary variable psi:
//
//	d = g·GSign;  th = p·Decay
//	v = v·Sigma + (OneMinusSigma·d)·d
//	denom = √v/SqrtBC + Eps
//	psi = psi·PsiKeep + PsiTheta·th
//	p = (th·ThetaKeep − S2·psi) + (GScale·d)/denom
//
// each operation rounded to float32. g, v and psi must be as long as p.
func INNAprop32(p, g, v, psi []float32, k *INNApropCoef32) {
	g, v, psi = g[:len(p)], v[:len(p)], psi[:len(p)]
	done := innaprop32Asm(p, g, v, psi, k)
	innaprop32Go(p[done:], g[done:], v[done:], psi[done:], k)
}

func innaprop32Go(p, g, v, psi []float32, k *INNApropCoef32) {
	g, v, psi = g[:len(p)], v[:len(p)], psi[:len(p)]
	for i := range p {
		gi := g[i] * k.GSign
		th := float32(p[i] * k.Decay)
		vs := float32(v[i]*k.Sigma) + float32(float32(k.OneMinusSigma*gi)*gi)
		v[i] = vs
		denom := float32(float32(math.Sqrt(float64(vs)))/k.SqrtBC) + k.Eps
		ps := float32(psi[i]*k.PsiKeep) + float32(k.PsiTheta*th)
		psi[i] = ps
		p[i] = float32(float32(th*k.ThetaKeep)-float32(k.S2*ps)) + float32(k.GScale*gi)/denom
	}
}

// INNACoef32 are the per-step coefficients of an INNA update in float32.
type INNACoef32 struct {
	GSign     float32 // +1, or −1 to maximize
	Decay     float32 // 1 − lr·weight decay
	ThetaCoef float32 // α − 1/β
	PsiCoef   float32 // 1/β
	NegLR     float32 // −lr
	Beta      float32 // β
}

// INNA32 applies the INNA step to p with gradient g and auxiliary
// variable psi:
//
//	th = p·Decay;  phase = ThetaCoef·th + PsiCoef·psi
//	psi = psi + NegLR·phase
//	p = th + NegLR·(phase + Beta·(g·GSign))
//
// each operation rounded to float32. g and psi must be as long as p.
func INNA32(p, g, psi []float32, k *INNACoef32) {
	g, psi = g[:len(p)], psi[:len(p)]
	done := inna32Asm(p, g, psi, k)
	inna32Go(p[done:], g[done:], psi[done:], k)
}

func inna32Go(p, g, psi []float32, k *INNACoef32) {
	g, psi = g[:len(p)], psi[:len(p)]
	for i := range p {
		th := float32(p[i] * k.Decay)
		ps := psi[i]
		phase := float32(k.ThetaCoef*th) + float32(k.PsiCoef*ps)
		psi[i] = ps + float32(k.NegLR*phase)
		p[i] = th + float32(k.NegLR*(phase+float32(k.Beta*(g[i]*k.GSign))))
	}
}

// RMSpropCoef32 are the per-step coefficients of an RMSprop update in
// float32.
type RMSpropCoef32 struct {
	GSign         float32 // +1, or −1 to maximize
	L2            float32 // coupled L2 coefficient; 0 skips the term
	Decay         float32 // 1 − lr·weight decay
	Alpha         float32 // smoothing constant α
	OneMinusAlpha float32 // 1 − α
	Eps           float32
	Mu            float32 // momentum
	NegLR         float32 // −lr
	Momentum      bool    // keep a momentum buffer (mom)
	Centered      bool    // keep a gradient average (avg)
}

// RMSprop32 applies the RMSprop step to p with gradient g, square average
// v, and the momentum buffer mom and gradient average avg when
// k.Momentum and k.Centered (each may be nil otherwise):
//
//	d = g·GSign (+ L2·p when L2 ≠ 0);  th = p·Decay
//	v = v·Alpha + (OneMinusAlpha·d)·d
//	centered: avg = avg·Alpha + OneMinusAlpha·d,  den = √(v − avg·avg) + Eps
//	else:     den = √v + Eps
//	momentum: mom = Mu·mom + d/den,  p = th + NegLR·mom
//	else:     p = th + NegLR·(d/den)
//
// each operation rounded to float32. g, v and the buffers in use must be as
// long as p.
func RMSprop32(p, g, v, mom, avg []float32, k *RMSpropCoef32) {
	g, v = g[:len(p)], v[:len(p)]
	if k.Momentum {
		mom = mom[:len(p)]
	}
	if k.Centered {
		avg = avg[:len(p)]
	}
	done := rmsprop32Asm(p, g, v, mom, avg, k)
	var m, a []float32
	if k.Momentum {
		m = mom[done:]
	}
	if k.Centered {
		a = avg[done:]
	}
	rmsprop32Go(p[done:], g[done:], v[done:], m, a, k)
}

func rmsprop32Go(p, g, v, mom, avg []float32, k *RMSpropCoef32) {
	g, v = g[:len(p)], v[:len(p)]
	for i := range p {
		th := p[i]
		gi := g[i] * k.GSign
		if k.L2 != 0 {
			gi += float32(k.L2 * th)
		}
		th = float32(th * k.Decay)
		vs := float32(v[i]*k.Alpha) + float32(float32(k.OneMinusAlpha*gi)*gi)
		v[i] = vs
		var den float32
		if k.Centered {
			as := float32(avg[i]*k.Alpha) + float32(k.OneMinusAlpha*gi)
			avg[i] = as
			den = float32(math.Sqrt(float64(vs-float32(as*as)))) + k.Eps
		} else {
			den = float32(math.Sqrt(float64(vs))) + k.Eps
		}
		if k.Momentum {
			bs := float32(k.Mu*mom[i]) + gi/den
			mom[i] = bs
			p[i] = th + float32(k.NegLR*bs)
		} else {
			p[i] = th + float32(k.NegLR*(gi/den))
		}
	}
}
