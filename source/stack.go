package source

// decodeStack is about the stack a row decode takes beyond the consumer
// loop (the JSON decoders recurse deeply): with 4 KiB of stack the first
// decode still grows it, with 8 KiB it does not (bench, workload 3).
const decodeStack = 5 << 10

// growStack makes sure the calling goroutine has decodeStack bytes of
// stack to spare. A typed change stream calls it once when it starts, on
// the goroutine that decodes (the consumer's, or a decoding worker's when
// it first serves the consumer), so that the stack is grown there, while the
// stack is short, instead of at the consumer's first change: a goroutine
// parked in the consumer loop starts small, and growing it under a
// decode copies and adjusts every frame of that decode. At 10,000 channels
// with about two changes each, every delivery was such a first change
// (runtime.newstack/copystack were 6-11 % of the CPU of the burst).
//
//go:noinline
func growStack() byte {
	var pad [decodeStack]byte
	return lastByte(pad[:])
}

//go:noinline
func lastByte(b []byte) byte { return b[len(b)-1] }
