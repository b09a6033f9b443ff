package tensor

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		name string
		t    *Tensor
		want string
	}{
		{"2x2 integers", FromFloat64s(Float32, []float64{1, 2, 3, 4}, 2, 2),
			"tensor([[1, 2],\n        [3, 4]], dtype=float32)"},
		{"decimals align on the point", FromFloat64s(Float64, []float64{0.5, -1.25, 3}),
			"tensor([ 0.5 , -1.25,  3.  ], dtype=float64)"},
		{"scalar", Scalar(Float64, 3.5), "tensor(3.5, dtype=float64)"},
		{"integer scalar", Scalar(BFloat16, -2), "tensor(-2, dtype=bfloat16)"},
		{"empty", New(Float32, 0, 3), "tensor([], shape=[0 3], dtype=float32)"},
		{"empty 1-D", New(Float16, 0), "tensor([], shape=[0], dtype=float16)"},
		{"3-D", Arange(Float64, 0, 8, 1).Reshape(2, 2, 2),
			"tensor([[[0, 1],\n         [2, 3]],\n\n        [[4, 5],\n         [6, 7]]], dtype=float64)"},
		{"float16 shortest digits", FromFloat64s(Float16, []float64{0.1, 1}),
			"tensor([0.1, 1. ], dtype=float16)"},
		{"float32 shortest digits", FromFloat64s(Float32, []float64{0.1, 0.2}),
			"tensor([0.1, 0.2], dtype=float32)"},
		{"nan and inf", FromFloat64s(Float64, []float64{1.5, nan, -inf}),
			"tensor([ 1.5,  nan, -inf], dtype=float64)"},
		{"scientific", FromFloat64s(Float64, []float64{1e10, 2.5e-5, -1}),
			"tensor([ 1.0e+10,  2.5e-05, -1.0e+00], dtype=float64)"},
		{"large integers", FromFloat64s(Float64, []float64{1e9, -2}),
			"tensor([ 1.e+09, -2.e+00], dtype=float64)"},
		{"integers below 1e8", FromFloat64s(Float64, []float64{12345678, -2}),
			"tensor([12345678,       -2], dtype=float64)"},
		{"truncated 1-D", Arange(Float64, 0, 2000, 1),
			"tensor([   0,    1,    2, ..., 1997, 1998, 1999], dtype=float64)"},
		{"truncated 2-D", Arange(Float32, 0, 1100, 1).Reshape(100, 11),
			"tensor([[   0,    1,    2, ...,    8,    9,   10],\n" +
				"        [  11,   12,   13, ...,   19,   20,   21],\n" +
				"        [  22,   23,   24, ...,   30,   31,   32],\n" +
				"        ...,\n" +
				"        [1067, 1068, 1069, ..., 1075, 1076, 1077],\n" +
				"        [1078, 1079, 1080, ..., 1086, 1087, 1088],\n" +
				"        [1089, 1090, 1091, ..., 1097, 1098, 1099]], dtype=float32)"},
		{"wrapped line", Arange(Float64, 0, 30, 1),
			"tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16,\n" +
				"        17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29], dtype=float64)"},
		{"nil", nil, "tensor(nil)"},
	}
	for _, c := range cases {
		if got := c.t.String(); got != c.want {
			t.Errorf("%s:\ngot\n%s\nwant\n%s", c.name, got, c.want)
		}
	}
	x := Eye(Float32, 2)
	if got := fmt.Sprintf("%v", x); got != x.String() {
		t.Errorf("%%v gives %q, String gives %q", got, x.String())
	}
	if got := fmt.Sprint(x); got != x.String() {
		t.Errorf("Sprint gives %q", got)
	}
	// a large 4-D tensor prints at most 6 items per axis, and every line fits
	big := Arange(Float32, 0, 10*10*10*10, 1).Reshape(10, 10, 10, 10).String()
	if n := strings.Count(big, "\n"); n > 7*7*8 {
		t.Errorf("truncated 4-D tensor has %d lines", n)
	}
	for _, line := range strings.Split(big, "\n") {
		if len(line) > 75 {
			t.Errorf("line longer than 75 characters: %q", line)
		}
	}
}
