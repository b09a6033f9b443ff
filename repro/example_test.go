package repro_test

import (
	"context"
	"fmt"

	"github.com/gradus-ml/gradus/repro"
)

// Run one experiment at smoke scale and look at its checks.
func ExampleExperiment_Run() {
	e, ok := repro.Lookup("piggyback")
	if !ok {
		panic("no such experiment")
	}
	r, err := e.Run(context.Background(), repro.Config{Scale: repro.Smoke, Seed: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Title)
	fmt.Println(len(r.Checks), "checks, all pass:", r.Passed())
	// Output:
	// Piggyback derivatives of nonsmooth iterative algorithms
	// 4 checks, all pass: true
}

func ExampleExperiments() {
	for _, e := range repro.Experiments() {
		fmt.Println(e.ID)
	}
	// Output:
	// innaprop
	// sgd-derivatives
	// inexact-subgradient
	// one-step
	// monotone-inclusion
	// sinkhorn
	// ad-complexity
	// piggyback
	// ode-flows
	// relu-prime
}
