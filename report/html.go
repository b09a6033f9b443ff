package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"time"
)

// HTML returns the report page for the sections: an overview table, then
// per experiment the paper, its claim, the setup, the figures (PNG bytes
// from pngs, embedded as data URIs, each linking to its SVG file), the
// checks table, notes and the run time. The page needs no network and no
// other file to display.
func HTML(sections []*Section, pngs map[string][]byte) ([]byte, error) {
	type fig struct {
		Name, Title, Caption, SVG string
		Src                       template.URL
	}
	type sec struct {
		*Section
		Pass    bool
		NPass   int
		NChecks int
		Figs    []fig
		Time    string
	}
	var data struct {
		Sections  []sec
		Generated string
		AllPass   bool
		Total     string
	}
	data.Generated = time.Now().UTC().Format("2006-01-02 15:04 UTC")
	data.AllPass = true
	var total float64
	for _, s := range sections {
		v := sec{Section: s, Pass: s.Passed(), NChecks: len(s.Checks), Time: formatSeconds(s.Seconds)}
		for _, c := range s.Checks {
			if c.Pass {
				v.NPass++
			}
		}
		for _, f := range s.Figures {
			b, ok := pngs[f.Name]
			if !ok {
				var err error
				if b, err = f.Encode("png"); err != nil {
					return nil, err
				}
			}
			v.Figs = append(v.Figs, fig{Name: f.Name, Title: f.Title, Caption: f.Caption, SVG: FigurePath(f, "svg"),
				Src: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b))})
		}
		data.AllPass = data.AllPass && v.Pass
		total += s.Seconds
		data.Sections = append(data.Sections, v)
	}
	data.Total = formatSeconds(total)
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return buf.Bytes(), nil
}

func formatSeconds(s float64) string {
	switch {
	case s < 10:
		return fmt.Sprintf("%.2f s", s)
	case s < 120:
		return fmt.Sprintf("%.1f s", s)
	}
	return fmt.Sprintf("%dm%02ds", int(s)/60, int(s)%60)
}

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gradus reproduce: report</title>
<style>
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1180px; margin: 2em auto; padding: 0 1em; color: #1b1b1b; line-height: 1.45; }
h1 { margin-bottom: 0.2em; }
h2 { border-top: 2px solid #ddd; padding-top: 1em; margin-top: 2em; }
.sub { color: #555; }
table { border-collapse: collapse; margin: 0.8em 0; width: 100%; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; font-size: 0.93em; }
th { background: #f3f3f3; }
.pass { color: #0a6e2f; font-weight: bold; }
.fail { color: #b00020; font-weight: bold; }
.figs { display: flex; flex-wrap: wrap; gap: 14px; }
figure { margin: 0; width: 572px; }
figure img { width: 100%; border: 1px solid #e4e4e4; }
figcaption { font-size: 0.88em; color: #444; }
.claim { background: #f7f9fc; border-left: 4px solid #4a78c2; padding: 0.4em 0.8em; }
.err { background: #fff0f0; border-left: 4px solid #b00020; padding: 0.4em 0.8em; }
code { background: #f3f3f3; padding: 0 3px; }
</style>
</head>
<body>
<h1>gradus reproduce</h1>
<p class="sub">Ten papers' experiments, re-run by <code>gradus reproduce</code>. Generated {{.Generated}}; total run time {{.Total}}.
{{if .AllPass}}<span class="pass">All checks pass.</span>{{else}}<span class="fail">Some checks fail.</span>{{end}}</p>
<table>
<tr><th>experiment</th><th>title</th><th>scale</th><th>checks</th><th>time</th></tr>
{{range .Sections}}<tr><td><a href="#{{.ID}}"><code>{{.ID}}</code></a></td><td>{{.Title}}</td><td>{{.Scale}}</td><td class="{{if .Pass}}pass{{else}}fail{{end}}">{{.NPass}}/{{.NChecks}}{{if .Error}} (error){{end}}</td><td>{{.Time}}</td></tr>
{{end}}</table>
{{range .Sections}}
<h2 id="{{.ID}}">{{.Title}} <span class="sub">({{.ID}})</span></h2>
<p class="sub">{{.Paper}}</p>
<p class="claim"><b>Claim.</b> {{.Claim}}</p>
<p><b>Setup ({{.Scale}} scale).</b> {{.Setup}}</p>
{{if .Error}}<p class="err"><b>Run failed:</b> {{.Error}}</p>{{end}}
<div class="figs">
{{range .Figs}}<figure><a href="{{.SVG}}"><img src="{{.Src}}" alt="{{.Title}}"></a><figcaption>{{if .Caption}}{{.Caption}} {{end}}<a href="{{.SVG}}">SVG</a></figcaption></figure>
{{end}}</div>
<table>
<tr><th>check</th><th>target</th><th>measured</th><th>result</th></tr>
{{range .Checks}}<tr><td>{{.Name}}</td><td>{{.Target}}</td><td>{{.Measured}}</td><td class="{{if .Pass}}pass{{else}}fail{{end}}">{{if .Pass}}pass{{else}}FAIL{{end}}</td></tr>
{{end}}</table>
{{range .Notes}}<p>{{.}}</p>
{{end}}<p class="sub">Run time: {{.Time}}.</p>
{{end}}
</body>
</html>
`))
