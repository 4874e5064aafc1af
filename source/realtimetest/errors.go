package realtimetest

import "errors"

// ErrInvalidOption is wrapped by the error [Start] returns when an [Option]
// was given an unusable value (a negative limit, an empty secret, ...).
var ErrInvalidOption = errors.New("realtimetest: invalid option")

// ErrSign is returned (wrapped) by [SignJWT] when the claims cannot be
// encoded as JSON or the secret is empty.
var ErrSign = errors.New("realtimetest: cannot sign JWT")

// ErrNoPipe is returned by [Server.DialPipe] on a server that listens on
// TCP, or that is stopped.
var ErrNoPipe = errors.New("realtimetest: no pipe listener (server not started WithPipe, or stopped)")

// ErrServerClosed is returned (wrapped) by methods called after
// [Server.Close].
var ErrServerClosed = errors.New("realtimetest: server closed")

// ErrInvalidChange is wrapped by the error [Server.EmitChange] returns for a
// [Change] it cannot deliver: an unknown type, a missing schema or table, or
// a record that is not a JSON object.
var ErrInvalidChange = errors.New("realtimetest: invalid change")
