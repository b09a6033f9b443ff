package repro

import (
	"context"
	"errors"
)

var errTodo = errors.New("not implemented yet")

func innapropExperiment() Experiment {
	return Experiment{ID: "innaprop", Title: "innaprop", Setup: func(Scale) string { return "" }, run: func(context.Context, *Config, *Result) error { return errTodo }}
}

func reluPrimeExperiment() Experiment {
	return Experiment{ID: "relu-prime", Title: "relu-prime", Setup: func(Scale) string { return "" }, run: func(context.Context, *Config, *Result) error { return errTodo }}
}
