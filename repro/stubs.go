package repro

import (
	"context"
	"errors"
)

var errTodo = errors.New("not implemented yet")

func reluPrimeExperiment() Experiment {
	return Experiment{ID: "relu-prime", Title: "relu-prime", Setup: func(Scale) string { return "" }, run: func(context.Context, *Config, *Result) error { return errTodo }}
}
