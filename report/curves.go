package report

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/gradus-ml/gradus/internal/atomicfile"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one curve: points (X[i], Y[i]). Points with a NaN or infinite
// coordinate (or a non-positive Y on a log axis) are left out, so a gap in
// a metric does not break the figure.
type Series struct {
	Name string
	X, Y []float64
	// Points marks every point with a glyph, for sparse series such as
	// one test accuracy per epoch.
	Points bool
}

// Panel is one chart of a figure.
type Panel struct {
	Title, XLabel, YLabel string
	// LogY draws the Y axis on a logarithmic scale.
	LogY bool
	// LegendBottom puts the legend in the bottom right corner instead of
	// the top right one (for rising curves such as accuracies).
	LegendBottom bool
	Series       []Series
}

// PlotSpec describes a figure: panels side by side in one row, the series
// of every panel drawn in the same colours in the same order (so that
// series i is the same run everywhere).
type PlotSpec struct {
	Title  string
	Panels []Panel
	// PanelWidth and Height are the size of one panel in centimetres
	// (0 means 12 × 9).
	PanelWidth, Height float64
}

// curvePalette is the Tableau 10 colour cycle.
var curvePalette = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
	{188, 189, 34, 255}, {23, 190, 207, 255},
}

// LinePlot draws spec and writes it to path, as PNG or SVG according to the
// file extension (.png, .svg; also .pdf and .eps). The file is written
// atomically: a temporary file in the same directory renamed over path.
func LinePlot(path string, spec PlotSpec) (err error) {
	defer func() {
		// gonum/plot panics on some degenerate inputs; a figure is never
		// worth a crash.
		if r := recover(); r != nil {
			err = fmt.Errorf("report: LinePlot %s: %v", path, r)
		}
	}()
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	switch format {
	case "png", "svg", "pdf", "eps":
	default:
		return fmt.Errorf("report: LinePlot %s: unsupported file extension %q (want .png, .svg, .pdf or .eps)", path, filepath.Ext(path))
	}
	if len(spec.Panels) == 0 {
		return fmt.Errorf("report: LinePlot %s: no panels", path)
	}
	pw, ph := spec.PanelWidth, spec.Height
	if pw <= 0 {
		pw = 12
	}
	if ph <= 0 {
		ph = 9
	}
	titleH := vg.Length(0)
	if spec.Title != "" {
		titleH = vg.Centimeter
	}
	w := vg.Length(pw*float64(len(spec.Panels))) * vg.Centimeter
	h := vg.Length(ph)*vg.Centimeter + titleH

	plots := make([]*plot.Plot, len(spec.Panels))
	for i, pn := range spec.Panels {
		p, err := curvePanelPlot(pn)
		if err != nil {
			return fmt.Errorf("report: LinePlot %s: panel %d (%q): %w", path, i, pn.Title, err)
		}
		plots[i] = p
	}

	cw, err := draw.NewFormattedCanvas(w, h, format)
	if err != nil {
		return fmt.Errorf("report: LinePlot %s: %w", path, err)
	}
	dc := draw.New(cw)
	// White background (PNG canvases are transparent by default).
	dc.SetColor(color.White)
	var bg vg.Path
	bg.Move(vg.Point{})
	bg.Line(vg.Point{X: w})
	bg.Line(vg.Point{X: w, Y: h})
	bg.Line(vg.Point{Y: h})
	bg.Close()
	dc.Fill(bg)
	if spec.Title != "" {
		sty := plot.New().Title.TextStyle
		sty.Font.Size = vg.Points(13)
		sty.XAlign = draw.XCenter
		sty.YAlign = draw.YCenter
		dc.FillText(sty, vg.Point{X: w / 2, Y: h - titleH/2}, spec.Title)
	}
	tiles := draw.Tiles{Rows: 1, Cols: len(plots), PadTop: titleH, PadX: vg.Millimeter * 4,
		PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4, PadBottom: vg.Millimeter * 2}
	for i, p := range plots {
		p.Draw(tiles.At(dc, i, 0))
	}
	if err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := cw.WriteTo(w)
		return err
	}); err != nil {
		return fmt.Errorf("report: writing %s: %w", path, err)
	}
	return nil
}

// panelPlot builds the plot of one panel.
func curvePanelPlot(pn Panel) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = pn.Title
	p.X.Label.Text = pn.XLabel
	p.Y.Label.Text = pn.YLabel
	p.Add(plotter.NewGrid())
	if pn.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	p.Legend.Top = !pn.LegendBottom
	named := 0
	drawn := 0
	for k, s := range pn.Series {
		if len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("series %q has %d x and %d y values", s.Name, len(s.X), len(s.Y))
		}
		xys := make(plotter.XYs, 0, len(s.X))
		for i := range s.X {
			x, y := s.X[i], s.Y[i]
			if nonFinite(x) || nonFinite(y) || (pn.LogY && y <= 0) {
				continue
			}
			xys = append(xys, plotter.XY{X: x, Y: y})
		}
		if len(xys) == 0 {
			continue
		}
		col := curvePalette[k%len(curvePalette)]
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.Color = col
		l.Width = vg.Points(1.5)
		p.Add(l)
		thumbs := []plot.Thumbnailer{l}
		if s.Points || len(xys) == 1 {
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, err
			}
			sc.GlyphStyle.Color = col
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
			sc.GlyphStyle.Radius = vg.Points(2.5)
			p.Add(sc)
			thumbs = append(thumbs, sc)
		}
		if s.Name != "" {
			p.Legend.Add(s.Name, thumbs...)
			named++
		}
		drawn++
	}
	if drawn == 0 {
		// An empty panel still gets axes; give them a finite range.
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
		if pn.LogY {
			p.Y.Min, p.Y.Max = 1, 10
		}
	}
	if named == 0 {
		p.Legend = plot.NewLegend()
	}
	if pn.LogY && drawn > 0 {
		// gonum widens a zero-height range by ±1, which may cross 0 on
		// a log axis: widen it by a factor instead.
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, s := range pn.Series {
			for i, y := range s.Y {
				if !nonFinite(y) && y > 0 && !nonFinite(s.X[i]) {
					lo, hi = min(lo, y), max(hi, y)
				}
			}
		}
		if lo == hi {
			p.Y.Min, p.Y.Max = lo/2, hi*2
		} else if hi < 20*lo {
			// Less than about a decade: powers of ten would leave the
			// axis without labels.
			p.Y.Tick.Marker = plot.DefaultTicks{}
		}
	}
	return p, nil
}

func nonFinite(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
