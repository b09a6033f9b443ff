package ot

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/iterdiff"
	"github.com/gradus-ml/gradus/tensor"
)

type potProblem struct {
	Name          string      `json:"name"`
	Kind          string      `json:"kind"`
	M             [][]float64 `json:"M"`
	A             []float64   `json:"a"`
	B             []float64   `json:"b"`
	Reg           float64     `json:"reg"`
	RegM          float64     `json:"reg_m"`
	Plan          [][]float64 `json:"plan"`
	TransportCost float64     `json:"transport_cost"`
}

func loadPOT(t *testing.T) []potProblem {
	t.Helper()
	raw, err := os.ReadFile("testdata/pot_reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Problems []potProblem `json:"problems"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	return ref.Problems
}

func matrix(rows [][]float64) *tensor.Tensor {
	n, m := len(rows), len(rows[0])
	d := make([]float64, 0, n*m)
	for _, r := range rows {
		d = append(d, r...)
	}
	return tensor.Wrap64(d, n, m)
}

func vec(v []float64) *ad.Var { return ad.Const(tensor.Wrap64(append([]float64(nil), v...), len(v))) }

// TestAgainstPOT compares plans and ⟨P, M⟩ with POT (testdata/
// make_pot_reference.py) to 1e-10, for both methods.
func TestAgainstPOT(t *testing.T) {
	for _, p := range loadPOT(t) {
		for _, method := range []Method{LogDomain, Kernel} {
			M := matrix(p.M)
			o := Options{Eps: p.Reg, Method: method, Tol: 1e-14, MaxIter: 100000, Mode: iterdiff.Detach{}}
			C := M
			if p.Kind == "unbalanced" {
				// POT regularizes with the entropy Σ P log P − P; ours with
				// KL(P | a⊗b) = H(P) − ⟨P, log a ⊕ log b⟩ + const, so ours on
				// C = M + ε(log a_i + log b_j) is POT's problem on M.
				o.TauA, o.TauB = p.RegM, p.RegM
				C = M.Clone()
				for i := range p.A {
					for j := range p.B {
						C.Set(C.At(i, j)+p.Reg*(math.Log(p.A[i])+math.Log(p.B[j])), i, j)
					}
				}
			}
			res, err := Sinkhorn(ad.Const(C), vec(p.A), vec(p.B), o)
			if err != nil {
				t.Fatalf("%s %v: %v", p.Name, method, err)
			}
			if !res.Info.Converged {
				t.Errorf("%s %v: not converged: %+v", p.Name, method, res.Info)
			}
			want := matrix(p.Plan)
			diff := 0.0
			for i := 0; i < want.Size(); i++ {
				diff = math.Max(diff, math.Abs(res.Plan.Value().AtFlat(i)-want.AtFlat(i)))
			}
			tc := ad.SumAll(ad.Mul(res.Plan, ad.Const(M))).Item()
			t.Logf("%-20s %-10v iters %5d  max|P−P_POT| %.2e  |<P,M>−POT| %.2e", p.Name, method, res.Info.Iterations, diff, math.Abs(tc-p.TransportCost))
			if diff > 1e-10 || math.Abs(tc-p.TransportCost) > 1e-10 {
				t.Errorf("%s %v: plan differs by %.3g, cost by %.3g", p.Name, method, diff, math.Abs(tc-p.TransportCost))
			}
		}
	}
}
