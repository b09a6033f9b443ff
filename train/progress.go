package train

import "time"

// Event says what a Progress report is about.
type Event uint8

// Events, in the order a run produces them.
const (
	EventStart      Event = iota // the run is set up (after loading data and any checkpoint)
	EventStep                    // a training step finished
	EventEval                    // an evaluation finished (Progress.Eval)
	EventCheckpoint              // a checkpoint was written (Progress.Path)
	EventDone                    // the run finished
)

func (e Event) String() string {
	return [...]string{"start", "step", "eval", "checkpoint", "done"}[e]
}

// Progress is a report on a running Run, handed to Options.Progress. The
// callback runs on the training goroutine: it should return quickly, and it
// may cancel the run's context to stop it (the run then saves a checkpoint
// at the current position and returns).
type Progress struct {
	Event Event
	// Epoch is the current epoch (from 1) of Epochs; for step-counted runs
	// (gpt) Epochs is 0 and Epoch counts passes over the training text.
	Epoch, Epochs int
	// Step is the number of steps done, of Steps in the run.
	Step, Steps int
	// EpochStep is the number of steps done in the current epoch, of
	// EpochSteps (0 for step-counted runs).
	EpochStep, EpochSteps int
	// Loss is the training loss of the last step; MeanLoss the mean over
	// the current epoch (step-counted runs: since the last evaluation).
	Loss, MeanLoss float64
	// LR is the learning rate of the last step.
	LR float64
	// StepsPerSec is the training speed in this session (evaluations and
	// checkpoints excluded); ETA the time the remaining steps would take at
	// that speed.
	StepsPerSec float64
	ETA         time.Duration
	// Elapsed is the wall time of the run, earlier sessions of a resumed
	// run included.
	Elapsed time.Duration
	// Resumed is set when the run continues from a checkpoint at step
	// ResumedFrom.
	Resumed     bool
	ResumedFrom int
	// Eval holds the evaluation of an EventEval.
	Eval *EvalRow
	// Path is the file written by an EventCheckpoint.
	Path string
}
