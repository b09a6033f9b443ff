// Package report draws the figures of gradus runs: training curves and the
// figures of the paper reproductions, written as PNG or SVG files with
// gonum.org/v1/plot. Files are written atomically (a temporary file renamed
// into place), so a figure being refreshed during a run is never seen half
// written.
package report
