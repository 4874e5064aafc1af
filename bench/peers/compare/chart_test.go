package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/bench/internal/workload"
)

var chartRunners = []string{"source", "floor/encoding-json", "floor/goccy", "rxrealtime", "phx", "realtime-js"}

// fixtureRates are the msg/s of every round, per serializer and runner
// (nil: every run failed). Medians and maxima are all distinct, so the
// order of the bars is fixed.
var fixtureRates = map[string]map[string][]float64{
	"2.0.0": {
		"source":              {4_480_000, 2_900_000, 9_000_000},
		"floor/encoding-json": {95_000, 80_000, 103_000},
		"floor/goccy":         {313_000, 308_000, 451_000},
		"rxrealtime":          {393_000, 307_000, 466_000},
		"phx":                 {68_000, 62_000, 87_000},
		"realtime-js":         {144_000, 116_000, 170_000},
	},
	"1.0.0": {
		"source":              {4_970_000, 3_100_000, 6_900_000},
		"floor/encoding-json": {106_000, 106_300, 110_000},
		"floor/goccy":         {366_000, 351_000, 435_000},
		"rxrealtime":          {420_000, 407_000, 469_000},
		"phx":                 nil,
		"realtime-js":         {163_000, 159_000, 173_000},
	},
}

// fixtureLatency are the latency rounds in µs, [round][p50, p99, p999]
// (nil: the run failed).
var fixtureLatency = map[string]map[string][][3]int{
	"2.0.0": {
		"floor/goccy": {{66, 190, 652}, {70, 200, 700}, {64, 185, 640}},
		"rxrealtime":  {{92, 298, 989}, {95, 310, 1100}, {90, 290, 950}},
		"realtime-js": {{105, 243, 712}, {110, 250, 800}, {100, 240, 700}},
	},
	"1.0.0": {
		"floor/goccy": {{70, 207, 857}},
		"rxrealtime":  {{138, 385, 925}},
		"realtime-js": nil,
	},
}

var fixtureWhen = time.Date(2026, 12, 1, 18, 4, 0, 0, time.UTC)

func fixtureChart() chart {
	c := chart{
		when:    fixtureWhen,
		machine: "AMD EPYC, 2 cores, 24 GiB RAM, linux/amd64, go1.26.8, node v20.20.2",
		load:    "load average 1.00 at the start",
		command: "bench/compare.sh -rounds 3 -n 50000",
	}
	for _, vsn := range []string{"2.0.0", "1.0.0"} {
		s := chartSection{vsn: vsn, frames: 50_000, meanBytes: 905, rounds: 3, names: chartRunners, results: map[string]*series{}}
		for _, name := range chartRunners {
			ser := &series{name: name}
			rates := fixtureRates[vsn][name]
			for round := range 3 {
				if rates == nil {
					ser.add(outcome{err: errors.New("concurrent map iteration and map write")})
				} else {
					ser.add(ok(rates[round], 20_000))
				}
			}
			s.results[name] = ser
		}
		l := &latencyRun{frames: 50_000, rate: 10_000, rounds: 3, names: []string{"floor/goccy", "rxrealtime", "realtime-js"}, res: map[string]*latSeries{}}
		for _, name := range l.names {
			ls := &latSeries{}
			if fixtureLatency[vsn][name] == nil {
				ls.failed, ls.lastErr = 1, errors.New("boom")
			}
			for _, r := range fixtureLatency[vsn][name] {
				ls.lats = append(ls.lats, workload.Latency{P50: us3(r[0]), P99: us3(r[1]), P999: us3(r[2]), Max: us3(r[2] * 3)})
			}
			l.res[name] = ls
		}
		s.latency = l
		c.sections = append(c.sections, s)
	}
	return c
}

func us3(n int) time.Duration { return time.Duration(n) * time.Microsecond }

// node is any element of the SVG.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []node     `xml:",any"`
	Text    string     `xml:",chardata"`
}

func (n node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n node) num(t *testing.T, name string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(n.attr(name), 64)
	require.NoError(t, err, "%s %s=%q", n.XMLName.Local, name, n.attr(name))
	return f
}

// text is all the character data under n.
func (n node) text() string {
	s := n.Text
	for _, c := range n.Nodes {
		s += c.text()
	}
	return s
}

// found is an element with the serializer of the section it is in.
type found struct {
	node
	vsn string
}

// find returns every element under n (n included) that match accepts.
func find(n node, vsn string, match func(node) bool) []found {
	if n.attr("class") == "section" {
		vsn = n.attr("data-vsn")
	}
	var out []found
	if match(n) {
		out = append(out, found{n, vsn})
	}
	for _, c := range n.Nodes {
		out = append(out, find(c, vsn, match)...)
	}
	return out
}

func byClass(name, class string) func(node) bool {
	return func(n node) bool { return n.XMLName.Local == name && n.attr("class") == class }
}

// parseSVG checks that svg is one well-formed XML document and returns
// its root.
func parseSVG(t *testing.T, svg []byte) node {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	roots := 0
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "not well-formed XML")
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	require.Equal(t, 1, roots, "one root element")
	var root node
	require.NoError(t, xml.Unmarshal(svg, &root))
	return root
}

func renderFixture(t *testing.T) node {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, fixtureChart().writeSVG(&b))
	return parseSVG(t, b.Bytes())
}

func TestChartIsPlainSVG(t *testing.T) {
	root := renderFixture(t)
	assert.Equal(t, "svg", root.XMLName.Local)
	assert.Equal(t, "http://www.w3.org/2000/svg", root.XMLName.Space)
	w, h := root.num(t, "width"), root.num(t, "height")
	assert.Equal(t, "0 0 "+root.attr("width")+" "+root.attr("height"), root.attr("viewBox"))
	all := find(root, "", func(node) bool { return true })
	for _, n := range all {
		assert.NotEqual(t, "script", n.XMLName.Local)
		assert.NotEqual(t, "foreignObject", n.XMLName.Local)
		for _, a := range n.Attrs {
			assert.False(t, strings.HasPrefix(a.Name.Local, "on"), "event handler %s", a.Name.Local)
			assert.NotEqual(t, "href", a.Name.Local, "external reference")
		}
	}
	// Every section lies inside the picture.
	top := 0.0
	for _, s := range find(root, "", byClass("g", "section")) {
		y, err := translateY(s.attr("transform"))
		require.NoError(t, err)
		assert.Greater(t, y, top)
		top = y
	}
	assert.Less(t, top, h)
	assert.Positive(t, w)
}

// translateY reads the y of "translate(0 y)".
func translateY(s string) (float64, error) {
	rest, ok := strings.CutPrefix(s, "translate(0 ")
	if !ok || !strings.HasSuffix(rest, ")") {
		return 0, errors.New("not a translate(0 y): " + s)
	}
	return strconv.ParseFloat(strings.TrimSuffix(rest, ")"), 64)
}

func TestChartTitleSaysWhenWhereAndHow(t *testing.T) {
	root := renderFixture(t)
	var header []string
	for _, n := range root.Nodes {
		if n.XMLName.Local == "text" {
			header = append(header, n.text())
		}
	}
	all := strings.Join(header, "\n")
	for _, want := range []string{"2026-12-01 18:04 UTC", "AMD EPYC", "2 cores", "go1.26.8", "node v20.20.2",
		"load average 1.00", "$ bench/compare.sh -rounds 3 -n 50000"} {
		assert.Contains(t, all, want)
	}
}

func TestChartBarsAndLabels(t *testing.T) {
	root := renderFixture(t)
	bars := find(root, "", byClass("rect", "bar"))
	labels := find(root, "", byClass("text", "label"))
	missing := find(root, "", byClass("text", "missing"))
	count := func(fs []found, vsn string) (names []string) {
		for _, f := range fs {
			if f.vsn == vsn {
				names = append(names, f.attr("data-runner"))
			}
		}
		return names
	}
	// The source is not drawn; phx failed every 1.0.0 run: a label, no bar.
	assert.Equal(t, []string{"floor/encoding-json", "floor/goccy", "rxrealtime", "phx", "realtime-js"}, count(bars, "2.0.0"))
	assert.Equal(t, []string{"floor/encoding-json", "floor/goccy", "rxrealtime", "realtime-js"}, count(bars, "1.0.0"))
	assert.Equal(t, chartRunners[1:], count(labels, "2.0.0"))
	assert.Equal(t, chartRunners[1:], count(labels, "1.0.0"))
	require.Len(t, missing, 1)
	assert.Equal(t, "1.0.0", missing[0].vsn)
	assert.Equal(t, "failed", missing[0].text())
	assert.Len(t, find(root, "", byClass("g", "whisker")), len(bars))
	assert.Len(t, find(root, "", byClass("text", "value")), len(bars))

	// Labels run left to right in round order, each under its bar.
	barX := map[string]float64{}
	for _, b := range bars {
		barX[b.vsn+" "+b.attr("data-runner")] = b.num(t, "x") + b.num(t, "width")/2
	}
	for _, vsn := range []string{"2.0.0", "1.0.0"} {
		prev := 0.0
		for _, l := range labels {
			if l.vsn != vsn {
				continue
			}
			x := l.num(t, "x")
			assert.Greater(t, x, prev)
			prev = x
			if bx, ok := barX[vsn+" "+l.attr("data-runner")]; ok {
				assert.InDelta(t, bx, x, 0.2, "%s %s label under its bar", vsn, l.attr("data-runner"))
			}
		}
	}
}

func TestChartBarHeightsFollowTheValues(t *testing.T) {
	root := renderFixture(t)
	type bar struct {
		key               string
		median, lo, hi    float64
		y, height         float64
		whiskTop, whiskLo float64
		value             string
	}
	whiskers := map[string]found{}
	for _, w := range find(root, "", byClass("g", "whisker")) {
		whiskers[w.vsn+" "+w.attr("data-runner")] = w
	}
	var bars []bar
	for _, b := range find(root, "", byClass("rect", "bar")) {
		rates := fixtureRates[b.vsn][b.attr("data-runner")]
		require.Len(t, rates, 3)
		key := b.vsn + " " + b.attr("data-runner")
		w, ok := whiskers[key]
		require.True(t, ok, key)
		stem := w.Nodes[0]
		bars = append(bars, bar{
			key: key, median: median(rates), lo: slices.Min(rates), hi: slices.Max(rates),
			y: b.num(t, "y"), height: b.num(t, "height"),
			whiskTop: stem.num(t, "y1"), whiskLo: stem.num(t, "y2"),
		})
	}
	require.Len(t, bars, 9)
	baseline := bars[0].y + bars[0].height
	for _, b := range bars {
		assert.InDelta(t, baseline, b.y+b.height, 0.11, "%s stands on the baseline", b.key)
		// min ≤ median ≤ max: the whisker spans the bar's top.
		assert.LessOrEqual(t, b.whiskTop, b.y+0.05, b.key)
		assert.GreaterOrEqual(t, b.whiskLo, b.y-0.05, b.key)
		assert.Less(t, b.whiskTop, b.whiskLo, b.key)
	}
	// One scale for both serializers: a larger median is a taller bar, a
	// larger maximum a higher whisker, whatever the section.
	slices.SortFunc(bars, func(a, b bar) int { return int(a.median - b.median) })
	for i := 1; i < len(bars); i++ {
		assert.Greater(t, bars[i].height, bars[i-1].height, "%s (%.0f) taller than %s (%.0f)",
			bars[i].key, bars[i].median, bars[i-1].key, bars[i-1].median)
	}
	slices.SortFunc(bars, func(a, b bar) int { return int(a.hi - b.hi) })
	for i := 1; i < len(bars); i++ {
		assert.Less(t, bars[i].whiskTop, bars[i-1].whiskTop, "%s's max above %s's", bars[i].key, bars[i-1].key)
	}
	// Heights are proportional to the values (the axis starts at 0).
	slices.SortFunc(bars, func(a, b bar) int { return int(a.median - b.median) })
	hi, lo := bars[len(bars)-1], bars[0]
	assert.InDelta(t, hi.median/lo.median, hi.height/lo.height, 0.02)
}

func TestChartValueLabelsReadTheMedians(t *testing.T) {
	root := renderFixture(t)
	var got []string
	for _, v := range find(root, "", byClass("text", "value")) {
		if v.vsn == "2.0.0" {
			got = append(got, v.text())
		}
	}
	assert.Equal(t, []string{"95 k", "313 k", "393 k", "68 k", "144 k"}, got)
}

func TestChartLatencyPoints(t *testing.T) {
	root := renderFixture(t)
	points := find(root, "", byClass("circle", "lat-point"))
	type point struct {
		key string
		µs  int
		cy  float64
		x   float64
	}
	var ps []point
	per := map[string]int{}
	pctIndex := map[string]int{"p50": 0, "p99": 1, "p999": 2}
	for _, p := range points {
		name, pct := p.attr("data-runner"), p.attr("data-pct")
		rounds := fixtureLatency[p.vsn][name]
		require.NotEmpty(t, rounds, "%s %s drawn", p.vsn, name)
		var xs []int
		for _, r := range rounds {
			xs = append(xs, r[pctIndex[pct]])
		}
		slices.Sort(xs)
		ps = append(ps, point{key: p.vsn + " " + name + " " + pct, µs: xs[(len(xs)-1)/2], cy: p.num(t, "cy"), x: p.num(t, "cx")})
		per[p.vsn]++
	}
	// Three percentiles for each runner with a result; realtime-js failed
	// its 1.0.0 run.
	assert.Equal(t, map[string]int{"2.0.0": 9, "1.0.0": 6}, per)
	assert.Len(t, find(root, "", byClass("line", "lat-whisker")), 9, "whiskers where there are several rounds")
	legend := find(root, "", byClass("text", "legend"))
	assert.Len(t, legend, 6)
	// A longer latency is higher up, on one scale for both sections.
	slices.SortFunc(ps, func(a, b point) int { return a.µs - b.µs })
	for i := 1; i < len(ps); i++ {
		assert.Less(t, ps[i].cy, ps[i-1].cy, "%s (%d µs) above %s (%d µs)", ps[i].key, ps[i].µs, ps[i-1].key, ps[i-1].µs)
	}
	// p50, p99 and p999 run left to right.
	xOf := map[string]float64{}
	for _, p := range ps {
		xOf[p.key] = p.x
	}
	assert.Less(t, xOf["2.0.0 rxrealtime p50"], xOf["2.0.0 rxrealtime p99"])
	assert.Less(t, xOf["2.0.0 rxrealtime p99"], xOf["2.0.0 rxrealtime p999"])
}

func TestChartWithoutLatency(t *testing.T) {
	c := fixtureChart()
	for i := range c.sections {
		c.sections[i].latency = nil
	}
	var b bytes.Buffer
	require.NoError(t, c.writeSVG(&b))
	root := parseSVG(t, b.Bytes())
	assert.Empty(t, find(root, "", byClass("circle", "lat-point")))
	assert.Len(t, find(root, "", byClass("rect", "bar")), 9)
	assert.Contains(t, b.String(), "not measured (-latency-rate 0)")
}

func TestChartEscapesText(t *testing.T) {
	c := fixtureChart()
	c.command = `bench/compare.sh -runners 'a<b>&"c"'`
	var b bytes.Buffer
	require.NoError(t, c.writeSVG(&b))
	root := parseSVG(t, b.Bytes())
	var texts []string
	for _, n := range find(root, "", byClass("text", "command")) {
		texts = append(texts, n.text())
	}
	assert.Equal(t, []string{`$ bench/compare.sh -runners 'a<b>&"c"'`}, texts)
}

func TestScales(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{{0.9, 1}, {1, 1}, {1.1, 2}, {2.2, 2.5}, {3, 5}, {6, 10}, {110_000, 200_000}, {95_000, 100_000}} {
		assert.InDelta(t, tc.want, niceStep(tc.in), 1e-9, "niceStep(%v)", tc.in)
	}
	c := fixtureChart()
	s := c.tputScale()
	assert.Equal(t, 0.0, s.ticks[0])
	assert.GreaterOrEqual(t, s.top, 469_000.0)
	assert.Equal(t, s.top, s.ticks[len(s.ticks)-1])
	assert.InDelta(t, float64(plotBottom), s.y(0), 1e-9)
	assert.InDelta(t, float64(plotTop), s.y(s.top), 1e-9)

	l := c.latScale()
	assert.Equal(t, 50*time.Microsecond, l.lo) // below the lowest p50, 64 µs
	assert.Equal(t, 2*time.Millisecond, l.hi)  // above the highest p999, 1.1 ms
	assert.Equal(t, []time.Duration{50e3, 100e3, 200e3, 500e3, 1e6, 2e6}, l.ticks)
	assert.InDelta(t, float64(plotBottom), l.y(l.lo), 1e-9)
	assert.InDelta(t, float64(plotTop), l.y(l.hi), 1e-9)

	// Over more than two decades, a tick at each power of ten only.
	c.sections[1].latency.res["realtime-js"].lats = []workload.Latency{{P50: us3(133), P99: 123_140 * time.Microsecond, P999: us3(146_330)}}
	c.sections[0].latency.res["floor/goccy"].lats = []workload.Latency{{P50: us3(37), P99: us3(2760), P999: us3(4940)}}
	l = c.latScale()
	assert.Equal(t, 10*time.Microsecond, l.lo)
	assert.Equal(t, time.Second, l.hi)
	assert.Equal(t, []time.Duration{10e3, 100e3, 1e6, 10e6, 100e6, 1e9}, l.ticks)
	var b bytes.Buffer
	require.NoError(t, c.writeSVG(&b))
	parseSVG(t, b.Bytes())
}

func TestLabels(t *testing.T) {
	assert.Equal(t, "0", tickLabel(0))
	assert.Equal(t, "250 k", tickLabel(250_000))
	assert.Equal(t, "1.5 M", tickLabel(1_500_000))
	assert.Equal(t, "394 k", kilo(393_745))
	assert.Equal(t, "4.48 M", kilo(4_482_958))
	assert.Equal(t, "92 µs", durLabel(92*time.Microsecond+400))
	assert.Equal(t, "1.53 ms", durLabel(1_534_000))
	assert.Equal(t, "2 ms", durLabel(2*time.Millisecond))
	assert.Equal(t, "36.1 ms", durLabel(36_140*time.Microsecond))
	assert.Equal(t, "123 ms", durLabel(123_140*time.Microsecond))
	assert.Equal(t, "1.5 s", durLabel(1500*time.Millisecond))
	assert.Equal(t, "1,234,567", commas(1_234_567))
	assert.Equal(t, "999", commas(999))
	assert.Equal(t, "-1,000", commas(-1000))
}

func TestCommandLineAndSVGPath(t *testing.T) {
	assert.Equal(t, "go run ./compare", commandLine("", nil))
	assert.Equal(t, "bench/compare.sh -rounds 3 -n 50000 -runners source,floor/goccy",
		commandLine("bench/compare.sh", []string{"-rounds", "3", "-n", "50000", "-runners", "source,floor/goccy"}))
	assert.Equal(t, `go run ./compare -svg 'my chart.svg' 'it'\''s'`, commandLine("", []string{"-svg", "my chart.svg", "it's"}))

	assert.Equal(t, "/repo/bench/compare.svg", output{}.svgPath("/repo/bench/peers"))
	assert.Equal(t, "", output{svg: "off"}.svgPath("/repo/bench/peers"))
	assert.Equal(t, "/home/me/x.svg", output{svg: "x.svg", wd: "/home/me"}.svgPath("/repo/bench/peers"))
	assert.Equal(t, "x.svg", output{svg: "x.svg"}.svgPath("/repo/bench/peers"))
	assert.Equal(t, "/tmp/x.svg", output{svg: "/tmp/x.svg", wd: "/home/me"}.svgPath("/repo/bench/peers"))
}
