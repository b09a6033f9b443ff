package ot

import "golang.org/x/sys/cpu"

var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// maxDiffAVX2 returns max_j (h_j − c_j) over n elements, n a positive
// multiple of 8.
//
//go:noescape
func maxDiffAVX2(c, h *float64, n int) float64

// sumExpAVX2 returns Σ_j exp(max((h_j − c_j − m)·invEps, −708)) over n
// elements, n a positive multiple of 8.
//
//go:noescape
func sumExpAVX2(c, h *float64, n int, m, invEps float64) float64

func sumExp(c, h []float64, m, invEps float64) float64 {
	n := len(h) &^ 7
	if !useAVX2 || n == 0 {
		return sumExpGo(c, h, m, invEps)
	}
	c = c[:len(h)]
	s := sumExpAVX2(&c[0], &h[0], n, m, invEps)
	if n < len(h) {
		s += sumExpGo(c[n:], h[n:], m, invEps)
	}
	return s
}

func maxDiff(c, h []float64) float64 {
	n := len(h) &^ 7
	if !useAVX2 || n == 0 {
		return maxDiffGo(c, h)
	}
	c = c[:len(h)]
	m := maxDiffAVX2(&c[0], &h[0], n)
	if n < len(h) {
		m = fmax(m, maxDiffGo(c[n:], h[n:]))
	}
	return m
}
