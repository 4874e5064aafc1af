package segfloor

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
	"github.com/rxrealtime/rxrealtime/bench/internal/framesrv"
	"github.com/rxrealtime/rxrealtime/bench/internal/workload"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDecodesLikeEncodingJSON(t *testing.T) {
	for _, v := range []frames.Vsn{frames.V1, frames.V2} {
		b, err := frames.NewBurst(v, 1, 256)
		require.NoError(t, err)
		for j := range b.Len() {
			if v == frames.V1 {
				var got, want frames.V1Frame
				require.NoError(t, Decoder.Unmarshal(b.Text(j), &got))
				require.NoError(t, json.Unmarshal(b.Text(j), &want))
				assert.Equal(t, want, got)
				continue
			}
			e, err := frames.SplitV2(b.Text(j))
			require.NoError(t, err)
			var got, want frames.Payload
			require.NoError(t, Decoder.Unmarshal(e.Payload, &got))
			require.NoError(t, json.Unmarshal(e.Payload, &want))
			assert.Equal(t, want, got)
		}
	}
}

func TestFloorWithSegmentio(t *testing.T) {
	src, err := framesrv.Start(framesrv.WithRing(64))
	require.NoError(t, err)
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	spec := workload.Spec{Endpoint: src.Endpoint(), Vsn: frames.V2, Frames: 500}
	r, err := workload.Floor(Decoder).Run(ctx, spec)
	require.NoError(t, err)
	b, err := src.Burst(frames.V2, 1)
	require.NoError(t, err)
	assert.NoError(t, workload.Check(spec, b, r))
}

// BenchmarkDecode is the core module's BenchmarkDecode for segmentio.
func BenchmarkDecode(b *testing.B) {
	for _, v := range []frames.Vsn{frames.V1, frames.V2} {
		burst, err := frames.NewBurst(v, 1, frames.DefaultRing)
		require.NoError(b, err)
		b.Run(v.Short()+"/segmentio", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(burst.MeanText()))
			i := 0
			for b.Loop() {
				text := burst.Text(i % burst.Len())
				i++
				if v == frames.V1 {
					var f frames.V1Frame
					if err := Decoder.Unmarshal(text, &f); err != nil {
						b.Fatal(err)
					}
					continue
				}
				e, err := frames.SplitV2(text)
				if err != nil {
					b.Fatal(err)
				}
				var p frames.Payload
				if err := Decoder.Unmarshal(e.Payload, &p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
