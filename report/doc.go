// Package report draws the figures of gradus runs and writes the report of
// the paper reproductions.
//
// Figures are drawn with gonum.org/v1/plot and written as PNG or SVG:
// Figure is a line plot with linear or logarithmic axes (readable
// power-of-ten ticks), dashed reference lines and markers; WriteFigures
// writes one or more figures side by side to a file (the training curves),
// Write the figures of a report.
//
// Write produces the report of a set of experiments (Section values) in a
// directory: figures/NAME.png and figures/NAME.svg, results.json
//
//	{"experiments":[{"id":…,"title":…,"scale":…,"seconds":…,
//	  "checks":[{"name":…,"target":…,"measured":…,"pass":true}],
//	  "figures":["figures/….png"]}]}
//
// and index.html, a self-contained page (the PNGs are embedded as data URIs,
// so it opens offline and can be moved alone) with, per experiment, the
// paper's claim, the setup, the figures, the checks and the run time.
//
// Every file is written atomically (a temporary file renamed into place), so
// a figure being refreshed during a run is never seen half written.
package report
