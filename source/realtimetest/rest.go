package realtimetest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// maxRESTBody bounds a REST request body.
const maxRESTBody = 8 << 20

// writeJSON answers with status and a JSON body.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func messageBody(msg string) []byte {
	return append(append([]byte(`{"message":`), appendString(nil, msg)...), '}')
}

// restGate runs the plugs in front of both broadcast endpoints: tenant,
// rate limiter (with its x-rate-* headers) and AuthTenant. It reports
// whether the request may proceed; if not, it has answered.
func (s *Server) restGate(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.tenant != "" && tenantOf(r.Host) != s.cfg.tenant {
		writeJSON(w, http.StatusUnauthorized, messageBody("Tenant not found in database"))
		return false
	}
	s.mu.Lock()
	avg := int(s.events.avg(time.Now()))
	s.mu.Unlock()
	maxEv := int(s.cfg.maxEventsPerSecond)
	w.Header().Set("x-rate-rolling", strconv.Itoa(avg))
	w.Header().Set("x-rate-limit", strconv.Itoa(maxEv))
	w.Header().Set("x-rate-limit-remaining", strconv.Itoa(maxEv-avg))
	if avg >= maxEv {
		writeJSON(w, http.StatusTooManyRequests, messageBody("Too many requests"))
		return false
	}
	token, ok := restToken(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, messageBody("Unauthorized"))
		return false
	}
	if s.cfg.jwtSecret != nil {
		if _, terr := verifyToken(token, s.cfg.jwtSecret, time.Now()); terr != nil {
			writeJSON(w, http.StatusUnauthorized, messageBody("Unauthorized"))
			return false
		}
	}
	return true
}

// restToken returns the token of a REST request as the broadcast endpoints
// read it: an "Authorization: Bearer <token>" header, else the apikey
// header.
func restToken(r *http.Request) (string, bool) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		if scheme, tok, found := strings.Cut(auth, " "); found && strings.EqualFold(scheme, "bearer") && !strings.Contains(tok, " ") {
			return tok, true
		}
	}
	if vals := r.Header.Values("apikey"); len(vals) > 0 {
		return vals[0], true
	}
	return "", false
}

// readJSONBody reads a JSON body as Plug.Parsers does: an object as it is,
// another JSON value wrapped as {"_json": value}, an empty body as {}. ok is
// false (and the request answered with 400) for invalid JSON.
func readJSONBody(w http.ResponseWriter, r *http.Request) (record, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRESTBody))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, []byte(`"Bad Request"`))
		return nil, false
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return record{}, true
	}
	if !json.Valid(body) {
		writeJSON(w, http.StatusBadRequest, []byte(`"Bad Request"`))
		return nil, false
	}
	if obj, err := parseObject(body); err == nil && obj != nil {
		return obj, true
	}
	var buf bytes.Buffer
	_ = json.Compact(&buf, body)
	return record{{name: "_json", raw: buf.Bytes()}}, true
}

// mediaType returns the lower-cased media type of the request, "" if none.
func mediaType(r *http.Request) (string, bool) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return "", true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", false
	}
	return strings.ToLower(mt), true
}

var uuidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

// batchMessage is one validated message of POST /api/broadcast.
type batchMessage struct {
	topic, event, id string
	payload          []byte
	private          bool
}

// serveBatchBroadcast implements POST /api/broadcast (BroadcastController).
func (s *Server) serveBatchBroadcast(w http.ResponseWriter, r *http.Request) {
	var body record
	if mt, _ := mediaType(r); mt == "application/json" {
		var ok bool
		if body, ok = readJSONBody(w, r); !ok {
			return
		}
	}
	if !s.restGate(w, r) {
		return
	}
	raw, present := body.get("messages")
	if !present || string(raw) == "null" {
		writeJSON(w, http.StatusUnprocessableEntity, []byte(`{"errors":{"messages":["can't be blank"]}}`))
		return
	}
	var items []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		writeJSON(w, http.StatusUnprocessableEntity, []byte(`{"errors":{"messages":["is invalid"]}}`))
		return
	}
	msgs := make([]batchMessage, 0, len(items))
	errs := make([][]byte, 0, len(items))
	invalid := false
	for _, it := range items {
		obj, err := parseObject(it)
		if err != nil || obj == nil {
			writeJSON(w, http.StatusUnprocessableEntity, []byte(`{"errors":{"messages":["is invalid"]}}`))
			return
		}
		m, e := s.validateBatchMessage(obj)
		if len(e) > 2 {
			invalid = true
		}
		msgs = append(msgs, m)
		errs = append(errs, e)
	}
	if invalid {
		out := []byte(`{"errors":{"messages":[`)
		for i, e := range errs {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, e...)
		}
		writeJSON(w, http.StatusUnprocessableEntity, append(out, "]}}"...))
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	avg := s.events.avg(time.Now())
	switch {
	case avg > s.cfg.maxEventsPerSecond:
		writeJSON(w, http.StatusTooManyRequests, messageBody("You have exceeded your rate limit"))
		return
	case float64(len(msgs))+avg > s.cfg.maxEventsPerSecond:
		writeJSON(w, http.StatusTooManyRequests, messageBody("Too many messages to broadcast, please reduce the batch size"))
		return
	}
	// Public messages first, then private ones grouped by topic.
	var private []batchMessage
	for _, m := range msgs {
		if m.private {
			private = append(private, m)
			continue
		}
		s.restBroadcastJSON(m)
	}
	slices.SortStableFunc(private, func(a, b batchMessage) int { return strings.Compare(a.topic, b.topic) })
	for _, m := range private {
		s.restBroadcastJSON(m)
	}
	w.WriteHeader(http.StatusAccepted)
}

// validateBatchMessage checks one message as BatchBroadcast's changeset
// does and renders its error object ({} when valid), keys sorted.
func (s *Server) validateBatchMessage(obj record) (batchMessage, []byte) {
	var m batchMessage
	errs := map[string]string{}
	strField := func(key string, dst *string) {
		raw, ok := obj.get(key)
		if !ok || string(raw) == "null" {
			errs[key] = "can't be blank"
			return
		}
		v, isStr := jsonString(raw, true)
		switch {
		case !isStr:
			errs[key] = "is invalid"
		case strings.TrimSpace(v) == "":
			errs[key] = "can't be blank"
		default:
			*dst = v
		}
	}
	strField("topic", &m.topic)
	strField("event", &m.event)
	if raw, ok := obj.get("payload"); !ok || string(raw) == "null" {
		errs["payload"] = "can't be blank"
	} else if !isObject(raw) {
		errs["payload"] = "is invalid"
	} else if len(raw) > s.cfg.maxPayloadBytes {
		errs["payload"] = "Payload size exceeds tenant limit"
	} else {
		m.payload = raw
	}
	if raw, ok := obj.get("private"); ok && string(raw) != "null" {
		switch v, isStr := jsonString(raw, true); {
		case string(raw) == "true" || isStr && (v == "true" || v == "1"):
			m.private = true
		case string(raw) == "false" || isStr && (v == "false" || v == "0"):
		default:
			errs["private"] = "is invalid"
		}
	}
	if raw, ok := obj.get("id"); ok && string(raw) != "null" {
		if v, isStr := jsonString(raw, true); isStr && uuidRe.MatchString(v) {
			m.id = v
		} else {
			errs["id"] = "is invalid"
		}
	}
	keys := make([]string, 0, len(errs))
	for k := range errs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendString(out, k)
		out = append(out, ":["...)
		out = appendString(out, errs[k])
		out = append(out, ']')
	}
	return m, append(out, '}')
}

// restBroadcastJSON fans out one REST batch message as a JSON broadcast:
// {"event":E,"meta":{"id":ID},"payload":P,"type":"broadcast"}. The caller
// holds s.mu.
func (s *Server) restBroadcastJSON(m batchMessage) {
	s.countEvent(1)
	p := append(make([]byte, 0, len(m.payload)+64), `{"event":`...)
	p = appendString(p, m.event)
	if m.id != "" {
		p = append(p, `,"meta":{"id":`...)
		p = appendString(p, m.id)
		p = append(p, '}')
	}
	p = append(p, `,"payload":`...)
	p = append(p, m.payload...)
	p = append(p, `,"type":"broadcast"}`...)
	msg := &phoenix.Message{Topic: "realtime:" + m.topic, Event: phoenix.EventBroadcast, Payload: p}
	s.fanoutBroadcast(pubsubTopic(m.topic, m.private), nil, fanout{v1: msg, v2: msg, id: m.id})
}

// serveSingleBroadcast implements POST /api/broadcast/:topic/events/:event
// (BroadcastSingleController): a JSON or binary body sent as a user
// broadcast, binary kind 4 to vsn 2.0.0 sockets.
func (s *Server) serveSingleBroadcast(w http.ResponseWriter, r *http.Request) {
	mt, ok := mediaType(r)
	if !ok || mt != "" && mt != "application/json" && mt != "application/octet-stream" {
		writeJSON(w, http.StatusUnsupportedMediaType,
			[]byte(`{"error":"Unsupported Media Type. Use application/json or application/octet-stream"}`))
		return
	}
	var (
		payload []byte
		binary  = mt == "application/octet-stream"
	)
	switch mt {
	case "application/json":
		body, ok := readJSONBody(w, r)
		if !ok {
			return
		}
		payload = body.appendJSON(nil, nil)
	case "application/octet-stream":
		b, err := io.ReadAll(io.LimitReader(r.Body, maxRESTBody))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, []byte(`"Bad Request"`))
			return
		}
		payload = b
	default:
		payload = []byte("{}") // no content type: nothing is parsed
	}
	if !s.restGate(w, r) {
		return
	}
	topic, event := r.PathValue("topic"), r.PathValue("event")
	q := r.URL.Query()
	private := q.Get("private") == "true"
	persist, ttl, ttlOK := restPersist(q)
	var errs []string // the changeset's errors, keys sorted
	if len(payload) > s.cfg.maxPayloadBytes {
		errs = append(errs, `"payload":["Payload size exceeds tenant limit"]`)
	}
	switch {
	case !ttlOK:
		errs = append(errs, `"persist":["is invalid"]`)
	case persist && !private:
		errs = append(errs, `"persist":["can only be used on private channels"]`)
	}
	if len(errs) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, []byte(`{"errors":{`+strings.Join(errs, ",")+`}}`))
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.events.avg(time.Now()) >= s.cfg.maxEventsPerSecond {
		writeJSON(w, http.StatusTooManyRequests, messageBody("You have exceeded your rate limit"))
		return
	}
	s.countEvent(1)
	full := "realtime:" + topic
	f := fanout{v2: &phoenix.Message{Kind: phoenix.KindUserBroadcast, Topic: full, Event: phoenix.EventBroadcast,
		UserEvent: event, Payload: payload, Binary: binary}}
	if !binary {
		f.v1 = &phoenix.Message{Topic: full, Event: phoenix.EventBroadcast, UserEvent: event, Payload: payload}
	}
	s.fanoutBroadcast(pubsubTopic(topic, private), nil, f)
	if persist { // delivered first, then stored; the live copy has no id
		b := StoredBroadcast{Topic: topic, Event: event, Payload: append([]byte(nil), payload...), Binary: binary,
			InsertedAt: time.Now()}
		if ttl > 0 {
			b.ExpiresAt = b.InsertedAt.Add(ttl)
		}
		s.store(b)
	}
	w.WriteHeader(http.StatusAccepted)
}
