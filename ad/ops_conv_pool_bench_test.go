package ad

import (
	"syscall"
	"testing"

	"github.com/gradus-ml/gradus/tensor"
)

// Kernel benchmarks at the geometry of nn's BenchmarkCNNStep.

func benchConvGeom(layer int) convGeom {
	if layer == 1 {
		return newConvGeom("b", []int{1, 1, 28, 28}, []int{32, 1, 3, 3}, Conv2dOptions{}.normalized("b"))
	}
	return newConvGeom("b", []int{1, 32, 13, 13}, []int{64, 32, 3, 3}, Conv2dOptions{}.normalized("b"))
}

func BenchmarkIm2colL2(b *testing.B) {
	g := benchConvGeom(2)
	x := make([]float32, g.c*g.h*g.w)
	for i := range x {
		x[i] = float32(i)
	}
	cols := make([]float32, g.ckk()*3*g.p())
	for i := 0; i < b.N; i++ {
		for s := 0; s < 3; s++ {
			im2colLD(x, g, cols, 3*g.p(), s*g.p())
		}
	}
}

func BenchmarkCol2imL2(b *testing.B) {
	g := benchConvGeom(2)
	dx := make([]float32, g.c*g.h*g.w)
	cols := make([]float32, g.ckk()*3*g.p())
	for i := range cols {
		cols[i] = float32(i & 7)
	}
	for i := 0; i < b.N; i++ {
		for s := 0; s < 3; s++ {
			col2imLD(cols, g, dx, 3*g.p(), s*g.p())
		}
	}
}

func BenchmarkIm2colL1(b *testing.B) {
	g := benchConvGeom(1)
	x := make([]float32, g.c*g.h*g.w)
	cols := make([]float32, g.ckk()*g.p())
	for i := 0; i < b.N; i++ {
		im2colLD(x, g, cols, g.p(), 0)
	}
}

func benchPoolInput() (*tensor.Tensor, poolGeom) {
	g := newPoolGeom("b", []int{benchPoolN, 32, 26, 26}, Pool2dOptions{Kernel: [2]int{2, 2}})
	r := tensor.NewRNG(1)
	x := make([]float32, g.inSize())
	for i := range x {
		x[i] = float32(r.IntN(1000)) - 500
	}
	return tensor.Wrap32(tensor.Float32, x, g.n, g.c, g.h, g.w), g
}

func BenchmarkMaxPoolFwd(b *testing.B) {
	x, g := benchPoolInput()
	b.ResetTimer()
	c0 := benchCPU()
	for i := 0; i < b.N; i++ {
		maxPoolTensor(x, g, &poolCache{})
	}
	b.ReportMetric((benchCPU()-c0)/float64(b.N)/1e3, "cpu-us/op")
}

func BenchmarkMaxPoolScatter(b *testing.B) {
	x, g := benchPoolInput()
	c := &poolCache{}
	maxPoolTensor(x, g, c)
	r := &poolRoute{in: x.Shape(), out: []int{g.n, g.c, g.oh, g.ow}, idx: c.idx}
	gt := tensor.Wrap32(tensor.Float32, make([]float32, g.outSize()), r.out...)
	b.ResetTimer()
	c0 := benchCPU()
	for i := 0; i < b.N; i++ {
		routeScatter(gt, r)
	}
	b.ReportMetric((benchCPU()-c0)/float64(b.N)/1e3, "cpu-us/op")
}

func benchCPU() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano() + ru.Stime.Nano())
}

var benchPoolN = 128
