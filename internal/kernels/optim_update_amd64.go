//go:build amd64 && !purego

package kernels

// AVX2 bodies of the optimizer updates (optim_update_amd64.s). Like the
// other elementwise kernels they process n elements, a multiple of 8, and
// run only when elemAVX2 is set; the wrappers return how many they did.

//go:noescape
func innaprop32AVX2(p, grad, v, psi *float32, n int, k *INNApropCoef32)

//go:noescape
func inna32AVX2(p, grad, psi *float32, n int, k *INNACoef32)

//go:noescape
func rmsprop32AVX2(p, grad, v, mom, avg *float32, n int, k *RMSpropCoef32, flags int)

// flag bits of rmsprop32AVX2
const (
	rmsFlagL2       = 1
	rmsFlagCentered = 2
	rmsFlagMomentum = 4
)

func innaprop32Asm(p, g, v, psi []float32, k *INNApropCoef32) int {
	n := bulk(len(p))
	if n == 0 {
		return 0
	}
	_, _, _ = g[n-1], v[n-1], psi[n-1]
	innaprop32AVX2(&p[0], &g[0], &v[0], &psi[0], n, k)
	return n
}

func inna32Asm(p, g, psi []float32, k *INNACoef32) int {
	n := bulk(len(p))
	if n == 0 {
		return 0
	}
	_, _ = g[n-1], psi[n-1]
	inna32AVX2(&p[0], &g[0], &psi[0], n, k)
	return n
}

func rmsprop32Asm(p, g, v, mom, avg []float32, k *RMSpropCoef32) int {
	n := bulk(len(p))
	if n == 0 {
		return 0
	}
	_, _ = g[n-1], v[n-1]
	f := 0
	var pm, pa *float32
	if k.L2 != 0 {
		f |= rmsFlagL2
	}
	if k.Centered {
		_ = avg[n-1]
		pa = &avg[0]
		f |= rmsFlagCentered
	}
	if k.Momentum {
		_ = mom[n-1]
		pm = &mom[0]
		f |= rmsFlagMomentum
	}
	rmsprop32AVX2(&p[0], &g[0], &v[0], pm, pa, n, k, f)
	return n
}
