package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rxrealtime/rxrealtime/bench/internal/workload"
)

// The chart: the comparison's own results as one SVG picture, written
// after the last section. For each serializer, the throughput of every
// client as a bar (median msg/s over the rounds) with a min–max whisker,
// and the latency percentiles of each client as a line over p50, p99 and
// p999 (log scale). Both kinds of panel share their scale across the
// serializers, so the sections can be compared by eye. The source probe is
// not drawn (it is 10× the clients and would flatten every bar); its rate
// and headroom are written above the bars. The SVG is plain: shapes and
// text, no script, no external reference, on a white background so that it
// reads in a browser and on GitHub in light and dark mode alike.

// chart is everything the picture shows.
type chart struct {
	when     time.Time
	machine  string // CPU, cores, memory, OS/arch, Go and node versions
	load     string // the load average when the run started, "" if unknown
	command  string // the command line that made the run
	sections []chartSection
}

// chartSection is one serializer's results.
type chartSection struct {
	vsn       string
	frames    int // frames per run
	meanBytes int // mean frame size
	rounds    int
	names     []string // runners in round order
	results   map[string]*series
	latency   *latencyRun // nil when the latency workload was skipped
}

// Geometry of the picture, in SVG user units (pixels).
const (
	chartW        = 960
	chartHeaderH  = 126
	tputX0        = 70  // throughput plot: left edge (after the axis labels)
	tputX1        = 560 // right edge
	latX0         = 660 // latency plot
	latX1         = 940
	plotTop       = 100 // plot top, from the section's top
	plotBottom    = 300 // plot baseline, from the section's top
	legendRowH    = 16
	chartFooterH  = 34
	fontFamily    = "Helvetica, Arial, sans-serif"
	monoFamily    = "Menlo, Consolas, 'DejaVu Sans Mono', monospace"
	colorText     = "#212529"
	colorSubtle   = "#5c636a"
	colorGrid     = "#dee2e6"
	colorAxis     = "#868e96"
	colorWhisker  = "#212529"
	colorFallback = "#adb5bd"
)

// runnerColors gives each client one colour in every panel: the floors in
// blues, rxrealtime in orange, the peers in green and purple.
var runnerColors = map[string]string{
	"floor/encoding-json": "#a5c3e6",
	"floor/goccy":         "#1c5fa8",
	"floor/segmentio":     "#5b93d1",
	"rxrealtime":          "#e8590c",
	"realtime-js":         "#2b8a3e",
	"phx":                 "#7048e8",
	"source":              "#868e96",
}

func runnerColor(name string) string {
	if c, ok := runnerColors[name]; ok {
		return c
	}
	if strings.HasPrefix(name, "floor/") {
		return "#5b93d1"
	}
	return colorFallback
}

// barNames returns the runners that get a bar: all but the source probe.
func (s chartSection) barNames() []string {
	var out []string
	for _, n := range s.names {
		if n != "source" && s.results[n] != nil {
			out = append(out, n)
		}
	}
	return out
}

// height of one section: its plots, the labels under them and, for the
// latency panel, one legend row per runner.
func (s chartSection) height() int {
	rows := 0
	if s.latency != nil {
		rows = len(s.latency.names)
	}
	return plotBottom + max(52, 36+legendRowH*rows) + 18
}

// writeSVG renders c.
func (c chart) writeSVG(w io.Writer) error {
	height := chartHeaderH + chartFooterH
	for _, s := range c.sections {
		height += s.height()
	}
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="%s" font-size="12" fill="%s">`+"\n",
		chartW, height, chartW, height, fontFamily, colorText)
	p("<title>%s</title>\n", esc("rxrealtime peer comparison, "+c.when.UTC().Format("2006-01-02 15:04 UTC")))
	p(`<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", chartW, height)

	// Header: what, when, where, how.
	p(`<text class="title" x="20" y="30" font-size="18" font-weight="bold">%s</text>`+"\n",
		esc("rxrealtime, the floor, realtime-js and phx: receive throughput and latency"))
	p(`<text x="20" y="50" fill="%s">%s</text>`+"\n", colorSubtle,
		esc("workload 1: one channel of ~900-byte postgres_changes frames, each decoded into the same Row; each run a fresh process"))
	when := c.when.UTC().Format("2006-01-02 15:04 UTC")
	if c.load != "" {
		when += ", " + c.load
	}
	p(`<text class="when" x="20" y="70">%s</text>`+"\n", esc(when))
	p(`<text class="machine" x="20" y="88">%s</text>`+"\n", esc(c.machine))
	p(`<text class="command" x="20" y="108" font-family="%s">%s</text>`+"\n", monoFamily, esc("$ "+c.command))

	tput := c.tputScale()
	lat := c.latScale()
	top := chartHeaderH
	for _, s := range c.sections {
		p(`<g class="section" data-vsn="%s" transform="translate(0 %d)">`+"\n", esc(s.vsn), top)
		c.section(p, s, tput, lat)
		p("</g>\n")
		top += s.height()
	}

	p(`<text x="20" y="%d" font-size="11" fill="%s">%s</text>`+"\n", height-14, colorSubtle,
		esc("Drawn by the compare command from the numbers of this run; the tables and ratio lines it prints are the same numbers."))
	p("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// section draws one serializer's header, throughput bars and latency
// lines, in coordinates relative to the section's top.
func (c chart) section(p func(string, ...any), s chartSection, tput linScale, lat logScale) {
	p(`<line x1="20" y1="4" x2="%d" y2="4" stroke="%s"/>`+"\n", chartW-20, colorGrid)
	p(`<text x="20" y="26" font-size="15"><tspan font-weight="bold">%s</tspan><tspan dx="10" fill="%s">%s</tspan></text>`+"\n",
		esc("vsn "+s.vsn), colorSubtle,
		esc(fmt.Sprintf("%s frames per run (mean %d bytes), %d round(s), runners alternating", commas(s.frames), s.meanBytes, s.rounds)))
	p(`<text class="ratios" x="20" y="46">%s</text>`+"\n", ratioTSpans(s.results))

	// Throughput panel.
	p(`<text x="20" y="70"><tspan font-weight="bold">%s</tspan><tspan dx="8" fill="%s">%s</tspan></text>`+"\n",
		esc("throughput, msg/s"), colorSubtle, esc("bar: median over the rounds; whisker: min – max"))
	if src := s.results["source"]; src != nil && src.rate() > 0 {
		note := fmt.Sprintf("the source probe (not drawn) reads %s msg/s", kilo(src.rate()))
		if f := fastestClient(s.results); f != nil {
			note += fmt.Sprintf(", %.1f× the fastest client", src.rate()/f.rate())
		}
		p(`<text x="20" y="86" font-size="11" fill="%s">%s</text>`+"\n", colorSubtle, esc(note))
	}
	for _, t := range tput.ticks {
		y := tput.y(t)
		p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>`+"\n", tputX0, y, tputX1, y, colorGrid)
		p(`<text x="%d" y="%.1f" text-anchor="end" font-size="11" fill="%s">%s</text>`+"\n", tputX0-6, y+4, colorSubtle, esc(tickLabel(t)))
	}
	p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`+"\n", tputX0, plotBottom, tputX1, plotBottom, colorAxis)
	names := s.barNames()
	slot := float64(tputX1-tputX0) / float64(max(len(names), 1))
	bw := math.Min(52, slot*0.56)
	for i, name := range names {
		ser := s.results[name]
		cx := float64(tputX0) + slot*(float64(i)+0.5)
		runs := len(ser.rates) + ser.failed
		switch {
		case len(ser.rates) == 0:
			why := "failed"
			if ser.notReady {
				why = "not yet"
			}
			p(`<text class="missing" x="%.1f" y="%d" text-anchor="middle" fill="%s">%s</text>`+"\n", cx, plotBottom-8, colorSubtle, esc(why))
		default:
			med, lo, hi := ser.rate(), slices.Min(ser.rates), slices.Max(ser.rates)
			y := tput.y(med)
			p(`<rect class="bar" data-runner="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`+"\n",
				esc(name), cx-bw/2, y, bw, float64(plotBottom)-y, runnerColor(name),
				esc(fmt.Sprintf("%s: median %s msg/s, min %s, max %s, %d/%d runs ok", name,
					commas(int(med)), commas(int(lo)), commas(int(hi)), len(ser.rates), runs)))
			yl, yh := tput.y(lo), tput.y(hi)
			cw := bw * 0.36
			p(`<g class="whisker" data-runner="%s" stroke="%s" stroke-width="1.5">`, esc(name), colorWhisker)
			p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, cx, yh, cx, yl)
			p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, cx-cw/2, yh, cx+cw/2, yh)
			p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, cx-cw/2, yl, cx+cw/2, yl)
			p("</g>\n")
			p(`<text class="value" x="%.1f" y="%.1f" text-anchor="middle" font-weight="bold">%s</text>`+"\n", cx, yh-6, esc(kilo(med)))
		}
		first, second, ok := strings.Cut(name, "/")
		p(`<text class="label" data-runner="%s" x="%.1f" y="%d" text-anchor="middle">`, esc(name), cx, plotBottom+16)
		if ok {
			p(`<tspan x="%.1f" fill="%s">%s</tspan><tspan x="%.1f" dy="14">%s</tspan>`, cx, colorSubtle, esc(first+"/"), cx, esc(second))
		} else {
			p(`<tspan font-weight="bold">%s</tspan>`, esc(name))
		}
		p("</text>\n")
		if ser.failed > 0 || ser.notReady {
			p(`<text x="%.1f" y="%d" text-anchor="middle" font-size="11" fill="#c92a2a">%s</text>`+"\n",
				cx, plotBottom+44, esc(fmt.Sprintf("%d/%d ok", len(ser.rates), runs)))
		}
	}

	// Latency panel.
	if s.latency == nil {
		p(`<text x="%d" y="70" font-weight="bold">%s</text>`+"\n", latX0-50, esc("latency"))
		p(`<text x="%d" y="%d" fill="%s">%s</text>`+"\n", latX0-50, plotTop+20, colorSubtle, esc("not measured (-latency-rate 0)"))
		return
	}
	l := s.latency
	p(`<text x="%d" y="70"><tspan font-weight="bold">%s</tspan><tspan dx="8" fill="%s">%s</tspan></text>`+"\n",
		latX0-50, esc("latency"), colorSubtle, esc("source's write → user's loop, log scale"))
	p(`<text x="%d" y="86" font-size="11" fill="%s">%s</text>`+"\n", latX0-50, colorSubtle,
		esc(fmt.Sprintf("%s frames at %s msg/s, median of %d round(s)", commas(l.frames), commas(l.rate), l.rounds)))
	for _, t := range lat.ticks {
		y := lat.y(t)
		p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>`+"\n", latX0, y, latX1, y, colorGrid)
		p(`<text x="%d" y="%.1f" text-anchor="end" font-size="11" fill="%s">%s</text>`+"\n", latX0-6, y+4, colorSubtle, esc(durLabel(t)))
	}
	p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s"/>`+"\n", latX0, plotBottom, latX1, plotBottom, colorAxis)
	pcts := latencyPercentiles
	colX := func(j int) float64 { return float64(latX0) + float64(latX1-latX0)*(float64(j)+0.5)/float64(len(pcts)) }
	for j, pc := range pcts {
		p(`<text class="pct" x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", colX(j), plotBottom+16, esc(pc.name))
	}
	m := len(l.names)
	for k, name := range l.names {
		ls := l.res[name]
		color := runnerColor(name)
		ly := plotBottom + 40 + legendRowH*k
		p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2.5"/>`, latX0-50, ly-4, latX0-30, ly-4, color)
		p(`<circle cx="%d" cy="%d" r="3.5" fill="%s"/>`, latX0-40, ly-4, color)
		p(`<text class="legend" data-runner="%s" x="%d" y="%d">%s</text>`, esc(name), latX0-24, ly, esc(name))
		if ls == nil || len(ls.lats) == 0 {
			why := "failed"
			if ls != nil && ls.skipped != "" {
				why = ls.skipped
			}
			p(`<text x="%d" y="%d" fill="%s">%s</text>`+"\n", latX0+60, ly, colorSubtle, esc(why))
			continue
		}
		var vals []string
		for _, pc := range pcts {
			vals = append(vals, durLabel(medianDur(ls.lats, pc.get)))
		}
		p(`<text x="%d" y="%d" fill="%s">%s</text>`+"\n", latX0+60, ly, colorSubtle, esc(strings.Join(vals, " / ")))
		off := (float64(k) - float64(m-1)/2) * 5
		var pts []string
		for j, pc := range pcts {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", colX(j)+off, lat.y(medianDur(ls.lats, pc.get))))
		}
		p(`<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5" stroke-linejoin="round"/>`+"\n", strings.Join(pts, " "), color)
		for j, pc := range pcts {
			med := medianDur(ls.lats, pc.get)
			x := colX(j) + off
			if len(ls.lats) > 1 {
				lo, hi := minMaxDur(ls.lats, pc.get)
				p(`<line class="lat-whisker" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5"/>`+"\n",
					x, lat.y(hi), x, lat.y(lo), color)
			}
			p(`<circle class="lat-point" data-runner="%s" data-pct="%s" cx="%.1f" cy="%.1f" r="4" fill="%s" stroke="#ffffff"><title>%s</title></circle>`+"\n",
				esc(name), pc.name, x, lat.y(med), color, esc(fmt.Sprintf("%s %s: %s", name, pc.name, durLabel(med))))
		}
	}
}

// latencyPercentiles are the percentiles the latency panel draws, in
// order; the maximum is left to the printed table.
var latencyPercentiles = []struct {
	name string
	get  func(workload.Latency) time.Duration
}{
	{"p50", func(l workload.Latency) time.Duration { return l.P50 }},
	{"p99", func(l workload.Latency) time.Duration { return l.P99 }},
	{"p999", func(l workload.Latency) time.Duration { return l.P999 }},
}

func medianDur(ls []workload.Latency, get func(workload.Latency) time.Duration) time.Duration {
	xs := make([]time.Duration, len(ls))
	for i, l := range ls {
		xs[i] = get(l)
	}
	slices.Sort(xs)
	return xs[(len(xs)-1)/2] // the same pick as the printed table
}

func minMaxDur(ls []workload.Latency, get func(workload.Latency) time.Duration) (lo, hi time.Duration) {
	lo, hi = get(ls[0]), get(ls[0])
	for _, l := range ls[1:] {
		lo, hi = min(lo, get(l)), max(hi, get(l))
	}
	return lo, hi
}

// linScale maps msg/s to a y coordinate, 0 at the baseline.
type linScale struct {
	top   float64 // the value at plotTop
	ticks []float64
}

func (s linScale) y(v float64) float64 {
	return plotBottom - v/s.top*(plotBottom-plotTop)
}

// tputScale is the throughput scale shared by every section: from 0 to a
// round number above the highest whisker.
func (c chart) tputScale() linScale {
	hi := 0.0
	for _, s := range c.sections {
		for _, n := range s.barNames() {
			if r := s.results[n].rates; len(r) > 0 {
				hi = math.Max(hi, slices.Max(r))
			}
		}
	}
	if hi <= 0 {
		hi = 1
	}
	step := niceStep(hi * 1.12 / 5)
	top := math.Ceil(hi*1.12/step) * step
	var ticks []float64
	for t := 0.0; t <= top*1.0001; t += step {
		ticks = append(ticks, t)
	}
	return linScale{top: top, ticks: ticks}
}

// niceStep returns the smallest of 1, 2, 2.5 or 5 × 10^k that is ≥ x.
func niceStep(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= x*0.9999 {
			return m * p
		}
	}
	return 10 * p
}

// logScale maps a duration to a y coordinate on a log axis.
type logScale struct {
	lo, hi time.Duration // the values at plotBottom and plotTop
	ticks  []time.Duration
}

func (s logScale) y(d time.Duration) float64 {
	d = max(d, 1)
	f := (math.Log(float64(d)) - math.Log(float64(s.lo))) / (math.Log(float64(s.hi)) - math.Log(float64(s.lo)))
	return plotBottom - f*(plotBottom-plotTop)
}

// latScale is the latency scale shared by every section: from the 1-2-5
// value below the lowest p50 to the one above the highest p999, with a
// tick at each 1-2-5 value; over more than two decades (a loaded machine's
// p99 can be 1,000× its p50), from power of ten to power of ten, with a
// tick at each, so that the labels stay apart.
func (c chart) latScale() logScale {
	lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
	for _, s := range c.sections {
		if s.latency == nil {
			continue
		}
		for _, ls := range s.latency.res {
			if ls == nil {
				continue
			}
			for _, l := range ls.lats {
				for _, pc := range latencyPercentiles {
					lo, hi = min(lo, max(pc.get(l), 1)), max(hi, pc.get(l))
				}
			}
		}
	}
	if hi == 0 {
		lo, hi = time.Microsecond, time.Millisecond
	}
	var seq []time.Duration // 1, 2, 5 × 10^k ns
	for p := time.Duration(1); p <= time.Hour; p *= 10 {
		seq = append(seq, p, 2*p, 5*p)
	}
	s := logScale{lo: seq[0], hi: seq[len(seq)-1]}
	for _, v := range seq {
		if v <= lo {
			s.lo = v
		}
	}
	for i := len(seq) - 1; i >= 0; i-- {
		if seq[i] >= hi {
			s.hi = seq[i]
		}
	}
	if s.hi <= s.lo {
		s.hi = s.lo * 10
	}
	decades := s.hi > 100*s.lo
	if decades {
		s.lo, s.hi = pow10Below(s.lo), pow10Above(s.hi)
	}
	for _, v := range seq {
		if v >= s.lo && v <= s.hi && (!decades || isPow10(v)) {
			s.ticks = append(s.ticks, v)
		}
	}
	return s
}

// pow10Below returns the largest power of ten ≤ d (at least 1).
func pow10Below(d time.Duration) time.Duration {
	p := time.Duration(1)
	for p*10 <= d {
		p *= 10
	}
	return p
}

// pow10Above returns the smallest power of ten ≥ d.
func pow10Above(d time.Duration) time.Duration {
	p := time.Duration(1)
	for p < d {
		p *= 10
	}
	return p
}

func isPow10(d time.Duration) bool { return d > 0 && pow10Below(d) == d }

// ratioTSpans is the section's ratio line as SVG text content:
// rxrealtime's median over each peer's (in bold), with the per-round
// spread.
func ratioTSpans(results map[string]*series) string {
	rx := results["rxrealtime"]
	if rx == nil || rx.rate() == 0 {
		return esc("rxrealtime: no result, no ratios")
	}
	var parts []string
	for _, other := range []*series{fastestFloor(results), results["realtime-js"], results["phx"]} {
		if other == nil || other.rate() == 0 {
			continue
		}
		part := fmt.Sprintf(`<tspan font-weight="bold">%.2f×</tspan> %s`, rx.rate()/other.rate(), esc(other.name+"'s"))
		if rs := roundRatios(rx, other); len(rs) > 1 {
			if len(parts) == 0 {
				part += esc(fmt.Sprintf(" (by round %.2f – %.2f)", slices.Min(rs), slices.Max(rs)))
			} else {
				part += esc(fmt.Sprintf(" (%.2f – %.2f)", slices.Min(rs), slices.Max(rs)))
			}
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return esc("rxrealtime: no peer result, no ratios")
	}
	return esc("rxrealtime's median msg/s: ") + strings.Join(parts, esc("  ·  "))
}

// tickLabel formats an axis value in msg/s.
func tickLabel(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + " M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + " k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// kilo formats a rate for a bar: 394 k, 4.48 M.
func kilo(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2f M", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0f k", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.1f k", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// durLabel formats a latency to three digits at most: 92 µs, 1.53 ms,
// 36.1 ms, 2 ms.
func durLabel(d time.Duration) string {
	switch {
	case d >= time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	case d >= 10*time.Millisecond:
		return strconv.FormatFloat(math.Round(float64(d)/1e5)/1e1, 'f', -1, 64) + " ms"
	case d >= time.Millisecond:
		return strconv.FormatFloat(math.Round(float64(d)/1e4)/1e2, 'f', -1, 64) + " ms"
	case d >= time.Microsecond:
		return fmt.Sprintf("%.0f µs", float64(d)/1e3)
	}
	return fmt.Sprintf("%d ns", d)
}

// commas formats n with thousands separators.
func commas(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// esc escapes s for XML text and attribute values.
func esc(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// shellSafe matches an argument that needs no quoting in a shell.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./,:=@%+-]+$`)

// shellJoin joins args into a command line a POSIX shell reads back as
// the same words.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if shellSafe.MatchString(a) {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

// loadAverage returns the one-minute load average as text, "" if unknown.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return "load average " + f[0] + " at the start"
}
