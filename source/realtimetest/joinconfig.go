package realtimetest

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// joinConfig is what the server takes from a phx_join payload
// (RealtimeWeb.Channels.Payloads.Join and RealtimeChannel.join/3). Invalid
// fields fall back to their defaults, as the real server applies the valid
// subset of an invalid payload.
type joinConfig struct {
	hasConfig        bool // "config" key present (new API)
	self, ack        bool
	replicationReady bool
	hasReplay        bool
	replay           json.RawMessage
	presenceEnabled  bool
	presenceKey      string // "" means: generate one
	private          bool
	pgChanges        []record
	// pgWait is postgres_changes_options.wait; pgWaitTimeout its timeout
	// (default 15 s, clamped to 20 s; a non-positive or non-integer
	// timeout is invalid and falls back to the default).
	pgWait        bool
	pgWaitTimeout time.Duration
	// pgCrash is set when a postgres_changes entry is not an object: the
	// real join crashes with "UnknownErrorOnChannel: expected a map, got: X".
	pgCrash string

	// token choice: userToken / accessToken when they are JSON strings.
	accessToken, userToken       string
	hasAccessToken, hasUserToken bool
	// sbToken reports that the chosen token starts with "sb_" (ignored: the
	// socket's apikey is used instead).
	sbToken bool
}

// parseJoin reads a phx_join payload. It never fails.
func parseJoin(payload []byte) joinConfig {
	var jc joinConfig
	top, _ := parseObject(payload)
	if raw, ok := top.get("config"); ok {
		jc.hasConfig = true
		cfg, _ := parseObject(raw)
		jc.private = flexBool(cfg, "private")
		if raw, ok := cfg.get("broadcast"); ok {
			bc, _ := parseObject(raw)
			jc.self = flexBool(bc, "self")
			jc.ack = flexBool(bc, "ack")
			jc.replicationReady = flexBool(bc, "replication_ready")
			jc.replay, jc.hasReplay = bc.get("replay")
		}
		if raw, ok := cfg.get("postgres_changes_options"); ok {
			po, _ := parseObject(raw)
			jc.pgWait = flexBool(po, "wait")
			jc.pgWaitTimeout = DefaultPostgresWaitTimeout
			if t, ok := po.get("timeout"); ok {
				if v, isNum, isInt := jsonNumber(t); isNum && isInt && v > 0 {
					jc.pgWaitTimeout = time.Duration(min(v, float64(MaxPostgresWaitTimeout/time.Millisecond))) * time.Millisecond
				}
			}
		}
		if raw, ok := cfg.get("presence"); ok {
			pc, _ := parseObject(raw)
			jc.presenceEnabled = flexBool(pc, "enabled")
			if k, ok := pc.get("key"); ok {
				jc.presenceKey = presenceKeyOf(k)
			}
		}
		if raw, ok := cfg.get("postgres_changes"); ok {
			var items []json.RawMessage
			if len(raw) > 0 && raw[0] == '[' && json.Unmarshal(raw, &items) == nil {
				for _, it := range items {
					if string(bytes.TrimSpace(it)) == "null" {
						continue
					}
					r, err := parseObject(it)
					if err != nil {
						if jc.pgCrash == "" {
							jc.pgCrash = "expected a map, got: " + inspectJSON(it)
						}
						continue
					}
					jc.pgChanges = append(jc.pgChanges, r)
				}
			}
		}
	}

	at, atOK := top.get("access_token")
	ut, utOK := top.get("user_token")
	jc.accessToken, jc.hasAccessToken = jsonString(at, atOK)
	jc.userToken, jc.hasUserToken = jsonString(ut, utOK)
	// access_token || user_token: the first that is neither null nor false.
	first := at
	if !atOK || isNullOrFalse(at) {
		first = ut
	}
	if s, ok := jsonString(first, true); ok && strings.HasPrefix(s, "sb_") {
		jc.sbToken = true
	}
	return jc
}

// token returns the token a channel authorizes with: user_token, then
// access_token, then the socket's apikey (also when the token starts with
// "sb_").
func (jc *joinConfig) token(socketToken string) string {
	switch {
	case jc.sbToken:
		return socketToken
	case jc.hasUserToken:
		return jc.userToken
	case jc.hasAccessToken:
		return jc.accessToken
	}
	return socketToken
}

// flexBool reads a FlexibleBoolean: true/false or any-case "true"/"false";
// anything else is the default, false.
func flexBool(r record, key string) bool {
	raw, ok := r.get(key)
	if !ok {
		return false
	}
	switch s := string(raw); s {
	case "true":
		return true
	case "false":
		return false
	}
	if v, ok := jsonString(raw, true); ok {
		return strings.EqualFold(v, "true")
	}
	return false
}

// presenceKeyOf turns config.presence.key into a key: strings as they are,
// other values (numbers) as their JSON text, null as "" (generate).
func presenceKeyOf(raw json.RawMessage) string {
	if s, ok := jsonString(raw, true); ok {
		return s
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}

// jsonString decodes raw when it is a JSON string.
func jsonString(raw json.RawMessage, present bool) (string, bool) {
	if !present || len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func isNullOrFalse(raw json.RawMessage) bool {
	s := string(bytes.TrimSpace(raw))
	return s == "null" || s == "false"
}

// replayValid reports whether broadcast.replay carries an integer "since"
// (within DateTime's range) and an optional integer "limit".
func replayValid(raw json.RawMessage) bool {
	_, _, ok := replayParams(raw)
	return ok
}
