package ot

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/gradus-ml/gradus/ad"
)

// BatchResult holds the results of a batch of equal-size problems, stacked
// along a leading batch axis.
type BatchResult struct {
	Plan          *ad.Var // B×n×m
	F, G          *ad.Var // B×n, B×m
	Cost          *ad.Var // B
	TransportCost *ad.Var // B
	Infos         []*Info
}

// SinkhornBatch solves B problems of equal size at once: C is B×n×m, a is
// B×n and b is B×m (nil for uniform weights). The value-level solves run
// in parallel, one problem per goroutine; the results are differentiable
// as for Sinkhorn. The first problem that fails stops the batch with its
// error (prefixed with its index); Infos are returned in any case.
func SinkhornBatch(C, a, b *ad.Var, o Options) (*BatchResult, error) {
	if C == nil || len(C.Shape()) != 3 {
		return nil, fmt.Errorf("ot: SinkhornBatch: cost must be B×n×m, got %v", shapeOf(C))
	}
	B, n, m := C.Shape()[0], C.Shape()[1], C.Shape()[2]
	if a != nil && (len(a.Shape()) != 2 || a.Shape()[0] != B || a.Shape()[1] != n) {
		return nil, fmt.Errorf("ot: SinkhornBatch: a is %v, want [%d %d]", a.Shape(), B, n)
	}
	if b != nil && (len(b.Shape()) != 2 || b.Shape()[0] != B || b.Shape()[1] != m) {
		return nil, fmt.Errorf("ot: SinkhornBatch: b is %v, want [%d %d]", b.Shape(), B, m)
	}
	if B == 0 {
		return nil, fmt.Errorf("ot: SinkhornBatch: empty batch")
	}
	Cs := make([]*ad.Var, B)
	as := make([]*ad.Var, B)
	bs := make([]*ad.Var, B)
	prs := make([]*problem, B)
	for i := 0; i < B; i++ {
		Cs[i] = ad.Reshape(ad.SliceAxis(C, 0, i, i+1), n, m)
		if a != nil {
			as[i] = ad.Reshape(ad.SliceAxis(a, 0, i, i+1), n)
		}
		if b != nil {
			bs[i] = ad.Reshape(ad.SliceAxis(b, 0, i, i+1), m)
		}
		var err error
		if prs[i], as[i], bs[i], err = newProblem(Cs[i], as[i], bs[i], &o); err != nil {
			return nil, fmt.Errorf("ot: SinkhornBatch: problem %d: %w", i, err)
		}
	}
	sols := make([]*solution, B)
	inner := o
	inner.Workers = 1
	if B == 1 {
		inner.Workers = o.Workers
	}
	par := min(B, runtime.GOMAXPROCS(0))
	if o.Workers > 0 {
		par = min(B, o.Workers)
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < par; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				sols[i] = solveValues(prs[i], &inner)
			}
		}()
	}
	for i := 0; i < B; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	out := &BatchResult{Infos: make([]*Info, B)}
	var plans, fs, gs, costs, tcs []*ad.Var
	for i := 0; i < B; i++ {
		res, err := finish(prs[i], sols[i], Cs[i], as[i], bs[i], &o)
		if res != nil {
			out.Infos[i] = res.Info
		}
		if err != nil {
			return out, fmt.Errorf("ot: SinkhornBatch: problem %d: %w", i, err)
		}
		plans = append(plans, res.Plan)
		fs = append(fs, res.F)
		gs = append(gs, res.G)
		costs = append(costs, res.Cost)
		tcs = append(tcs, res.TransportCost)
	}
	out.Plan = ad.Stack(0, plans...)
	out.F = ad.Stack(0, fs...)
	out.G = ad.Stack(0, gs...)
	out.Cost = ad.Stack(0, costs...)
	out.TransportCost = ad.Stack(0, tcs...)
	return out, nil
}

func shapeOf(v *ad.Var) []int {
	if v == nil {
		return nil
	}
	return v.Shape()
}
