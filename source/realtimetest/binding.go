package realtimetest

import (
	"encoding/json"
	"errors"
	"hash/fnv"
	"strconv"
	"strings"
)

// binding is one postgres_changes subscription of a channel.
type binding struct {
	raw    record // the client's map, echoed in the join reply
	id     int64  // integer id, as :erlang.phash2/1 gives in the real server
	event  string // "*", "INSERT", "UPDATE" or "DELETE"
	schema string // may be "*"
	table  string // may be "*"
	conds  []condition
	sel    []string // nil: all columns
}

// maxBindingID bounds binding ids to the range of :erlang.phash2/1.
const maxBindingID = 1<<27 - 1

// bindingID derives a stable integer id from the binding's content, so equal
// bindings get equal ids (as with phash2) across channels.
func bindingID(raw []byte) int64 {
	canon, err := canonicalJSON(raw)
	if err != nil {
		canon = raw
	}
	h := fnv.New32a()
	h.Write(canon)
	return int64(h.Sum32() & maxBindingID)
}

// parseBinding reads one postgres_changes entry like
// Subscriptions.parse_subscription_params/1. On error the binding keeps its
// raw map and id (they still appear in the join reply) and the returned text
// is the message of the "postgres_changes" system error.
func parseBinding(r record) (binding, string) {
	b := binding{raw: r, id: bindingID(r.appendJSON(nil, nil)), event: "*"}

	str := func(key string) (string, bool, bool) { // value, present, isString
		raw, ok := r.get(key)
		if !ok {
			return "", false, false
		}
		var s string
		if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			return "", true, false
		}
		return s, true, true
	}

	if ev, _, ok := str("event"); ok {
		switch up := strings.ToUpper(ev); up {
		case "INSERT", "UPDATE", "DELETE":
			b.event = up
		}
	}

	if raw, ok := r.get("select"); ok {
		switch {
		case len(raw) > 0 && raw[0] == '[':
			var items []json.RawMessage
			if json.Unmarshal(raw, &items) == nil {
				for _, it := range items {
					var s string
					if len(it) > 0 && it[0] == '"' && json.Unmarshal(it, &s) == nil {
						b.sel = append(b.sel, s)
					}
				}
			}
		case len(raw) > 0 && raw[0] == '"':
			return b, "Error parsing `select` params: expected a list of column name strings, e.g. select: [\"col1\", \"col2\"]"
		}
	}

	schema, hasSchema, schemaStr := str("schema")
	table, hasTable, tableStr := str("table")
	filter, hasFilter, filterStr := str("filter")
	switch {
	case schemaStr && tableStr && filterStr:
		conds, err := parseFilter(filter)
		if err != nil {
			return b, "Error parsing `filter` params: " + err.Error()
		}
		b.schema, b.table, b.conds = schema, table, conds
	case schemaStr && tableStr && !hasFilter:
		b.schema, b.table = schema, table
	case schemaStr && !hasTable && !hasFilter:
		b.schema, b.table = schema, "*"
	case tableStr && !hasSchema && !hasFilter:
		b.schema, b.table = "public", table
	default:
		if _, ok := r.get("user_token"); ok {
			return b, noParamsMsg + "<redacted>"
		}
		if _, ok := r.get("auth_token"); ok {
			return b, noParamsMsg + "<redacted>"
		}
		return b, noParamsMsg + inspectJSON(r.appendJSON(nil, nil))
	}
	if b.sel != nil && (b.schema == "*" || b.table == "*") {
		return b, "Column selection is not supported for wildcard subscriptions. Provide an explicit schema and table name."
	}
	return b, ""
}

const noParamsMsg = "No subscription params provided. Please provide at least a `schema` or `table` to subscribe to: "

// replyJSON renders the binding as the join reply lists it: the client's map
// plus the integer "id" (first, as the real server's atom key sorts first).
func (b *binding) replyJSON(dst []byte) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendInt(dst, b.id, 10)
	inner := b.raw.appendJSON(nil, func(k string) bool { return k != "id" })
	if len(inner) > 2 {
		dst = append(dst, ',')
		dst = append(dst, inner[1:len(inner)-1]...)
	}
	return append(dst, '}')
}

// matches reports whether the change passes the binding's event, schema,
// table and filters. Filters see the new record, and for DELETE the old one
// (apply_rls.sql).
func (b *binding) matches(c *change) bool {
	if b.event != "*" && b.event != c.typ {
		return false
	}
	if b.schema != "*" && b.schema != c.schema {
		return false
	}
	if b.table != "*" && b.table != c.table {
		return false
	}
	if len(b.conds) == 0 {
		return true
	}
	if c.typ != "DELETE" && visible(b.conds, c.record, c.types) {
		return true
	}
	return c.typ == "DELETE" && visible(b.conds, c.oldRecord, c.types)
}

// selectKey identifies the column selection of a binding ("" for all).
func (b *binding) selectKey() string {
	if b.sel == nil {
		return ""
	}
	return "\x00" + strings.Join(b.sel, "\x00")
}

// errBindingNotObject is the join failure for a non-map postgres_changes
// entry; its text follows "UnknownErrorOnChannel: expected a map, got: ".
var errBindingNotObject = errors.New("postgres_changes entry is not an object")
