package presence_test

import (
	"fmt"

	"github.com/rxrealtime/rxrealtime/source/presence"
)

func ExampleTracker() {
	type user struct {
		Name string `json:"name"`
	}
	var tr presence.Tracker[user]

	// A diff that arrives before the first presence_state is held.
	events, _ := tr.HandleDiff("1", []byte(`{"joins":{"user-2":{"metas":[{"phx_ref":"F2","name":"bob"}]}},"leaves":{}}`))
	fmt.Println(len(events), "events; pending", tr.Pending())

	events, _ = tr.HandleState("1", []byte(`{"user-1":{"metas":[{"phx_ref":"F1","name":"alice"}]}}`))
	for _, e := range events {
		if e.Kind == presence.Sync {
			fmt.Println("sync")
			continue
		}
		fmt.Println(e.Kind, e.Key, e.Presences[0].Value.Name)
	}

	// bob updates his meta: the server sends a leave of the old ref and a
	// join of the new one naming it in phx_ref_prev, which the tracker
	// reports as one update.
	events, _ = tr.HandleDiff("1", []byte(`{
		"joins":{"user-2":{"metas":[{"phx_ref":"F3","phx_ref_prev":"F2","name":"bobby"}]}},
		"leaves":{"user-2":{"metas":[{"phx_ref":"F2","name":"bob"}]}}}`))
	for _, e := range events {
		if e.Kind == presence.Sync {
			fmt.Println("sync")
			continue
		}
		fmt.Println(e.Kind, e.Key, e.Replaced[0].Value.Name, "->", e.Presences[0].Value.Name)
	}
	fmt.Println(tr.State()["user-2"][0].Value.Name, tr.State()["user-2"][0].RefPrev)
	// Output:
	// 0 events; pending 1
	// join user-1 alice
	// join user-2 bob
	// sync
	// update user-2 bob -> bobby
	// sync
	// bobby F2
}
