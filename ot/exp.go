package ot

import "math"

// A table-driven exponential for the log-sum-exp loops. exp(x) is written
// as 2^(k/N)·e^r with k = round(x·N/ln2), |r| ≤ ln2/(2N), N = 128; e^r − 1
// is a degree-6 Taylor polynomial (truncation error below 1e-19), the
// reduction uses a two-part ln2/N (Cody-Waite), and 2^(k/N) comes from a
// table of correctly rounded values. The result is within about 1 ulp of
// the exact value (TestExpAccuracy checks ≤ 2 ulp against math.Exp).
// Outside [expLo, expHi] it defers to math.Exp, which handles subnormal
// results, overflow, infinities and NaN.

const (
	expTableBits = 7
	expN         = 1 << expTableBits
	expLo        = -708.0
	expHi        = 709.0
	expShifter   = 0x1.8p52 // adding it rounds to an integer in the low bits
)

var (
	expInvLn2N = float64(expN) / math.Ln2
	// ln2/N split (fdlibm's ln2 hi/lo, scaled by the power of two 1/N) so
	// that k·expLn2NHi is exact for the k that occur
	expLn2NHi = 6.93147180369123816490e-01 / expN
	expLn2NLo = 1.90821492927058770002e-10 / expN
	// expTable[j] holds the bits of 2^(j/N)
	expTable [expN]uint64
)

func init() {
	for j := range expTable {
		expTable[j] = math.Float64bits(math.Exp2(float64(j) / expN))
	}
}

// fastExp returns e^x to within about 1 ulp.
func fastExp(x float64) float64 {
	if !(x >= expLo && x <= expHi) {
		return math.Exp(x)
	}
	t := x*expInvLn2N + expShifter
	k := int64(math.Float64bits(t)) // low bits hold round(x·N/ln2)
	kf := t - expShifter
	r := (x - kf*expLn2NHi) - kf*expLn2NLo
	// e^r − 1 = r + r²/2 + … + r⁶/720
	p := r * (1 + r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720))))))
	s := math.Float64frombits(expTable[k&(expN-1)] + uint64(k>>expTableBits)<<52)
	return s + s*p
}
