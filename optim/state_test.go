package optim

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/gradus-ml/gradus/tensor"
)

// trainer runs a small two-tensor problem so that state save and load can
// be compared with an uninterrupted run.
type trainer struct {
	q      quad
	params []*tensor.Tensor
	grads  []*tensor.Tensor
}

func newTrainer(d tensor.DType) *trainer {
	rng := tensor.NewRNG(21)
	q := newQuad(rng, 12)
	th := randVec(rng, 12)
	return &trainer{
		q:      q,
		params: []*tensor.Tensor{tensor.FromFloat64s(d, th[:8], 2, 4), tensor.FromFloat64s(d, th[8:])},
		grads:  []*tensor.Tensor{tensor.New(d, 2, 4), tensor.New(d, 4)},
	}
}

func (tr *trainer) steps(t *testing.T, o Optimizer, s Schedule, n int) {
	t.Helper()
	for range n {
		for j := range 8 {
			tr.grads[0].SetFlat(j, tr.q.h[j]*tr.params[0].AtFlat(j)+tr.q.b[j])
		}
		for j := range 4 {
			tr.grads[1].SetFlat(j, tr.q.h[8+j]*tr.params[1].AtFlat(j)+tr.q.b[8+j])
		}
		o.SetLR(s.LR(o.Steps()))
		if err := o.Step(tr.params, tr.grads); err != nil {
			t.Fatal(err)
		}
	}
}

func sameBits(a, b *tensor.Tensor) bool {
	if a.DType() != b.DType() || !tensor.SameShape(a, b) {
		return false
	}
	for i := range a.Size() {
		if math.Float64bits(a.AtFlat(i)) != math.Float64bits(b.AtFlat(i)) {
			return false
		}
	}
	return true
}

func TestSaveLoadContinueIsBitIdentical(t *testing.T) {
	sched := must(WarmupCosine(0.02, 0.002, 3, 20))
	for _, prec := range []Precision{State32, State64} {
		for name, mk := range makers(prec) {
			for _, d := range []tensor.DType{tensor.Float64, tensor.Float32, tensor.Float16} {
				// Uninterrupted run.
				ref := newTrainer(d)
				ref.steps(t, mk(), sched, 12)

				// Interrupted: 5 steps, save to a safetensors file beside
				// the weights, load into fresh objects, 7 more steps.
				a := newTrainer(d)
				o1 := mk()
				a.steps(t, o1, sched, 5)
				ts, meta := o1.State().Export("optim.")
				ts["w.0"], ts["w.1"] = a.params[0], a.params[1]
				var buf bytes.Buffer
				if err := tensor.WriteSafetensors(&buf, ts, meta); err != nil {
					t.Fatal(err)
				}
				rts, rmeta, err := tensor.ReadSafetensors(&buf)
				if err != nil {
					t.Fatal(err)
				}
				st, err := Import("optim.", rts, rmeta)
				if err != nil {
					t.Fatal(err)
				}
				b := newTrainer(d)
				b.params[0].CopyFrom(rts["w.0"])
				b.params[1].CopyFrom(rts["w.1"])
				o2 := mk()
				if err := o2.Load(st); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if o2.Steps() != 5 {
					t.Fatalf("%s: loaded step count %d", name, o2.Steps())
				}
				b.steps(t, o2, sched, 7)
				for i := range ref.params {
					if !sameBits(ref.params[i], b.params[i]) {
						t.Errorf("%s %v %v: parameter %d differs after save/load: %v vs %v", name, prec, d, i, b.params[i].Float64s(), ref.params[i].Float64s())
					}
				}
			}
		}
	}
}

func TestSaveAtStepZero(t *testing.T) {
	// A state saved before the first step carries no buffers; ψ is then
	// initialised at the first step after loading.
	for name, mk := range makers(State64) {
		ref := newTrainer(tensor.Float64)
		ref.steps(t, mk(), must(Constant(0.01)), 3)
		st := mk().State()
		if len(st.Tensors) != 0 {
			t.Fatalf("%s: state at step 0 has %d tensors", name, len(st.Tensors))
		}
		o := mk()
		if err := o.Load(st); err != nil {
			t.Fatal(err)
		}
		b := newTrainer(tensor.Float64)
		b.steps(t, o, must(Constant(0.01)), 3)
		if !sameBits(ref.params[0], b.params[0]) {
			t.Errorf("%s: differs", name)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	mk := func() *INNAprop { return must(NewINNAprop(INNApropConfig{LR: 0.01})) }
	tr := newTrainer(tensor.Float32)
	o := mk()
	tr.steps(t, o, must(Constant(0.01)), 2)
	good := o.State()
	clone := func() *State {
		s := *good
		s.Tensors = map[string]*tensor.Tensor{}
		for k, v := range good.Tensors {
			s.Tensors[k] = v
		}
		return &s
	}
	cases := []struct {
		name string
		edit func(s *State)
		want string
	}{
		{"kind", func(s *State) { s.Optimizer = "AdamW" }, `saved by "AdamW"`},
		{"step", func(s *State) { s.Step = -1 }, "step count -1"},
		{"config", func(s *State) { s.Config = json.RawMessage(`{"lr":0.01,"bogus":1}`) }, "bogus"},
		{"bad lr", func(s *State) {
			s.Config = bytes.Replace(s.Config, []byte(`"lr":0.01`), []byte(`"lr":2`), 1)
		}, "LR = 2"},
		{"missing", func(s *State) { delete(s.Tensors, "psi.1") }, `"psi.1" is missing`},
		{"unknown", func(s *State) { s.Tensors["exp_avg.0"] = s.Tensors["psi.0"] }, `unknown state tensor "exp_avg.0"`},
		{"name", func(s *State) { s.Tensors["psi"] = s.Tensors["psi.0"] }, `"psi" is not named`},
		{"dtype", func(s *State) { s.Tensors["psi.0"] = s.Tensors["psi.0"].AsType(tensor.Float64) }, "is float64, the config says float32"},
		{"shape", func(s *State) { s.Tensors["psi.1"] = tensor.New(tensor.Float32, 5) }, `"psi.1" has shape [5], "exp_avg_sq.1" has [4]`},
		{"empty", func(s *State) { s.Tensors = nil }, "has no buffers"},
	}
	for _, tc := range cases {
		s := clone()
		tc.edit(s)
		if err := mk().Load(s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
	// Shapes are checked against the parameters at the next step.
	s := clone()
	s.Tensors["psi.1"], s.Tensors["exp_avg_sq.1"] = tensor.New(tensor.Float32, 3), tensor.New(tensor.Float32, 3)
	o2 := mk()
	if err := o2.Load(s); err != nil {
		t.Fatal(err)
	}
	err := o2.Step(tr.params, tr.grads)
	if err == nil || !strings.Contains(err.Error(), "parameter 1 has shape [4], the loaded state has [3]") {
		t.Errorf("shape vs parameters: %v", err)
	}
	if _, err := Import("opt.", nil, map[string]string{}); err == nil || !strings.Contains(err.Error(), "gradus.optim:opt.") {
		t.Errorf("Import without metadata: %v", err)
	}
}

func TestStateIsACopy(t *testing.T) {
	tr := newTrainer(tensor.Float64)
	o := must(NewAdamW(AdamWConfig{LR: 0.01, State: State64}))
	tr.steps(t, o, must(Constant(0.01)), 2)
	s := o.State()
	before := s.Tensors["exp_avg.0"].Float64s()
	tr.steps(t, o, must(Constant(0.01)), 1)
	if got := s.Tensors["exp_avg.0"].Float64s(); got[0] != before[0] {
		t.Error("State shares buffers with the optimizer")
	}
	var cfg AdamWConfig
	if err := json.Unmarshal(s.Config, &cfg); err != nil || cfg.WeightDecay != 0.01 || cfg.State != State64 {
		t.Errorf("config JSON %s: %+v %v", s.Config, cfg, err)
	}
}
