package benchmarks

import (
	"testing"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
	"github.com/rxrealtime/rxrealtime/bench/internal/workload"
)

// BenchmarkDecode isolates the JSON decode of one ~900-byte change frame
// into the Row type, in memory, with each decoder: the part of the floor
// that decides throughput.
func BenchmarkDecode(b *testing.B) {
	for _, v := range vsns {
		burst, err := frames.NewBurst(v, 1, frames.DefaultRing)
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range workload.Decoders {
			b.Run(v.Short()+"/"+d.Name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(burst.MeanText()))
				i := 0
				for b.Loop() {
					text := burst.Text(i % burst.Len())
					i++
					if v == frames.V1 {
						var f frames.V1Frame
						if err := d.Unmarshal(text, &f); err != nil {
							b.Fatal(err)
						}
						continue
					}
					e, err := frames.SplitV2(text)
					if err != nil {
						b.Fatal(err)
					}
					var p frames.Payload
					if err := d.Unmarshal(e.Payload, &p); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
