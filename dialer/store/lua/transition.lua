-- Compare-and-set one contact's state, and move it between the campaign's index sets, atomically.
-- The account's concurrency slot (claim.lua) follows the campaign's: held and released together.
-- KEYS: 1 contact hash, 2 counts hash, 3 ready zset, 4 queued zset, 5 inflight zset, 6 watch zset,
--       7 account_inflight zset (members are contact keys)
-- ARGV: 1 member, 2 allowed from-states (comma separated), 3 new state,
--       4 ready delay ms, 5 inflight lease ms, 6 watch delay ms  ('' = not in that set),
--       7 the state and 8 the attempt the caller read ('' = whatever they are now): a task
--         acting on what it read must not act once another has moved the contact on,
--       9 the states whose contacts wait in ready or queued, 10 the states whose contacts
--         hold inflight and watch (comma separated: `INDEXED` in dialer/store/contact.py),
--       11.. field, value pairs written with the new state
-- A contact is in an index set only in the states that use it (the store gives no delay for a
-- set the new state does not use), so only the sets of its current state are left: a contact
-- leaving placed is not removed from ready and queued, where it cannot be.
-- Returns the previous state when the transition happened, false when it was not allowed.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local read = redis.call('HMGET', KEYS[1], 'state', 'attempt')
local current = read[1]
if not current then return false end
local allowed = false
for s in string.gmatch(ARGV[2], '[^,]+') do
  if s == current then allowed = true end
end
if not allowed then return false end
if ARGV[7] ~= '' and ARGV[7] ~= current then return false end
if ARGV[8] ~= '' and ARGV[8] ~= (read[2] or '1') then
  return false
end
local function listed(states)
  for s in string.gmatch(states, '[^,]+') do
    if s == current then return true end
  end
  return false
end
local waits, live = listed(ARGV[9]), listed(ARGV[10])
local member = ARGV[1]
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'updated_at', now, unpack(ARGV, 11))
if current ~= ARGV[3] then
  redis.call('HINCRBY', KEYS[2], current, -1)
  redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
end
-- Out of every index set its state used but those it goes into (ZADD moves a member there).
local delays = {[3] = ARGV[4], [5] = ARGV[5], [6] = ARGV[6]}  -- by KEYS index; 4 never
for i = 3, 6 do
  local delay = delays[i] or ''
  if delay ~= '' then
    redis.call('ZADD', KEYS[i], now + tonumber(delay), member)
  elseif (i <= 4 and waits) or (i >= 5 and live) then
    redis.call('ZREM', KEYS[i], member)
  end
end
-- ACCOUNT: mirror the concurrency slot.
if ARGV[5] ~= '' then
  redis.call('ZADD', KEYS[7], now + tonumber(ARGV[5]), KEYS[1])
elseif live then
  redis.call('ZREM', KEYS[7], KEYS[1])
end
return current
