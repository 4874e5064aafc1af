// Conformance checks of the realtimetest server against the official client,
// @supabase/realtime-js. Driven by conformance_test.go.
//
// Configuration (environment):
//   REALTIME_URL         ws://127.0.0.1:<port>/socket
//   REALTIME_JWT_SECRET  the server's HS256 secret (the script signs its tokens)
//
// Line protocol on stdout (one message per line):
//   ACTION <name>          the Go test must do <name>, then write "DONE <name>" to stdin
//   PASS <check>           a check succeeded
//   FAIL <check>: <why>    a check failed
//   LOG <text>             diagnostics
//   END pass=<n> fail=<m>  last line; the exit code is 0 only if fail=0
//
// Checks: subscribe, postgres, broadcast and presence on each vsn,
// persist-replay, token-expiry, reconnect, heartbeat-timeout, shared-channel.
//
// Actions: insert-<vsn> (emit an INSERT into public.messages with
// id 1, body "hello"), drop (drop every socket abruptly), halfopen (stop
// answering until the client has closed its socket, then answer again).
'use strict'

const crypto = require('crypto')
const readline = require('readline')
const WebSocket = require('ws')
const { RealtimeClient } = require('@supabase/realtime-js')

const URL = process.env.REALTIME_URL || process.argv[2]
const SECRET = process.env.REALTIME_JWT_SECRET || process.argv[3]
if (!URL || !SECRET) {
  console.log('FAIL setup: REALTIME_URL and REALTIME_JWT_SECRET are required')
  console.log('END pass=0 fail=1')
  process.exit(2)
}

// --- line protocol ----------------------------------------------------------

const pending = new Map()
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const [kw, name] = line.trim().split(/\s+/)
  if (kw === 'DONE' && pending.has(name)) {
    pending.get(name)()
    pending.delete(name)
  }
})

function action(name) {
  return new Promise((resolve) => {
    pending.set(name, resolve)
    console.log(`ACTION ${name}`)
  })
}

let passed = 0
let failed = 0
function pass(check) {
  passed++
  console.log(`PASS ${check}`)
}
function fail(check, why) {
  failed++
  console.log(`FAIL ${check}: ${why}`)
}

// within rejects if p does not settle within ms (a safety net).
function within(ms, what, p) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

// waitFor returns a promise and its resolver, to await a callback.
function deferred() {
  let resolve
  const promise = new Promise((r) => (resolve = r))
  return { promise, resolve }
}

// --- tokens -------------------------------------------------------------------

function sign(claims) {
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const data = enc({ alg: 'HS256', typ: 'JWT' }) + '.' + enc(claims)
  return data + '.' + crypto.createHmac('sha256', SECRET).update(data).digest('base64url')
}
function token(ttlSeconds, role = 'authenticated') {
  const now = Math.floor(Date.now() / 1000)
  return sign({ role, exp: now + ttlSeconds, iat: now, sub: 'conformance' })
}

function newClient(vsn, extra = {}) {
  return new RealtimeClient(URL, {
    transport: WebSocket,
    vsn,
    params: { apikey: token(3600, 'anon') },
    reconnectAfterMs: () => 100,
    heartbeatIntervalMs: 500,
    ...extra,
  })
}

// subscribe resolves when status SUBSCRIBED arrives, and records every status.
function subscribe(channel, statuses) {
  const d = deferred()
  channel.subscribe((status, err) => {
    statuses.push(status)
    if (status === 'SUBSCRIBED') d.resolve()
    if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT') {
      console.log(`LOG ${channel.topic} ${status} ${err && err.message}`)
    }
  })
  return d.promise
}

// --- checks -------------------------------------------------------------------

// One vsn: subscribe with postgres_changes, broadcast and presence bindings;
// receive an INSERT; send a broadcast (acked) and receive it back (self);
// track presence and see it in a sync.
async function roundTrip(vsn) {
  const tag = vsn === '2.0.0' ? 'v2' : 'v1'
  const client = newClient(vsn)
  const channel = client.channel(`room-${tag}`, {
    config: { broadcast: { self: true, ack: true }, presence: { key: `user-${tag}` } },
  })
  const change = deferred()
  const echo = deferred()
  const sync = deferred()
  channel
    .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'messages' }, (p) => change.resolve(p))
    .on('broadcast', { event: 'cursor' }, (p) => echo.resolve(p))
    .on('presence', { event: 'sync' }, () => {
      const state = channel.presenceState()
      if (state[`user-${tag}`]) sync.resolve(state)
    })
  const statuses = []
  try {
    try {
      await within(5000, 'SUBSCRIBED', subscribe(channel, statuses))
      pass(`subscribe-${tag}`)
    } catch (e) {
      fail(`subscribe-${tag}`, `${e.message}; statuses ${statuses.join(',')}`)
      return
    }

    try {
      await action(`insert-${tag}`)
      const p = await within(5000, 'postgres change', change.promise)
      const problems = []
      if (p.eventType !== 'INSERT') problems.push(`eventType ${p.eventType}`)
      if (p.schema !== 'public' || p.table !== 'messages') problems.push(`table ${p.schema}.${p.table}`)
      if (!p.new || p.new.id !== 1 || p.new.body !== 'hello') problems.push(`new ${JSON.stringify(p.new)}`)
      if (!p.old || Object.keys(p.old).length !== 0) problems.push(`old ${JSON.stringify(p.old)}`)
      if (typeof p.commit_timestamp !== 'string') problems.push('no commit_timestamp')
      if (problems.length) fail(`postgres-${tag}`, problems.join('; '))
      else pass(`postgres-${tag}`)
    } catch (e) {
      fail(`postgres-${tag}`, e.message)
    }

    try {
      const res = await within(5000, 'broadcast ack', channel.send({ type: 'broadcast', event: 'cursor', payload: { x: 1, vsn } }))
      const got = await within(5000, 'broadcast echo', echo.promise)
      if (res !== 'ok') fail(`broadcast-${tag}`, `send resolved ${res}`)
      else if (!got.payload || got.payload.x !== 1 || got.payload.vsn !== vsn || got.event !== 'cursor') {
        fail(`broadcast-${tag}`, `echo ${JSON.stringify(got)}`)
      } else pass(`broadcast-${tag}`)
    } catch (e) {
      fail(`broadcast-${tag}`, e.message)
    }

    try {
      const res = await within(5000, 'track reply', channel.track({ name: `user-${tag}` }))
      const state = await within(5000, 'presence sync', sync.promise)
      const metas = state[`user-${tag}`]
      if (res !== 'ok') fail(`presence-${tag}`, `track resolved ${res}`)
      else if (!metas || metas[0].name !== `user-${tag}` || !metas[0].presence_ref) {
        fail(`presence-${tag}`, `state ${JSON.stringify(state)}`)
      } else pass(`presence-${tag}`)
    } catch (e) {
      fail(`presence-${tag}`, e.message)
    }
  } finally {
    await client.removeAllChannels()
  }
}

// A channel joined with a token that expires in 2 s is CLOSED by the server
// after a system error.
async function tokenExpiry() {
  const client = newClient('2.0.0')
  try {
    await client.setAuth(token(2))
    const channel = client.channel('expiring')
    const system = deferred()
    const closed = deferred()
    channel.on('system', {}, (p) => system.resolve(p))
    const statuses = []
    channel.subscribe((status) => {
      statuses.push(status)
      if (status === 'CLOSED') closed.resolve()
    })
    await within(8000, 'CLOSED', closed.promise)
    const msg = await within(1000, 'system message', system.promise)
    if (!statuses.includes('SUBSCRIBED')) fail('token-expiry', `statuses ${statuses.join(',')}`)
    else if (msg.status !== 'error' || !/^Token has expired \d+ seconds ago$/.test(msg.message)) {
      fail('token-expiry', `system ${JSON.stringify(msg)}`)
    } else pass('token-expiry')
  } catch (e) {
    fail('token-expiry', e.message)
  } finally {
    await client.removeAllChannels()
    client.disconnect()
  }
}

// After the server drops every socket, the client reconnects and rejoins.
async function reconnect() {
  const client = newClient('2.0.0')
  try {
    const channel = client.channel('sticky')
    let subscribed = 0
    const again = deferred()
    const first = deferred()
    channel.subscribe((status) => {
      if (status !== 'SUBSCRIBED') return
      subscribed++
      if (subscribed === 1) first.resolve()
      if (subscribed === 2) again.resolve()
    })
    await within(5000, 'SUBSCRIBED', first.promise)
    await action('drop')
    await within(8000, 'SUBSCRIBED after the drop', again.promise)
    pass('reconnect')
  } catch (e) {
    fail('reconnect', e.message)
  } finally {
    await client.removeAllChannels()
    client.disconnect()
  }
}

// When the server goes half-open (reads but never answers), the client's
// heartbeat times out; it reconnects and rejoins once the server answers
// again.
async function heartbeatTimeout() {
  const client = newClient('2.0.0', { heartbeatIntervalMs: 300 })
  try {
    const channel = client.channel('half-open')
    const beats = []
    const answered = deferred()
    client.onHeartbeat((status) => {
      beats.push(status)
      if (status === 'ok') answered.resolve()
    })
    let subscribed = 0
    const first = deferred()
    const again = deferred()
    channel.subscribe((status) => {
      if (status !== 'SUBSCRIBED') return
      subscribed++
      if (subscribed === 1) first.resolve()
      if (subscribed === 2) again.resolve()
    })
    await within(5000, 'SUBSCRIBED', first.promise)
    await within(5000, 'a heartbeat reply', answered.promise)
    // The Go side turns half-open on, waits for this socket to go away
    // (closed by the client on heartbeat timeout) and turns it off again.
    await action('halfopen')
    await within(8000, 'SUBSCRIBED after the heartbeat timeout', again.promise)
    if (!beats.includes('ok') || !beats.includes('timeout')) fail('heartbeat-timeout', `heartbeats ${beats.join(',')}`)
    else pass('heartbeat-timeout')
  } catch (e) {
    fail('heartbeat-timeout', e.message)
  } finally {
    await client.removeAllChannels()
    client.disconnect()
  }
}

// Persist and replay: one client stores broadcasts on a private channel
// (send with persist over the socket, httpSend with persist over REST) and
// a second one joins with broadcast.replay {since, limit: 2}: it receives
// exactly the latest two, in order, marked meta.replayed with their ids.
async function persistReplay() {
  const sender = newClient('2.0.0')
  const receiver = newClient('2.0.0')
  try {
    const since = Date.now() - 60000
    const out = sender.channel('persisted', { config: { private: true, broadcast: { ack: true } } })
    await within(5000, 'SUBSCRIBED (sender)', subscribe(out, []))
    const results = []
    results.push(await within(5000, 'send persist', out.send({ type: 'broadcast', event: 'note', payload: { n: 1 }, persist: true })))
    results.push(await within(5000, 'send persist ttl', out.send({ type: 'broadcast', event: 'note', payload: { n: 2 }, persist: { ttl: 60 } })))
    results.push(await within(5000, 'send not persisted', out.send({ type: 'broadcast', event: 'note', payload: { n: 0 } })))
    const http = await within(5000, 'httpSend persist', out.httpSend('note', { n: 3 }, { persist: true }))
    if (results.some((r) => r !== 'ok') || !http.success) {
      fail('persist-replay', `send resolved ${results.join(',')}, httpSend ${JSON.stringify(http)}`)
      return
    }

    const got = []
    const two = deferred()
    const inbound = receiver.channel('persisted', {
      config: { private: true, broadcast: { replay: { since, limit: 2 } } },
    })
    inbound.on('broadcast', { event: 'note' }, (p) => {
      got.push(p)
      if (got.length === 2) two.resolve()
    })
    await within(5000, 'SUBSCRIBED (replay)', subscribe(inbound, []))
    await within(5000, 'two replayed broadcasts', two.promise)
    await new Promise((r) => setTimeout(r, 300)) // nothing else may follow
    const problems = []
    if (got.length !== 2) problems.push(`${got.length} broadcasts`)
    got.forEach((p, i) => {
      if (!p.meta || p.meta.replayed !== true || typeof p.meta.id !== 'string') problems.push(`meta ${JSON.stringify(p.meta)}`)
      if (!p.payload || p.payload.n !== i + 2) problems.push(`payload ${JSON.stringify(p.payload)}`)
    })
    if (problems.length) fail('persist-replay', `${problems.join('; ')}: ${JSON.stringify(got)}`)
    else pass('persist-replay')
  } catch (e) {
    fail('persist-replay', e.message)
  } finally {
    await sender.removeAllChannels()
    await receiver.removeAllChannels()
    sender.disconnect()
    receiver.disconnect()
  }
}

// Two callers of channel() for one topic get the same channel: one join
// serves both (the Go side checks that the wire has one phx_join on
// realtime:shared), and each caller's callback receives its broadcasts.
async function sharedChannel() {
  const client = newClient('2.0.0')
  try {
    const config = { config: { broadcast: { self: true, ack: true } } }
    const first = client.channel('shared', config)
    const second = client.channel('shared', config)
    const a = deferred()
    const b = deferred()
    first.on('broadcast', { event: 'note' }, (p) => a.resolve(p))
    second.on('broadcast', { event: 'note' }, (p) => b.resolve(p))
    await within(5000, 'SUBSCRIBED', subscribe(first, []))
    const res = await within(5000, 'broadcast ack', second.send({ type: 'broadcast', event: 'note', payload: { n: 1 } }))
    const [pa, pb] = await within(5000, 'the broadcast on both callbacks', Promise.all([a.promise, b.promise]))
    if (first !== second) fail('shared-channel', 'channel() made a second channel for the topic')
    else if (res !== 'ok' || pa.payload.n !== 1 || pb.payload.n !== 1) {
      fail('shared-channel', `send resolved ${res}; got ${JSON.stringify(pa)} and ${JSON.stringify(pb)}`)
    } else pass('shared-channel')
  } catch (e) {
    fail('shared-channel', e.message)
  } finally {
    await client.removeAllChannels()
    client.disconnect()
  }
}

async function main() {
  await roundTrip('2.0.0')
  await roundTrip('1.0.0')
  await persistReplay()
  await tokenExpiry()
  await reconnect()
  await heartbeatTimeout()
  await sharedChannel()
  console.log(`END pass=${passed} fail=${failed}`)
  process.exit(failed === 0 ? 0 : 1)
}

main().catch((e) => {
  fail('script', e && e.stack ? e.stack.replace(/\n/g, ' | ') : String(e))
  console.log(`END pass=${passed} fail=${failed}`)
  process.exit(1)
})
