"""The Lua scripts that make each write one atomic step on the Redis server.

Redis runs a script to completion before serving any other command, and persists its effects
as one ``MULTI``/``EXEC`` block in the append-only file (a block cut short by a crash is
dropped whole when the file is loaded). So a reader, another process or a restarted server
sees a turn entirely or not at all.

Every script takes the same three keys of one session (see ``_keys.session_keys``):

* ``KEYS[1]`` a list of message JSON documents, oldest first;
* ``KEYS[2]`` a list with the number of messages of each turn, oldest first;
* ``KEYS[3]`` a set of the session's turn ids (what makes a retried append a no-op).

``APPEND_TURN`` and ``SAVE`` take a fourth when every key lives on one server: the index of
sessions (``_keys.index_key``), then updated in the same step. On a cluster the index lives in
a slot of its own, which a script cannot touch beside the session's, so ``INDEX`` updates it
just after.

Anything that can fail (a key holding another type) is checked before the first write, and
Redis refuses a script for lack of memory only at its first write, so a script that fails
has written nothing.
"""

from __future__ import annotations

__all__ = ["APPEND_TURN", "INDEX", "LOAD_NEWEST", "SAVE"]

# What every writing script starts with: effects replication (a script reading TIME before
# it writes needs it on a server older than 5), and the check that refuses a key some other
# application wrote, before anything is written.
_PREAMBLE = """
if redis.replicate_commands then redis.replicate_commands() end
local function wrong_type(key, expected, what)
  local kind = redis.call('TYPE', key)['ok']
  if kind ~= 'none' and kind ~= expected then
    return 'WRONGTYPE key ' .. key .. ' holds a ' .. kind .. ', not ' .. what
  end
end
"""

# The session's three keys, and a fourth when given: the index of sessions (see _INDEX).
_CHECK_TYPES = (
    _PREAMBLE
    + """
local expected = {'list', 'list', 'set', 'zset'}
for i = 1, #KEYS do
  local what = i == 4 and 'the aether session index' or 'part of an aether session'
  local wrong = wrong_type(KEYS[i], expected[i], what)
  if wrong then return redis.error_reply(wrong) end
end
"""
)

# Record a session's write in the index of sessions (a sorted set of session ids scored by
# their last write, in the server's clock, in microseconds), or its removal. ``action``:
# 'write' (scored now), 'retry' (added only if missing: a retried append is no new write, but
# its first try may have stored the turn and lost the index update) or 'gone' (removed).
_INDEX = """
local function index(key, id, action, ttl)
  if action == 'gone' then
    redis.call('ZREM', key, id)
    return
  end
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  -- Strictly after the newest entry, so the order is that of the writes even if the
  -- server's clock steps back or two writes share a microsecond.
  local newest = redis.call('ZREVRANGE', key, 0, 0, 'WITHSCORES')
  if newest[2] and now <= tonumber(newest[2]) then now = tonumber(newest[2]) + 1 end
  if action == 'retry' then
    redis.call('ZADD', key, 'NX', now, id)
  else
    redis.call('ZADD', key, now, id)
  end
  -- With an expiry, an entry older than it names a session that has expired: forget it.
  -- %.0f: Lua's own tostring keeps 14 digits, too few for a time in microseconds.
  if ttl > 0 then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('(%.0f', now - ttl * 1000))
  end
end
"""

# RPUSH ARGV[first..last] to key in chunks: Lua's unpack() is limited to a few thousand values.
_PUSH = """
local function push(key, first, last)
  for i = first, last, 1000 do
    redis.call('RPUSH', key, unpack(ARGV, i, math.min(i + 999, last)))
  end
end
local function expire(ttl)
  if ttl > 0 then
    for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end
"""

APPEND_TURN = (
    _CHECK_TYPES
    + _PUSH
    + _INDEX
    + """
-- ARGV: ttl in ms (0: none), turn id, then the turn's messages (JSON); with KEYS[4] (the
-- index, when all keys live on one server) the session id last.
local last = #ARGV
if KEYS[4] then last = last - 1 end
local ttl = tonumber(ARGV[1])
-- Only the message list proves a session exists: bookkeeping that outlived it (an expiry
-- between keys on a server older than 7, which does not freeze time in scripts) is dropped.
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2], KEYS[3])
elseif redis.call('SISMEMBER', KEYS[3], ARGV[2]) == 1 then
  if KEYS[4] then index(KEYS[4], ARGV[#ARGV], 'retry', ttl) end
  return 0
end
push(KEYS[1], 3, last)
redis.call('RPUSH', KEYS[2], last - 2)
redis.call('SADD', KEYS[3], ARGV[2])
expire(ttl)
if KEYS[4] then index(KEYS[4], ARGV[#ARGV], 'write', ttl) end
return 1
"""
)
"""Append one turn unless its id is stored; returns 1 if appended, 0 if it was a retry."""

SAVE = (
    _CHECK_TYPES
    + _PUSH
    + _INDEX
    + """
-- ARGV: ttl in ms (0: none), number of turns N, N message counts, then the messages (JSON);
-- with KEYS[4] (the index, when all keys live on one server) the session id last.
local last = #ARGV
if KEYS[4] then last = last - 1 end
local ttl = tonumber(ARGV[1])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
local turns = tonumber(ARGV[2])
if turns > 0 then
  push(KEYS[2], 3, 2 + turns)
  push(KEYS[1], 3 + turns, last)
  expire(ttl)
end
if KEYS[4] then index(KEYS[4], ARGV[#ARGV], turns > 0 and 'write' or 'gone', ttl) end
return 1
"""
)
"""Replace the session's history (and forget its turn ids); no turns deletes the session."""

LOAD_NEWEST = """
-- ARGV: limit (> 0). Each turn holds at least one message, so the newest `limit` turn sizes
-- are all that can fit: the cost is bounded by the limit, not the history.
local limit = tonumber(ARGV[1])
local sizes = redis.call('LRANGE', KEYS[2], -limit, -1)
local total = 0
for i = #sizes, 1, -1 do
  local size = tonumber(sizes[i])
  if total + size > limit then break end
  total = total + size
end
if total == 0 then return {} end
return redis.call('LRANGE', KEYS[1], -total, -1)
"""
"""The newest whole turns holding at most ``limit`` messages, oldest first, in one snapshot."""

INDEX = (
    _PREAMBLE
    + _INDEX
    + """
-- KEYS[1]: the index. On a cluster it lives in a slot of its own, so this script updates it
-- just after the session's own write. ARGV: session id, action (see index()), ttl in ms.
local what = 'the aether session index (the session itself was written)'
local wrong = wrong_type(KEYS[1], 'zset', what)
if wrong then return redis.error_reply(wrong) end
index(KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]))
return 1
"""
)
"""Record a session's write in the index (or its removal), where the index lives apart."""
