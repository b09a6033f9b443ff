package tensor_test

import (
	"bytes"
	"fmt"

	"github.com/gradus-ml/gradus/tensor"
)

// Creation, NumPy broadcasting and a reduction.
func Example() {
	col := tensor.FromFloat64s(tensor.Float32, []float64{0, 10, 20}, 3, 1)
	row := tensor.Arange(tensor.Float32, 0, 4, 1) // shape [4]
	grid := tensor.Add(col, row)                  // [3,1] + [4] → [3,4]
	fmt.Println(grid)
	fmt.Println(tensor.Sum(grid, []int{1}, false))
	// Output:
	// tensor([[ 0,  1,  2,  3],
	//         [10, 11, 12, 13],
	//         [20, 21, 22, 23]], dtype=float32)
	// tensor([ 6, 46, 86], dtype=float32)
}

// A matrix product with the second operand transposed, and a batched
// product whose batch dimension broadcasts.
func ExampleMatMul() {
	a := tensor.FromFloat64s(tensor.Float64, []float64{1, 2, 3, 4, 5, 6}, 2, 3)
	fmt.Println(tensor.MatMul(a, a, false, true)) // a·aᵀ

	batch := tensor.Stack(0, tensor.Eye(tensor.Float64, 2), tensor.Full(tensor.Float64, 0.5, 2, 2))
	fmt.Println(tensor.MatMul(batch, tensor.Slice(a, 1, 0, 2), false, false)) // [2,2,2]·[2,2]
	// Output:
	// tensor([[14, 32],
	//         [32, 77]], dtype=float64)
	// tensor([[[1. , 2. ],
	//          [4. , 5. ]],
	//
	//         [[2.5, 3.5],
	//          [2.5, 3.5]]], dtype=float64)
}

// Emulated float16: every result is rounded to the format.
func ExampleFloat16() {
	x := tensor.FromFloat64s(tensor.Float16, []float64{0.1, 1000, 65504})
	fmt.Println(x.Float64s())
	fmt.Println(tensor.Scale(x, 2)) // 131008 overflows float16
	// Output:
	// [0.0999755859375 1000 65504]
	// tensor([   0.2, 2000. ,    inf], dtype=float16)
}

// Random tensors come from an explicit seeded generator.
func ExampleRNG() {
	g := tensor.NewRNG(1)
	x := g.Uniform(tensor.Float64, 0, 1, 1000)
	fmt.Println(x.Shape(), tensor.Max(x, nil, false).Item() < 1)
	// Output:
	// [1000] true
}

// Writing and reading safetensors (files: SaveSafetensorsFile and
// LoadSafetensorsFile).
func ExampleWriteSafetensors() {
	var buf bytes.Buffer
	w := tensor.Eye(tensor.BFloat16, 2)
	if err := tensor.WriteSafetensors(&buf, map[string]*tensor.Tensor{"w": w}, map[string]string{"format": "pt"}); err != nil {
		panic(err)
	}
	named, meta, err := tensor.ReadSafetensors(&buf)
	fmt.Println(named["w"], meta, err)
	// Output:
	// tensor([[1, 0],
	//         [0, 1]], dtype=bfloat16) map[format:pt] <nil>
}
