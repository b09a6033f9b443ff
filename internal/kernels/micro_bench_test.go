package kernels

import "testing"

// BenchmarkMicro measures the micro-kernels alone on L1-resident packed
// panels (kc = 256), the ceiling of the blocked driver.
func BenchmarkMicro(b *testing.B) {
	const kc = 256
	for _, c := range kernelChoices() {
		b.Run(c.name+"/f64", func(b *testing.B) {
			ks := c.k64
			a, bp, cc := make([]float64, ks.mr*kc), make([]float64, ks.nr*kc), make([]float64, ks.mr*ks.nr)
			for i := 0; i < b.N; i++ {
				ks.micro(kc, a, bp, cc, ks.nr, 1, 1)
			}
			b.ReportMetric(2*float64(ks.mr*ks.nr*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(c.name+"/f32", func(b *testing.B) {
			ks := c.k32
			a, bp, cc := make([]float32, ks.mr*kc), make([]float32, ks.nr*kc), make([]float32, ks.mr*ks.nr)
			for i := 0; i < b.N; i++ {
				ks.micro(kc, a, bp, cc, ks.nr, 1, 1)
			}
			b.ReportMetric(2*float64(ks.mr*ks.nr*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
