"""The Lua scripts of the shared circuit breaker and rate limiter.

Redis runs a script to completion before any other command, so each state change (count a
failure and perhaps open, admit the one trial call of a half-open period, take a token) is
one atomic step however many processes race for it. Time is the server's (``TIME``) unless
the caller passes its own (``ARGV[1]``, milliseconds; tests use this), so hosts whose clocks
differ still agree on when a circuit reopens or a bucket refills.

Breaker hash (one per provider and model; an absent key is a closed, healthy circuit):

* ``st`` ``o`` open or ``h`` half-open (absent: closed);
* ``fl`` the times (ms) of the recent consecutive failures while closed, space-separated;
* ``oa`` when it opened (ms); ``ob`` the failures that opened it;
* ``gen`` the current half-open period (a trial's ticket; only increases);
* ``inf`` trial calls in flight; ``ok`` trial successes; ``lease`` when the trials in
  flight are presumed lost (their process died) and another may start.

Bucket hash (one per provider and model): ``r`` requests and ``t`` tokens in the buckets
(negative once a wait is reserved ahead), ``ts`` when they were last brought up to date.

``ADMIT_ACQUIRE`` is the breaker's admission followed, for a call it lets through, by the
limiter's take: a stack holding both layers pays one round trip for the two. It is the only
script touching two keys, which Redis Cluster would want in one hash slot; the layers use it
on a single server only (see ``_fleet_pair``), so the keys need no hash tag.
"""

from __future__ import annotations

__all__ = [
    "ACQUIRE",
    "ADMIT_ACQUIRE",
    "BREAKER_ADMIT",
    "BREAKER_FAILURE",
    "BREAKER_RELEASE",
    "BREAKER_RESET",
    "BREAKER_STATE",
    "BREAKER_SUCCESS",
]

# ARGV[1]: the caller's clock in ms, or '' for the server's. TIME before a write is allowed
# with effects replication, the only kind since Redis 7 (replicate_commands turns it on in 5-6).
_NOW = """
local function now_ms()
  if ARGV[1] ~= '' then return tonumber(ARGV[1]) end
  if redis.replicate_commands then redis.replicate_commands() end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local now = now_ms()
"""

_ADMIT = """
-- Returns {0, has_failures, 0}: closed, call freely; {1, ticket, change}: a trial call
-- (change 1: this call made it half-open, 2: lost trials were written off);
-- {2, wait_ms, opened_by}: open; {3, 0, opened_by}: half-open, trial permits taken.
local function admit(key, reset_ms, most, lease_ms, expiry_ms)
  local h = redis.call('HMGET', key, 'st', 'fl', 'oa', 'ob', 'gen', 'inf', 'lease')
  local st = h[1]
  if not st then
    if h[2] and h[2] ~= '' then return {0, 1, 0} end
    return {0, 0, 0}
  end
  local opened_by = tonumber(h[4]) or 0
  local gen = tonumber(h[5]) or 0
  local in_flight = tonumber(h[6]) or 0
  most = tonumber(most)
  local change = 0
  if st == 'o' then
    local wait = tonumber(h[3]) + tonumber(reset_ms) - now
    if wait > 0 then return {2, math.ceil(wait), opened_by} end
    change = 1
  elseif in_flight >= most and now >= (tonumber(h[7]) or 0) then
    change = 2
  end
  if change > 0 then
    gen = math.max(now, gen + 1)
    in_flight = 0
    redis.call('HSET', key, 'st', 'h', 'ok', 0)
  end
  if in_flight >= most then return {3, 0, opened_by} end
  redis.call('HSET', key, 'gen', gen, 'inf', in_flight + 1, 'lease', now + tonumber(lease_ms))
  redis.call('PEXPIRE', key, expiry_ms)
  return {1, gen, change}
end
"""

BREAKER_ADMIT = (
    _NOW
    + _ADMIT
    + """
-- ARGV: now, reset_timeout (ms), half_open_max_calls, trial lease (ms), open key expiry (ms).
return admit(KEYS[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
"""
)
"""Let a call through (closed, or as the half-open period's trial) or say why not."""

BREAKER_FAILURE = (
    _NOW
    + """
-- ARGV: now, ticket ('' for a call admitted while closed), failure_threshold, window (ms),
-- open key expiry (ms). Returns {1, failures}: it opened; {2, failures}: a trial failed and
-- it opened again; {0, failures}: no change.
local h = redis.call('HMGET', KEYS[1], 'st', 'fl', 'gen', 'ob')
local st = h[1]
if ARGV[2] == '' then
  if st then return {0, 0} end  -- began before the circuit opened: already accounted for
  local horizon = now - tonumber(ARGV[4])
  local kept = {}
  for stamp in string.gmatch(h[2] or '', '%S+') do
    if tonumber(stamp) >= horizon then kept[#kept + 1] = stamp end
  end
  kept[#kept + 1] = string.format('%d', now)
  if #kept >= tonumber(ARGV[3]) then
    redis.call('HSET', KEYS[1], 'st', 'o', 'oa', now, 'ob', #kept, 'inf', 0)
    redis.call('HDEL', KEYS[1], 'fl')
    redis.call('PEXPIRE', KEYS[1], ARGV[5])
    return {1, #kept}
  end
  redis.call('HSET', KEYS[1], 'fl', table.concat(kept, ' '))
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return {0, #kept}
end
if st ~= 'h' or tonumber(h[3]) ~= tonumber(ARGV[2]) then return {0, 0} end
redis.call('HSET', KEYS[1], 'st', 'o', 'oa', now, 'inf', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {2, tonumber(h[4]) or 0}
"""
)
"""Count a failure: open at the threshold, or reopen after a failed trial."""

BREAKER_SUCCESS = """
-- ARGV: '', ticket ('' for a call admitted while closed), success_threshold, open key expiry.
-- Returns 1 when this success closed the circuit, else 0.
local h = redis.call('HMGET', KEYS[1], 'st', 'gen', 'inf', 'ok')
if ARGV[2] == '' then
  if not h[1] then redis.call('HDEL', KEYS[1], 'fl') end  -- consecutive failures end here
  return 0
end
if h[1] ~= 'h' or tonumber(h[2]) ~= tonumber(ARGV[2]) then return 0 end
local ok = (tonumber(h[4]) or 0) + 1
if ok >= tonumber(ARGV[3]) then
  -- Closed: only the generation stays, so a later period's tickets never repeat one.
  redis.call('HDEL', KEYS[1], 'st', 'fl', 'oa', 'ob', 'inf', 'ok', 'lease')
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return 1
end
redis.call('HSET', KEYS[1], 'inf', math.max(0, (tonumber(h[3]) or 1) - 1), 'ok', ok)
return 0
"""
"""Count a success: a trial's may close the circuit; a closed call's clears the failures."""

BREAKER_RELEASE = """
-- ARGV: '', ticket. A trial that ended without a verdict (cancelled, a 4xx) gives its permit
-- back, so the circuit is never stuck half-open.
local h = redis.call('HMGET', KEYS[1], 'st', 'gen', 'inf')
if h[1] == 'h' and tonumber(h[2]) == tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'inf', math.max(0, (tonumber(h[3]) or 1) - 1))
end
return 0
"""
"""Give a trial permit back."""

BREAKER_RESET = """
return redis.call('DEL', KEYS[1])
"""
"""Close the circuit and forget its failures."""

BREAKER_STATE = (
    _NOW
    + """
-- ARGV: now, reset_timeout (ms). Returns {state, failures}: 'closed', 'open' or 'half_open'
-- (an open circuit whose timeout passed reads as half-open, as the local breaker's does).
local h = redis.call('HMGET', KEYS[1], 'st', 'fl', 'oa')
if not h[1] then
  local count = 0
  for _ in string.gmatch(h[2] or '', '%S+') do count = count + 1 end
  return {'closed', count}
end
if h[1] == 'o' and now < tonumber(h[3]) + tonumber(ARGV[2]) then return {'open', 0} end
return {'half_open', 0}
"""
)
"""Read the state, for diagnostics and tests."""

_TAKE = """
-- Returns {granted (1/0), wait_ms}: granted with a wait reserves the tokens now, and the
-- caller starts after wait_ms; refused takes nothing.
local function acquire(key, max_wait, r_rate, r_cap, t_rate, t_cap, cost, refund)
  local h = redis.call('HMGET', key, 'r', 't', 'ts')
  local elapsed = math.max(0, now - (tonumber(h[3]) or now))
  r_rate, r_cap = tonumber(r_rate), tonumber(r_cap)
  t_rate, t_cap, cost = tonumber(t_rate), tonumber(t_cap), tonumber(cost)
  local r, t, wait, full = 0, 0, 0, 0
  if r_rate > 0 then
    r = math.min(r_cap, (tonumber(h[1]) or r_cap) + elapsed * r_rate)
    if r < 1 then wait = (1 - r) / r_rate end
  end
  if t_rate > 0 then
    t = math.min(t_cap, (tonumber(h[2]) or t_cap) + elapsed * t_rate + tonumber(refund))
    -- A call larger than the bucket waits for a full bucket, then drives it below zero.
    local need = math.min(cost, t_cap)
    if t < need then wait = math.max(wait, (need - t) / t_rate) end
  end
  local granted = 0
  if wait <= tonumber(max_wait) then
    granted = 1
    r = r - 1
    t = t - cost
  end
  if r_rate > 0 then full = (r_cap - r) / r_rate end
  if t_rate > 0 then full = math.max(full, (t_cap - t) / t_rate) end
  -- Only the limited buckets are stored: a bucket first limited later starts full.
  if r_rate > 0 then redis.call('HSET', key, 'r', string.format('%.17g', r)) end
  if t_rate > 0 then redis.call('HSET', key, 't', string.format('%.17g', t)) end
  redis.call('HSET', key, 'ts', string.format('%d', now))
  -- Once both buckets are full again the key says nothing an absent key does not.
  redis.call('PEXPIRE', key, math.ceil(full) + 1000)
  return {granted, math.ceil(wait)}
end
"""

ACQUIRE = (
    _NOW
    + _TAKE
    + """
-- ARGV: now, max wait (ms; 0: only an immediate grant), requests per ms (0: no request
-- limit), request capacity, tokens per ms (0: no token limit), token capacity, this call's
-- tokens, tokens to give back (settled estimates of earlier calls; negative: to charge).
return acquire(KEYS[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8])
"""
)
"""Take one request and a call's tokens from the buckets, now or after a reserved wait."""

ADMIT_ACQUIRE = (
    _NOW
    + _ADMIT
    + _TAKE
    + """
-- KEYS: the breaker's hash, the buckets' hash. ARGV: now, then BREAKER_ADMIT's four, then
-- ACQUIRE's seven. Returns BREAKER_ADMIT's reply, followed, when the call is let through, by
-- ACQUIRE's: a refused call (open circuit) takes no token.
local a = admit(KEYS[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
if a[1] > 1 then return a end
local g = acquire(KEYS[2], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12])
return {a[1], a[2], a[3], g[1], g[2]}
"""
)
"""Admit a call and take its first attempt's rate-limit slot, in one round trip."""
