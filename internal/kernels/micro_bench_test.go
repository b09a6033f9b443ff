package kernels

import "testing"

// BenchmarkMicro measures the micro-kernels alone on L1-resident packed
// panels (kc = 256), the ceiling of the blocked driver.
func BenchmarkMicro(b *testing.B) {
	const kc = 256
	b.Run("f64", func(b *testing.B) {
		ks := kernels64()
		a, bp, c := make([]float64, ks.mr*kc), make([]float64, ks.nr*kc), make([]float64, ks.mr*ks.nr)
		for i := 0; i < b.N; i++ {
			ks.micro(kc, a, bp, c, ks.nr, 1, 1)
		}
		b.ReportMetric(2*float64(ks.mr*ks.nr*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	b.Run("f32", func(b *testing.B) {
		ks := kernels32()
		a, bp, c := make([]float32, ks.mr*kc), make([]float32, ks.nr*kc), make([]float32, ks.mr*ks.nr)
		for i := 0; i < b.N; i++ {
			ks.micro(kc, a, bp, c, ks.nr, 1, 1)
		}
		b.ReportMetric(2*float64(ks.mr*ks.nr*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}
