package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gradus-ml/gradus/train"
)

// progressPrinter shows the progress of a training run: on a terminal a
// bar redrawn in place (epoch, step, loss, steps/s, ETA); otherwise plain
// lines every few seconds. Evaluations and checkpoints get lines of their
// own either way.
type progressPrinter struct {
	w      io.Writer
	off    bool
	tty    bool
	last   time.Time
	every  time.Duration
	open   bool // a bar is drawn and needs a newline before other output
	header string
}

func newProgressPrinter(w io.Writer, off bool) *progressPrinter {
	p := &progressPrinter{w: w, off: off, every: 5 * time.Second}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.every = true, 100*time.Millisecond
		}
	}
	return p
}

func (p *progressPrinter) update(pr train.Progress) {
	if p.off {
		return
	}
	switch pr.Event {
	case train.EventStart:
		if pr.Resumed {
			p.line(fmt.Sprintf("resumed at step %d of %d", pr.ResumedFrom, pr.Steps))
		}
		p.last = time.Time{}
	case train.EventStep:
		if pr.Step != pr.Steps && time.Since(p.last) < p.every {
			return
		}
		p.last = time.Now()
		s := p.status(pr)
		if p.tty {
			fmt.Fprintf(p.w, "\r%s\033[K", s)
			p.open = true
		} else {
			p.line(s)
		}
	case train.EventEval:
		e := pr.Eval
		if pr.Epochs > 0 {
			p.line(fmt.Sprintf("epoch %d/%d: test loss %.4f, test accuracy %.2f%% (step %d, %.1f s)", e.Epoch, pr.Epochs, e.Loss, 100*e.Accuracy, e.Step, e.Seconds))
		} else {
			p.line(fmt.Sprintf("step %d/%d: validation loss %.4f nats/char (%.1f s)", e.Step, pr.Steps, e.Loss, e.Seconds))
		}
	}
}

// status is the one-line state of the run.
func (p *progressPrinter) status(pr train.Progress) string {
	var b strings.Builder
	if pr.Epochs > 0 {
		fmt.Fprintf(&b, "epoch %d/%d ", pr.Epoch, pr.Epochs)
	}
	done, of := pr.Step, pr.Steps
	if p.tty {
		const width = 24
		n := width * done / max(of, 1)
		b.WriteString("[" + strings.Repeat("=", n) + strings.Repeat(" ", width-n) + "] ")
	}
	fmt.Fprintf(&b, "step %d/%d  loss %.4f  lr %.3g", done, of, pr.MeanLoss, pr.LR)
	if pr.StepsPerSec > 0 {
		fmt.Fprintf(&b, "  %.1f steps/s  ETA %s", pr.StepsPerSec, clock(pr.ETA))
	}
	return b.String()
}

// line prints s on a line of its own.
func (p *progressPrinter) line(s string) {
	if p.open {
		fmt.Fprint(p.w, "\r\033[K")
		p.open = false
	}
	fmt.Fprintln(p.w, s)
}

// finish ends a bar left open.
func (p *progressPrinter) finish() {
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}

// clock formats d as m:ss or h:mm:ss.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
