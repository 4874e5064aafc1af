// realtime-js runner for the rxrealtime peer comparison (bench/peers/compare).
//
//   node run.mjs --endpoint ws://127.0.0.1:PORT/socket --vsn 2.0.0 --n 200000 [--channels 1] [--timeout-ms 120000] [--rate 0]
//
// With --rate R > 0 (the latency workload) the source paces the frames at R
// per second and stamps each row's created_at with the time it wrote it;
// the runner then also reports "latency_ns": [p50, p99, p999, max] of the
// time from that write to the callback (wall clock with microseconds:
// performance.timeOrigin + performance.now()).
//
// Subscribes to postgres_changes (INSERT on public.messages) on the frame
// source, the way an application uses @supabase/realtime-js over the `ws`
// transport, counts the changes delivered to the callback and sums
// payload.new.id, and prints one JSON line:
//   {"runner":"realtime-js","msgs":N,"id_sum":S,"decoded":true,"elapsed_ns":T}
// The clock runs from the first change delivered to the last, like the Go
// runners. Exit code 1 on failure (message on stderr).
import { RealtimeClient } from '@supabase/realtime-js'
import WebSocket from 'ws'

function parseArgs(argv) {
  const out = { channels: 1, timeoutMs: 120000, vsn: '2.0.0', rate: 0 }
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]]
    if (v === undefined) throw new Error(`missing value for ${k}`)
    switch (k) {
      case '--endpoint': out.endpoint = v; break
      case '--vsn': out.vsn = v; break
      case '--n': out.n = Number(v); break
      case '--channels': out.channels = Number(v); break
      case '--timeout-ms': out.timeoutMs = Number(v); break
      case '--rate': out.rate = Number(v); break
      default: throw new Error(`unknown flag ${k}`)
    }
  }
  if (!out.endpoint || !Number.isInteger(out.n) || out.n < 0) throw new Error('need --endpoint and --n')
  return out
}

function fail(msg) {
  process.stderr.write(`realtime-js runner: ${msg}\n`)
  process.exit(1)
}

const args = (() => { try { return parseArgs(process.argv.slice(2)) } catch (e) { fail(e.message) } })()
const subTopic = (i, n) => (n <= 1 ? 'bench' : `bench-${i}`)

const client = new RealtimeClient(args.endpoint, {
  params: { apikey: 'bench', n: String(args.n), channels: String(args.channels), ...(args.rate > 0 ? { rate: String(args.rate) } : {}) },
  transport: WebSocket,
  vsn: args.vsn,
})

let msgs = 0
let idSum = 0
let first = 0n
let last = 0n
let doneSeen = false
const lat = args.rate > 0 ? new Float64Array(args.n) : null // ns

// wallNs is the wall clock in ns (float, µs precision).
const wallNs = () => (performance.timeOrigin + performance.now()) * 1e6

// stampNs parses created_at ("2026-08-21T12:00:00.124456+00:00", 0–6
// fraction digits, UTC) into ns since the epoch, keeping the microseconds
// that Date.parse drops.
function stampNs(s) {
  const dot = s.indexOf('.', 19)
  const end = s.indexOf('+', 19)
  const sec = Date.parse(s.slice(0, 19) + 'Z')
  const frac = dot < 0 ? '' : s.slice(dot + 1, end < 0 ? undefined : end)
  return sec * 1e6 + Number((frac + '000000000').slice(0, 9))
}

function percentiles() {
  const xs = lat.subarray(0, Math.min(msgs, args.n)).sort()
  const at = (q) => xs[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))]
  return [at(0.5), at(0.99), at(0.999), xs[xs.length - 1]].map(Math.round)
}

function finish() {
  const elapsed = first === 0n ? 0n : last - first
  const rep = { runner: 'realtime-js', msgs, id_sum: idSum, decoded: true, elapsed_ns: Number(elapsed) }
  if (lat && msgs > 0) rep.latency_ns = percentiles()
  process.stdout.write(JSON.stringify(rep) + '\n')
  client.disconnect()
  process.exit(0)
}

for (let i = 0; i < args.channels; i++) {
  const ch = client.channel(subTopic(i, args.channels))
  ch.on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'messages' }, (change) => {
    const now = process.hrtime.bigint()
    if (lat && msgs < args.n) lat[msgs] = wallNs() - stampNs(change.new.created_at)
    if (first === 0n) first = now
    msgs++
    idSum += change.new.id
    if (msgs === args.n) {
      last = now
      if (doneSeen) finish()
    }
  })
  if (i === 0) {
    ch.on('broadcast', { event: 'bench_done' }, () => {
      doneSeen = true
      if (msgs >= args.n) {
        if (last === 0n) last = process.hrtime.bigint()
        finish()
      }
    })
  }
  ch.subscribe((status, err) => {
    if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') fail(`${status}: ${err ? err.message : ''}`)
  })
}

setTimeout(() => fail(`timed out after ${args.timeoutMs} ms with ${msgs}/${args.n} changes`), args.timeoutMs).unref()
