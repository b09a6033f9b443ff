package train

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/gradus-ml/gradus/internal/atomicfile"

	"github.com/gradus-ml/gradus/report"
)

// File names written in the output directory of a run.
const (
	MetricsFile    = "metrics.csv"
	EvalFile       = "eval.csv"
	SummaryFile    = "summary.json"
	CurvesFile     = "curves.png"
	CheckpointFile = "checkpoint.safetensors"
	ModelFile      = "model.safetensors"
)

// MetricRow is one line of metrics.csv: the mean training loss of the
// steps since the previous row, the learning rate of the last of them and
// the wall time of the run when it was written.
type MetricRow struct {
	Epoch     int     `json:"epoch"`
	Step      int     `json:"step"`
	TrainLoss float64 `json:"train_loss"`
	LR        float64 `json:"lr"`
	Seconds   float64 `json:"seconds"`
}

// EvalRow is one evaluation (a line of eval.csv): the mean loss on the test
// set (for text: the validation loss in nats per character) and, for
// classifiers, the accuracy.
type EvalRow struct {
	Epoch    int     `json:"epoch"`
	Step     int     `json:"step"`
	Loss     float64 `json:"loss"`
	Accuracy float64 `json:"accuracy,omitempty"` // 0 for text
	Seconds  float64 `json:"seconds"`
}

const (
	metricsHeader = "epoch,step,train_loss,lr,seconds\n"
	evalHeader    = "epoch,step,test_loss,test_accuracy,seconds\n"
)

func ftoa(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

func (r MetricRow) csv() string {
	return fmt.Sprintf("%d,%d,%s,%s,%.3f\n", r.Epoch, r.Step, ftoa(r.TrainLoss), ftoa(r.LR), r.Seconds)
}

func (r EvalRow) csv(text bool) string {
	acc := ftoa(r.Accuracy)
	if text {
		acc = ""
	}
	return fmt.Sprintf("%d,%d,%s,%s,%.3f\n", r.Epoch, r.Step, ftoa(r.Loss), acc, r.Seconds)
}

// csvLog appends rows to a CSV file, flushing after each row so that the
// file can be followed during a run.
type csvLog struct {
	f *os.File
	w *bufio.Writer
}

// openCSV rewrites path atomically with header and the rows already
// recorded (those of a resumed run), then opens it for appending.
func openCSV(path, header string, rows []string) (*csvLog, error) {
	if err := writeFileAtomic(path, func(w *bufio.Writer) error {
		if _, err := w.WriteString(header); err != nil {
			return err
		}
		for _, r := range rows {
			if _, err := w.WriteString(r); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	return &csvLog{f: f, w: bufio.NewWriter(f)}, nil
}

func (l *csvLog) add(row string) error {
	if l == nil {
		return nil
	}
	if _, err := l.w.WriteString(row); err != nil {
		return fmt.Errorf("train: writing %s: %w", l.f.Name(), err)
	}
	if err := l.w.Flush(); err != nil {
		return fmt.Errorf("train: writing %s: %w", l.f.Name(), err)
	}
	return nil
}

func (l *csvLog) close() error {
	if l == nil {
		return nil
	}
	err := l.w.Flush()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeFileAtomic writes path through a temporary file in the same
// directory, synced and renamed over path.
func writeFileAtomic(path string, write func(*bufio.Writer) error) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("train: writing %s: %w", path, err)
	}
	return nil
}

// Curve is the history of one run, as drawn by PlotCurves.
type Curve struct {
	Name    string
	Text    bool // a language model: the evaluation is a validation loss, no accuracy
	Metrics []MetricRow
	Evals   []EvalRow
}

// PlotCurves draws the training loss against the step, and the test loss
// and accuracy (for text: the validation loss in nats per character)
// against the step, of one or more runs in one figure: runs are told apart
// by colour, in the same order in every panel.
func PlotCurves(path, title string, runs []Curve) error {
	loss := &report.Figure{Title: "training loss", XLabel: "step", YLabel: "cross-entropy (nats)", LogY: true}
	test := &report.Figure{Title: "test loss", XLabel: "step", YLabel: "cross-entropy (nats)"}
	acc := &report.Figure{Title: "test accuracy", XLabel: "step", YLabel: "accuracy (%)", LegendBottom: true}
	text := false
	for _, r := range runs {
		text = text || r.Text
		l := report.Line{Label: r.Name}
		for _, m := range r.Metrics {
			l.X = append(l.X, float64(m.Step))
			l.Y = append(l.Y, m.TrainLoss)
		}
		loss.Lines = append(loss.Lines, l)
		tl := report.Line{Label: r.Name, Points: true}
		ta := report.Line{Label: r.Name, Points: true}
		for _, e := range r.Evals {
			tl.X = append(tl.X, float64(e.Step))
			tl.Y = append(tl.Y, e.Loss)
			ta.X = append(ta.X, float64(e.Step))
			ta.Y = append(ta.Y, 100*e.Accuracy)
		}
		test.Lines = append(test.Lines, tl)
		acc.Lines = append(acc.Lines, ta)
	}
	if text {
		test.Title, test.YLabel = "validation loss", "nats per character"
		return report.WriteFigures(path, title, loss, test)
	}
	return report.WriteFigures(path, title, loss, test, acc)
}
