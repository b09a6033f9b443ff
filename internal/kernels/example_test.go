package kernels_test

import (
	"fmt"

	"github.com/gradus-ml/gradus/internal/kernels"
)

// C = A·Bᵀ for a 2×3 A and a B stored as 2×3 (so op(B) is 3×2).
func ExampleGemm64() {
	a := []float64{
		1, 2, 3,
		4, 5, 6,
	}
	b := []float64{
		1, 0, 1,
		0, 1, 0,
	}
	c := make([]float64, 2*2)
	kernels.Gemm64(false, true, 2, 2, 3, 1, a, 3, b, 3, 0, c, 2)
	fmt.Println(c)
	// Output: [4 2 10 5]
}

// A 3×3 image, one channel, 2×2 kernel, stride 1, no padding: four output
// pixels, each column of the result is one 2×2 patch.
func ExampleIm2Col64() {
	img := []float64{
		1, 2, 3,
		4, 5, 6,
		7, 8, 9,
	}
	oh, ow := kernels.ConvOutSize(3, 2, 1, 0, 1), kernels.ConvOutSize(3, 2, 1, 0, 1)
	cols := make([]float64, 1*2*2*oh*ow)
	kernels.Im2Col64(cols, img, 1, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1)
	for r := 0; r < 4; r++ {
		fmt.Println(cols[r*oh*ow : (r+1)*oh*ow])
	}
	// Output:
	// [1 2 4 5]
	// [2 3 5 6]
	// [4 5 7 8]
	// [5 6 8 9]
}
