package optim

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gradus-ml/gradus/tensor"
)

// goldenRun is one setting of testdata/innaprop_golden.txt.
type goldenRun struct {
	name   string
	params map[string]float64 // a, b, sigma, eps, wd from the heading
	lrs    []float64          // per step
	theta  [][]float64
	psi    [][]float64
	v      [][]float64
}

type goldenFile struct {
	A       [][]float64
	b, c, w []float64
	runs    []*goldenRun
}

var kvRe = regexp.MustCompile(`(\w+)=([-+0-9.e]+)`)

func parseVec(t *testing.T, s string) []float64 {
	t.Helper()
	var v []float64
	if err := json.Unmarshal([]byte(strings.TrimSpace(s)), &v); err != nil {
		t.Fatalf("parsing %q: %v", s, err)
	}
	return v
}

func readGolden(t *testing.T) *goldenFile {
	t.Helper()
	f, err := os.Open("testdata/innaprop_golden.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gf := &goldenFile{}
	var run *goldenRun
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		trim := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "# A = "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "# A = ")), &gf.A); err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(line, "# b = "):
			rest := strings.TrimPrefix(line, "# b = ")
			bs, cs, _ := strings.Cut(rest, "c = ")
			gf.b, gf.c = parseVec(t, bs), parseVec(t, cs)
		case strings.HasPrefix(line, "# w0 = "):
			ws, _, _ := strings.Cut(strings.TrimPrefix(line, "# w0 = "), "grad")
			gf.w = parseVec(t, ws)
		case strings.HasPrefix(line, "## "):
			name, _, _ := strings.Cut(strings.TrimPrefix(line, "## "), " ")
			run = &goldenRun{name: name, params: map[string]float64{}}
			for _, m := range kvRe.FindAllStringSubmatch(line, -1) {
				x, err := strconv.ParseFloat(m[2], 64)
				if err != nil {
					t.Fatalf("heading %q: %v", line, err)
				}
				run.params[m[1]] = x
			}
			gf.runs = append(gf.runs, run)
		case strings.HasPrefix(line, "step "):
			m := kvRe.FindStringSubmatch(line)
			x, err := strconv.ParseFloat(m[2], 64)
			if err != nil || m[1] != "lr" {
				t.Fatalf("step line %q", line)
			}
			run.lrs = append(run.lrs, x)
		case strings.HasPrefix(trim, "theta = "):
			run.theta = append(run.theta, parseVec(t, strings.TrimPrefix(trim, "theta = ")))
		case strings.HasPrefix(trim, "psi   = "):
			run.psi = append(run.psi, parseVec(t, strings.TrimPrefix(trim, "psi   = ")))
		case strings.HasPrefix(trim, "v     = "):
			run.v = append(run.v, parseVec(t, strings.TrimPrefix(trim, "v     = ")))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(gf.A) != 4 || len(gf.w) != 4 || len(gf.runs) != 4 {
		t.Fatalf("golden file: parsed A %v w0 %v and %d runs", gf.A, gf.w, len(gf.runs))
	}
	return gf
}

// grad returns ∇f(w) = Aw + b + c∘w³ for the golden problem.
func (gf *goldenFile) grad(w []float64) []float64 {
	g := make([]float64, len(w))
	for i := range w {
		s := 0.0
		for j := range w {
			s += float64(gf.A[i][j] * w[j]) // no FMA, as the Python script
		}
		g[i] = s + gf.b[i] + float64(gf.c[i]*w[i]*w[i]*w[i])
	}
	return g
}

func TestINNApropGolden(t *testing.T) {
	gf := readGolden(t)
	worst, values, identical := 0.0, 0, 0
	for _, run := range gf.runs {
		t.Run(run.name, func(t *testing.T) {
			if len(run.lrs) != 5 || len(run.theta) != 5 || len(run.psi) != 5 {
				t.Fatalf("parsed %d steps", len(run.lrs))
			}
			hp := run.params
			var opt Optimizer
			var bufs func() []*tensor.Tensor
			var err error
			if run.name == "I1" {
				var o *INNA
				o, err = NewINNA(INNAConfig{LR: run.lrs[0], Alpha: hp["a"], Beta: hp["b"], WeightDecay: hp["wd"], State: State64})
				opt, bufs = o, func() []*tensor.Tensor { return []*tensor.Tensor{o.bufs[0][0]} }
			} else {
				wd := hp["wd"]
				if wd == 0 {
					wd = Zero
				}
				var o *INNAprop
				o, err = NewINNAprop(INNApropConfig{LR: run.lrs[0], Alpha: hp["a"], Beta: hp["b"], Sigma: hp["sigma"], Eps: hp["eps"], WeightDecay: wd, State: State64})
				opt, bufs = o, func() []*tensor.Tensor { return []*tensor.Tensor{o.bufs[0][1], o.bufs[0][0]} }
			}
			if err != nil {
				t.Fatal(err)
			}
			w := tensor.FromFloat64s(tensor.Float64, gf.w)
			for s, lr := range run.lrs {
				g := tensor.FromFloat64s(tensor.Float64, gf.grad(w.Data64()))
				opt.SetLR(lr)
				if err := opt.Step([]*tensor.Tensor{w}, []*tensor.Tensor{g}); err != nil {
					t.Fatal(err)
				}
				want := [][]float64{run.theta[s], run.psi[s]}
				if run.v != nil {
					want = append(want, run.v[s])
				}
				got := append([]*tensor.Tensor{w}, bufs()...)
				for k, wk := range want {
					for j, x := range got[k].Data64() {
						d := math.Abs(x - wk[j])
						values++
						if x == wk[j] {
							identical++
						}
						worst = max(worst, d)
						if d > 1e-12 {
							t.Errorf("step %d %s[%d] = %.17g, golden %.17g", s+1, []string{"theta", "psi", "v"}[k], j, x, wk[j])
						}
					}
				}
			}
		})
	}
	t.Logf("max |Go − golden| over θ, ψ, v: %.3g; %d of %d values bitwise identical", worst, identical, values)
}
