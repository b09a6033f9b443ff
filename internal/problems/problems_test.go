package problems

import (
	"math"
	"reflect"
	"testing"

	"github.com/gradus-ml/gradus/tensor"
)

// Same seed, same data; and the shapes and invariants the callers rely on.
func TestDeterministic(t *testing.T) {
	l1, l2 := NewLogistic(tensor.NewRNG(4), 10, 3), NewLogistic(tensor.NewRNG(4), 10, 3)
	if !reflect.DeepEqual(l1, l2) {
		t.Error("NewLogistic is not deterministic")
	}
	if l1.N != 20 || l1.D != 4 || len(l1.X) != 80 || l1.X[3] != 1 || l1.W[0] != 1.0/20 {
		t.Errorf("NewLogistic: unexpected shape or values")
	}
	k1, err1 := NewKink(tensor.NewRNG(6), 12, 8, 0.25)
	k2, err2 := NewKink(tensor.NewRNG(6), 12, 8, 0.25)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !reflect.DeepEqual(k1, k2) {
		t.Error("NewKink is not deterministic")
	}
	if k1.X[k1.Coord] != 0 || k1.Lambda <= 0 || math.Abs(k1.Theta[0]-k1.R[0]-dot(k1.A.RawRowView(0), k1.X)) != 0 {
		t.Errorf("NewKink: the kink coordinate must be zero at x* and θ = Ax* + r")
	}
	s1, s2 := NewLeastSquares(tensor.NewRNG(2), 30, 4, 1, true), NewLeastSquares(tensor.NewRNG(2), 30, 4, 1, true)
	if !reflect.DeepEqual(s1, s2) {
		t.Error("NewLeastSquares is not deterministic")
	}
	if r, c := s1.A.Dims(); r != 30 || c != 4 || len(s1.Z) != 30 || len(s1.Base) != 30 || s1.MaxA2 <= 0 {
		t.Error("NewLeastSquares: unexpected shape")
	}
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range b {
		s += a[i] * b[i]
	}
	return s
}
