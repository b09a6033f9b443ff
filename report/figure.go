package report

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Line is one curve of a Figure: y against x, drawn as a line (and, with
// Points or when it has a single point, a marker at every point). Points whose coordinates are not finite,
// or not positive on a log axis, are left out of the drawing (not of the
// data).
type Line struct {
	Label  string    `json:"label"`
	X      []float64 `json:"x"`
	Y      []float64 `json:"y"`
	Dashed bool      `json:"dashed,omitempty"`
	Points bool      `json:"points,omitempty"`
	// NoLine draws the markers only.
	NoLine bool `json:"no_line,omitempty"`
}

// Figure is a line plot: a title, axis labels, linear or logarithmic axes and
// its curves. Name is the base name of its files (Name.png, Name.svg).
type Figure struct {
	Name   string `json:"name"`
	Title  string `json:"title"`
	XLabel string `json:"xlabel"`
	YLabel string `json:"ylabel"`
	LogX   bool   `json:"logx,omitempty"`
	LogY   bool   `json:"logy,omitempty"`
	Lines  []Line `json:"lines"`
	// Caption is a sentence shown under the figure in the HTML page.
	Caption string `json:"caption,omitempty"`
	// LegendLeft and LegendBottom move the legend from the top right.
	LegendLeft, LegendBottom bool `json:"-"`
	// LegendDrop moves a top legend down by this fraction of the figure
	// height (to place it beside the curves rather than on them).
	LegendDrop float64 `json:"-"`
}

// Figure sizes in inches and the PNG resolution.
const (
	figWidth  = 7.0
	figHeight = 4.4
	pngDPI    = 110
)

// Plot builds the gonum plot of f.
func (f *Figure) Plot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = f.Title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text = f.XLabel
	p.Y.Label.Text = f.YLabel
	p.X.Label.TextStyle.Font.Size = vg.Points(12)
	p.Y.Label.TextStyle.Font.Size = vg.Points(12)
	p.X.Tick.Label.Font.Size = vg.Points(10)
	p.Y.Tick.Label.Font.Size = vg.Points(10)
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	p.Legend.Top = !f.LegendBottom
	p.Legend.Left = f.LegendLeft
	p.Legend.XOffs = vg.Points(-4)
	if f.LegendLeft {
		p.Legend.XOffs = vg.Points(4)
	}
	p.Legend.ThumbnailWidth = vg.Points(22)
	if f.LegendDrop > 0 && !f.LegendBottom {
		p.Legend.YOffs = -vg.Length(f.LegendDrop*figHeight) * vg.Inch
	}
	p.Add(plotter.NewGrid())
	p.X.Tick.Marker = linTicks{}
	p.Y.Tick.Marker = linTicks{}
	if f.LogX {
		p.X.Scale = logScale{}
		p.X.Tick.Marker = logTicks{}
	}
	if f.LogY {
		p.Y.Scale = logScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	drawn := 0
	for i, l := range f.Lines {
		if len(l.X) != len(l.Y) {
			return nil, fmt.Errorf("report: figure %q, line %q: %d x values but %d y values", f.Name, l.Label, len(l.X), len(l.Y))
		}
		pts := make(plotter.XYs, 0, len(l.X))
		for j := range l.X {
			x, y := l.X[j], l.Y[j]
			if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
				continue
			}
			if (f.LogX && x <= 0) || (f.LogY && y <= 0) {
				continue
			}
			pts = append(pts, plotter.XY{X: x, Y: y})
		}
		if len(pts) == 0 {
			continue
		}
		drawn++
		c := lineColor(i)
		var thumbs []plot.Thumbnailer
		if !l.NoLine {
			ln, err := plotter.NewLine(pts)
			if err != nil {
				return nil, err
			}
			ln.Color = c
			ln.Width = vg.Points(1.8)
			if l.Dashed {
				ln.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
			}
			p.Add(ln)
			thumbs = append(thumbs, ln)
		}
		if l.Points || l.NoLine || len(pts) == 1 {
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return nil, err
			}
			sc.Color = c
			sc.Shape = plotutil.Shape(i)
			sc.Radius = vg.Points(3)
			p.Add(sc)
			thumbs = append(thumbs, sc)
		}
		if l.Label != "" {
			p.Legend.Add(l.Label, thumbs...)
		}
	}
	if drawn == 0 {
		// Nothing to draw (e.g. all values 0 on a log axis): keep the
		// axes, and say so, rather than fail the whole report.
		p.Title.Text += " (no data to draw)"
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
		if f.LogX {
			p.X.Min, p.X.Max = 1, 10
		}
		if f.LogY {
			p.Y.Min, p.Y.Max = 1, 10
		}
	}
	if f.LogY {
		padLog(&p.Y.Min, &p.Y.Max)
	}
	if f.LogX {
		padLog(&p.X.Min, &p.X.Max)
	}
	return p, nil
}

// logScale is plot.LogScale, except that it maps the arithmetic midpoint of
// the range to 0.5: gonum places the glyph box of a centred axis label at
// the normalized arithmetic midpoint while drawing the label at the centre,
// which on a log axis pads the plot with a large empty band.
type logScale struct{}

func (logScale) Normalize(min, max, x float64) float64 {
	if x == 0.5*(min+max) {
		return 0.5
	}
	return plot.LogScale{}.Normalize(min, max, x)
}

// padLog widens a log axis whose range is under a decade so that at least
// one labelled tick shows.
func padLog(lo, hi *float64) {
	if *lo <= 0 || *hi <= 0 {
		return
	}
	if math.Floor(math.Log10(*lo)) == math.Floor(math.Log10(*hi)) {
		*lo = math.Pow(10, math.Floor(math.Log10(*lo)))
		*hi = math.Pow(10, math.Ceil(math.Log10(*hi)+1e-12))
	}
}

// palette: distinguishable colours (Okabe-Ito, readable by colour-blind
// readers), then plotutil's.
var figPalette = []color.Color{
	color.RGBA{0, 114, 178, 255},   // blue
	color.RGBA{213, 94, 0, 255},    // vermillion
	color.RGBA{0, 158, 115, 255},   // green
	color.RGBA{204, 121, 167, 255}, // purple
	color.RGBA{230, 159, 0, 255},   // orange
	color.RGBA{86, 180, 233, 255},  // sky blue
	color.RGBA{0, 0, 0, 255},       // black
	color.RGBA{160, 140, 0, 255},   // olive
}

func lineColor(i int) color.Color {
	if i < len(figPalette) {
		return figPalette[i]
	}
	return plotutil.Color(i)
}

// logTicks labels the powers of ten of a log axis as 1e-k (every decade
// when there are few, every few decades otherwise) with unlabelled minor
// ticks.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	if min <= 0 || max <= 0 || !(max > min) {
		return nil
	}
	lo, hi := int(math.Floor(math.Log10(min))), int(math.Ceil(math.Log10(max)))
	in := func(v float64) bool { return v >= min*(1-1e-9) && v <= max*(1+1e-9) }
	powers := 0
	for e := lo; e <= hi; e++ {
		if in(math.Pow(10, float64(e))) {
			powers++
		}
	}
	step := 1
	for powers/step > 8 {
		step++
	}
	var ticks []plot.Tick
	for e := lo; e <= hi; e++ {
		v := math.Pow(10, float64(e))
		if in(v) {
			lbl := ""
			if (e-lo)%step == 0 {
				lbl = powLabel(e)
			}
			ticks = append(ticks, plot.Tick{Value: v, Label: lbl})
		}
		if step > 1 {
			continue
		}
		for m := 2; m <= 9; m++ {
			w := float64(m) * v
			if !in(w) {
				continue
			}
			lbl := ""
			if powers < 3 && (m == 2 || m == 5) {
				lbl = strconv.FormatFloat(w, 'g', 3, 64)
			}
			ticks = append(ticks, plot.Tick{Value: w, Label: lbl})
		}
	}
	return ticks
}

// linTicks puts about five labelled ticks at multiples of 1, 2 or 5 times
// a power of ten, labelled in the shortest form (0.5, 250, 1e+04), with
// unlabelled minor ticks between them.
type linTicks struct{}

func (linTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) || math.IsInf(max-min, 0) {
		return nil
	}
	raw := (max - min) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []plot.Tick
	minor := step / 5
	if m := step / mag; m == 2 {
		minor = step / 4
	}
	for v := math.Ceil(min/minor) * minor; v <= max+minor*1e-9; v += minor {
		q := math.Round(v/minor) * minor
		t := plot.Tick{Value: q}
		if r := q / step; math.Abs(r-math.Round(r)) < 1e-6 {
			if math.Abs(q) < step*1e-9 {
				q = 0
			}
			t.Label = strconv.FormatFloat(q, 'g', 6, 64)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

func powLabel(e int) string {
	switch {
	case e >= 0 && e <= 4:
		return fmt.Sprintf("%g", math.Pow(10, float64(e)))
	case e == -1:
		return "0.1"
	case e == -2:
		return "0.01"
	}
	return fmt.Sprintf("1e%d", e)
}

// Encode renders f as "png" (at 110 dpi) or "svg" (also "pdf" or "eps").
func (f *Figure) Encode(format string) ([]byte, error) {
	return encode(format, "", f)
}

// WriteFigures draws figs side by side in one row, under title (if not
// empty), and writes them to path, as PNG or SVG according to the file
// extension (.png, .svg; also .pdf and .eps). Line i has the same colour and
// marker in every figure, so that it can stand for the same run in all of
// them. The file is written atomically.
func WriteFigures(path, title string, figs ...*Figure) error {
	b, err := encode(strings.TrimPrefix(filepath.Ext(path), "."), title, figs...)
	if err != nil {
		return fmt.Errorf("report: %s: %w", path, err)
	}
	return writeFile(path, b)
}

// encode draws figs side by side under title and encodes the picture as
// format. A panic from gonum/plot (on degenerate input) is returned as an
// error: a figure is never worth a crash.
func encode(format, title string, figs ...*Figure) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("report: drawing a figure: %v", r)
		}
	}()
	if len(figs) == 0 {
		return nil, errors.New("report: no figures to draw")
	}
	plots := make([]*plot.Plot, len(figs))
	for i, f := range figs {
		if plots[i], err = f.Plot(); err != nil {
			return nil, err
		}
	}
	titleH := vg.Length(0)
	if title != "" {
		titleH = vg.Points(24)
	}
	w, h := vg.Length(figWidth*float64(len(figs)))*vg.Inch, vg.Length(figHeight)*vg.Inch+titleH
	var c vg.CanvasWriterTo
	switch format = strings.ToLower(format); format {
	case "png":
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(pngDPI), vgimg.UseBackgroundColor(color.White))}
	case "svg":
		c = vgsvg.New(w, h)
	case "pdf", "eps":
		if c, err = draw.NewFormattedCanvas(w, h, format); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("report: unknown figure format %q (want png or svg)", format)
	}
	dc := draw.New(c)
	if title != "" {
		sty := plots[0].Title.TextStyle
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
		dc.FillText(sty, vg.Point{X: w / 2, Y: h - titleH/2}, title)
	}
	tiles := draw.Tiles{Rows: 1, Cols: len(plots), PadTop: titleH}
	for i, p := range plots {
		p.Draw(margins(tiles.At(dc, i, 0)))
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("report: encoding %s: %w", format, err)
	}
	return buf.Bytes(), nil
}

// margins leaves a little white space around the plot.
func margins(c draw.Canvas) draw.Canvas {
	return draw.Crop(c, vg.Points(4), -vg.Points(10), vg.Points(3), -vg.Points(6))
}
