package realtimetest

import "sort"

// Presence returns the server's presence state of the channel name (public,
// or private with private set): for each presence key, the phx_refs of its
// metas, sorted. Tests compare it with what a client's presence sync built.
func (s *Server) Presence(name string, private bool) map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]string{}
	pt := s.presence[pubsubTopic(name, private)]
	if pt == nil {
		return out
	}
	for key, metas := range pt.metas {
		if len(metas) == 0 {
			continue
		}
		refs := make([]string, 0, len(metas))
		for _, m := range metas {
			refs = append(refs, m.ref)
		}
		sort.Strings(refs)
		out[key] = refs
	}
	return out
}
