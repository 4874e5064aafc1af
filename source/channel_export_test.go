package source

// Test hooks for the external tests of the channel layer: how many
// consumers a channel's streams have, so a test can start acting only once
// its observer is registered (hot streams deliver nothing from before).

// StatusConsumersForTest returns the number of consumers of ch.Statuses().
func StatusConsumersForTest(ch *Channel) int {
	ch.statuses.mu.Lock()
	defer ch.statuses.mu.Unlock()
	return len(ch.statuses.subs)
}

// MessageConsumersForTest returns the number of consumers of the channel's
// message hub (Messages and every typed stream derived from it).
func MessageConsumersForTest(ch *Channel) int { return ch.rt.hub.Consumers() }

// PresenceConsumersForTest returns the number of consumers of the
// channel's presence events.
func PresenceConsumersForTest(ch *Channel) int { return ch.presence.events.Consumers() }

// ErrorConsumersForTest returns the number of consumers of c.Errors().
func ErrorConsumersForTest(c *Client) int { return c.errs.Consumers() }
