//go:build !amd64

package ot

func sumExp(c, h []float64, m, invEps float64) float64 { return sumExpGo(c, h, m, invEps) }

func maxDiff(c, h []float64) float64 { return maxDiffGo(c, h) }
