package realtimetest

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// pgrstError answers with a PostgREST error object: {"code", "details",
// "hint", "message"}, details and hint null when empty.
func pgrstError(w http.ResponseWriter, status int, code, message, details, hint string) {
	b := append([]byte(`{"code":`), appendString(nil, code)...)
	b = append(b, `,"details":`...)
	b = appendNullableString(b, details)
	b = append(b, `,"hint":`...)
	b = appendNullableString(b, hint)
	b = append(b, `,"message":`...)
	b = appendString(b, message)
	writeJSON(w, status, append(b, '}'))
}

func appendNullableString(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

// unsupportedHint is the hint of the 400 errors for requests the emulator
// does not serve, so that a test can tell them from PostgREST's own.
const unsupportedHint = "realtimetest serves select=* or plain column lists, column=op.value filters, order, limit, offset and Range"

// plainColumn is a column name the emulator accepts in select and order.
var plainColumn = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*$`)

// rangeHeader is the syntax of a Range header PostgREST honours; others
// are ignored.
var rangeHeader = regexp.MustCompile(`^([0-9]+)-([0-9]*)$`)

// orderKey is one item of an order parameter.
type orderKey struct {
	column     string
	desc       bool
	nullsFirst bool
}

// tableQuery is a parsed GET /rest/v1/<table> request.
type tableQuery struct {
	sel     []string // nil: every column
	conds   []condition
	order   []orderKey
	lo, end int // rows lo up to end (exclusive); end < 0: no upper bound
	count   bool
}

// servePostgREST implements GET (and HEAD) /rest/v1/<table>: a read of the
// server's copy of a table, as PostgREST answers it (see the package doc,
// "Table reads").
func (s *Server) servePostgREST(w http.ResponseWriter, r *http.Request) {
	token, ok := restToken(r)
	if vals := r.URL.Query()["apikey"]; !ok && len(vals) > 0 {
		token, ok = vals[0], true // the API gateway also takes the key from the query
	}
	if !ok {
		writeJSON(w, http.StatusUnauthorized, messageBody("No API key found in request"))
		return
	}
	if s.cfg.jwtSecret != nil {
		if _, terr := verifyToken(token, s.cfg.jwtSecret, time.Now()); terr != nil {
			code, msg := "PGRST301", terr.Error()
			if terr.kind == tokExpired {
				code, msg = "PGRST303", "JWT expired"
			}
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description=`+strconv.Quote(msg))
			pgrstError(w, http.StatusUnauthorized, code, msg, "", "")
			return
		}
	}
	q, ok := parseTableQuery(w, r)
	if !ok {
		return
	}
	schema := r.Header.Get("Accept-Profile")
	if schema == "" {
		schema = "public"
	}
	name := r.PathValue("table")

	s.mu.Lock()
	t := s.tables[tableKey{schema, name}]
	var cols []Column
	var rows []record
	if t != nil {
		cols, rows = t.columns, slices.Clone(t.rows) // rows are replaced, never changed in place
	}
	s.mu.Unlock()
	if t == nil {
		pgrstError(w, http.StatusNotFound, "PGRST205",
			"Could not find the table '"+schema+"."+name+"' in the schema cache", "", "")
		return
	}

	types := make(map[string]string, len(cols))
	for _, c := range cols {
		types[c.Name] = c.Type
	}
	known := func(col string) bool {
		if _, ok := types[col]; ok {
			return true
		}
		return slices.ContainsFunc(rows, func(row record) bool { _, ok := row.get(col); return ok })
	}
	var asked []string
	asked = append(asked, q.sel...)
	for _, c := range q.conds {
		asked = append(asked, c.column)
	}
	for _, o := range q.order {
		asked = append(asked, o.column)
	}
	for _, col := range asked {
		if !known(col) {
			pgrstError(w, http.StatusBadRequest, "42703", "column "+name+"."+col+" does not exist", "", "")
			return
		}
	}

	match := rows[:0:0]
	for _, row := range rows {
		if visible(q.conds, row, types) {
			match = append(match, row)
		}
	}
	if len(q.order) > 0 {
		slices.SortStableFunc(match, func(a, b record) int { return compareRows(a, b, q.order, types) })
	}

	total := len(match)
	page := match[:0]
	if end := total; q.lo < total {
		if q.end >= 0 && q.end < end {
			end = q.end
		}
		if end > q.lo {
			page = match[q.lo:end]
		}
	}
	totalText := "*"
	if q.count {
		totalText = strconv.Itoa(total)
	}
	if len(page) > 0 {
		w.Header().Set("Content-Range", strconv.Itoa(q.lo)+"-"+strconv.Itoa(q.lo+len(page)-1)+"/"+totalText)
	} else {
		w.Header().Set("Content-Range", "*/"+totalText)
	}
	status := http.StatusOK
	if q.count {
		switch {
		case q.lo > total:
			pgrstError(w, http.StatusRequestedRangeNotSatisfiable, "PGRST103", "Requested range not satisfiable",
				"An offset of "+strconv.Itoa(q.lo)+" was requested, but there are only "+strconv.Itoa(total)+" rows.", "")
			return
		case len(page) < total:
			status = http.StatusPartialContent
		}
	}

	b := []byte{'['}
	for i, row := range page {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendRow(b, row, cols, q.sel)
	}
	writeJSON(w, status, append(b, ']'))
}

// parseTableQuery reads select, order, limit, offset, the filters, the
// Range header and Prefer: count=. ok is false (and the request answered
// with a 400 or 416) for what PostgREST would refuse or the emulator does
// not serve.
func parseTableQuery(w http.ResponseWriter, r *http.Request) (tableQuery, bool) {
	q := tableQuery{end: -1}
	values := r.URL.Query()
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys) // errors in a stable order
	limit := -1
	for _, k := range keys {
		vs := values[k]
		v := vs[len(vs)-1]
		switch k {
		case "select":
			if v == "*" || v == "" {
				continue
			}
			for _, item := range strings.Split(v, ",") {
				item = strings.TrimSpace(item)
				if !plainColumn.MatchString(item) {
					pgrstError(w, http.StatusBadRequest, "PGRST100", "failed to parse select parameter ("+v+")",
						"unsupported select item "+strconv.Quote(item), unsupportedHint)
					return q, false
				}
				q.sel = append(q.sel, item)
			}
		case "order":
			for _, item := range strings.Split(v, ",") {
				o, ok := parseOrderKey(strings.TrimSpace(item))
				if !ok {
					pgrstError(w, http.StatusBadRequest, "PGRST100", "failed to parse order ("+v+")",
						"unsupported order item "+strconv.Quote(item), unsupportedHint)
					return q, false
				}
				q.order = append(q.order, o)
			}
		case "limit", "offset":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				pgrstError(w, http.StatusBadRequest, "PGRST100", "failed to parse "+k+" parameter ("+v+")",
					k+" must be a non-negative integer", "")
				return q, false
			}
			if k == "offset" {
				q.lo = n
			} else {
				limit = n
			}
		case "apikey":
			// The API gateway's key parameter, not a filter.
		case "or", "and", "not.or", "not.and":
			pgrstError(w, http.StatusBadRequest, "PGRST100", "failed to parse logic tree ("+v+")",
				"logic trees are not supported", unsupportedHint)
			return q, false
		default:
			for _, v := range vs {
				c, err := parseSegment(k + "=" + v)
				if err != nil {
					pgrstError(w, http.StatusBadRequest, "PGRST100", "failed to parse filter ("+v+")",
						"unsupported filter on "+strconv.Quote(k), unsupportedHint)
					return q, false
				}
				q.conds = append(q.conds, c)
			}
		}
	}
	if limit >= 0 {
		q.end = q.lo + limit
	}
	// A Range header is intersected with limit and offset.
	if m := rangeHeader.FindStringSubmatch(r.Header.Get("Range")); m != nil {
		lo, _ := strconv.Atoi(m[1])
		q.lo = max(q.lo, lo)
		if m[2] != "" {
			hi, _ := strconv.Atoi(m[2])
			if hi < lo {
				pgrstError(w, http.StatusRequestedRangeNotSatisfiable, "PGRST103", "Requested range not satisfiable",
					"The lower boundary must be lower than or equal to the upper boundary in the Range header.", "")
				return q, false
			}
			if q.end < 0 || hi+1 < q.end {
				q.end = hi + 1
			}
		}
	}
	for _, p := range r.Header.Values("Prefer") {
		for _, item := range strings.Split(p, ",") {
			switch strings.TrimSpace(item) {
			case "count=exact", "count=planned", "count=estimated":
				q.count = true
			}
		}
	}
	return q, true
}

// parseOrderKey reads column[.asc|.desc][.nullsfirst|.nullslast].
func parseOrderKey(item string) (orderKey, bool) {
	parts := strings.Split(item, ".")
	o := orderKey{column: parts[0]}
	if !plainColumn.MatchString(o.column) || len(parts) > 3 {
		return o, false
	}
	nulls := ""
	for i, p := range parts[1:] {
		switch {
		case i == 0 && (p == "asc" || p == "desc"):
			o.desc = p == "desc"
		case nulls == "" && (p == "nullsfirst" || p == "nullslast"):
			nulls = p
		default:
			return o, false
		}
	}
	// Postgres puts nulls last when ascending and first when descending.
	o.nullsFirst = nulls == "nullsfirst" || nulls == "" && o.desc
	return o, true
}

// compareRows orders two rows by the order keys.
func compareRows(a, b record, order []orderKey, types map[string]string) int {
	for _, o := range order {
		ra, _ := a.get(o.column)
		rb, _ := b.get(o.column)
		va, nullA := jsonText(ra)
		vb, nullB := jsonText(rb)
		var c int
		switch {
		case nullA && nullB:
			continue
		case nullA || nullB:
			c = 1
			if nullA == o.nullsFirst {
				c = -1
			}
			return c
		}
		cmp, ok := compareValues(kindOf(types[o.column], ra), va, vb)
		if !ok {
			cmp = strings.Compare(va, vb)
		}
		if o.desc {
			cmp = -cmp
		}
		if cmp != 0 {
			return cmp
		}
	}
	return 0
}

// appendRow renders a row: with sel, those columns in that order; without,
// the table's columns, then the row's other fields. A column the row lacks
// is null.
func appendRow(b []byte, row record, cols []Column, sel []string) []byte {
	b = append(b, '{')
	n := 0
	put := func(name string, raw json.RawMessage) {
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = appendString(b, name)
		b = append(b, ':')
		if raw == nil {
			raw = json.RawMessage("null")
		}
		b = append(b, raw...)
	}
	if sel != nil {
		for _, name := range sel {
			raw, _ := row.get(name)
			put(name, raw)
		}
		return append(b, '}')
	}
	for _, c := range cols {
		raw, _ := row.get(c.Name)
		put(c.Name, raw)
	}
	for _, f := range row {
		if !slices.ContainsFunc(cols, func(c Column) bool { return c.Name == f.name }) {
			put(f.name, f.raw)
		}
	}
	return append(b, '}')
}
