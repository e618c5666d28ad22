-- Claim a pending contact for dialling: the one gate every create passes through.
-- Atomically checks that the campaign is running, that the contact is still pending and that a
-- concurrency slot is free; then books the contact's send slot, marks it dialing and takes the
-- concurrency slot. The pace is a schedule of send slots one interval apart (GCRA on the server
-- clock, see dialer/pace.py): the claim books the next slot when it is at most `max wait` away
-- (else it is refused with 'pace'), and the caller sends at that slot. When the slot is now,
-- the claim also passes the send guard (`send_guard`, from guard.lua: the store prepends it)
-- for the caller, which then sends at once: one round trip, not two.
-- The campaign's account (one API key, shared by its campaigns) has the same three limits when
-- set (`dialer limits`, else the deployment's defaults in ARGV): its concurrency slots (refused
-- with 'account_busy'), its schedule of slots ('account_pace'; the contact's slot is the later
-- of the two, both booked) and its send guard. The account blocks below are marked ACCOUNT.
-- KEYS: 1 contact hash, 2 counts hash, 3 campaign hash, 4 ready zset, 5 queued zset,
--       6 inflight zset, 7 watch zset, 8 pace (the campaign hash: its `tat`),
--       9 sends (the send guard's stamps), 10 held zset (the contacts a resumed campaign's
--       load has not reached yet: `holding` in its hash),
--       11 account_limits hash, 12 account_pace hash, 13 account_inflight zset,
--       14 account_sends (stamps), 15 account_dnc hash (the do-not-call list),
--       16 ledger zset (the account's creates to the contact's number)
-- ARGV: 1 member ('': a test call, below), 2 max concurrent, 3 lease ms, 4 stuck-after ms, then the pace:
--       5 interval us, 6 max wait us, 7 send guard limit (0: leave the guard to the caller),
--       8 send guard window us, then the account's defaults (0: none): 9 interval us,
--       10 send limit, 11 max concurrent; then the ledger: 12 the campaign's id ('': no ledger,
--       the caller gave no number), 13 min gap ms
--       after another campaign's create to the number (0: none), 14 creates allowed to the
--       number per 24 hours by every campaign of the account (0: no limit), 15 the number
--       called (the ledger's; a contact that holds another number is refused 'not_pending').
-- The gap does not hold for calls by the campaign itself, nor by its retry lineage (the
-- campaigns whose results it dials again: `lineage` in its hash, comma separated).
-- Returns {1, 'ok', send_number, wait_us until the slot, the contact's fields as HGETALL gives
-- them, 1 if the send guard was passed} or {0, reason, wait_us}: the create is built from what
-- the claim saw, with no second read. A contact whose number is on the account's do-not-call
-- list when its turn comes is never dialled: it ends 'suppressed' here ({0, 'suppressed', 0}).
-- A contact whose number another campaign of the account called less than `min gap` ago, or
-- that had its day's calls, waits: {0, 'gap' or 'daily_limit', wait_us, by campaign, at ms}.
-- A test call (member '') has no contact: it passes the do-not-call list, the account's
-- concurrency, its pace and send guard, and the number's gap and daily limit (not the calling
-- window, nor the campaign's own limits), is noted in the ledger, and holds no slot.
-- A pending contact is in queued (a dial task is on its way: the usual case) or else in ready.
local function unindex(member)
  if redis.call('ZREM', KEYS[5], member) == 0 then redis.call('ZREM', KEYS[4], member) end
end
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now = math.floor(now_us / 1000)
local member, number, test = ARGV[1], ARGV[15], ARGV[1] == ''
local contact = {}
local lineage, tat = '', 0
if not test then
  local campaign = redis.call('HMGET', KEYS[3], 'state', 'lineage', 'tat', 'holding')
  if campaign[1] ~= 'running' then return {0, 'not_running', 0} end
  -- A dial task sent before a load of the list began may name a contact it holds: not dialled
  -- until the load reaches it (its row may be gone from the list). One ZSCORE, while holding.
  if campaign[4] and redis.call('ZSCORE', KEYS[10], member) then return {0, 'held', 0} end
  lineage = campaign[2] or ''
  tat = tonumber(campaign[3] or '0')
  local flat = redis.call('HGETALL', KEYS[1])
  for i = 1, #flat, 2 do contact[flat[i]] = flat[i + 1] end
  if contact['state'] ~= 'pending' then return {0, 'not_pending', 0} end
  if number ~= '' and contact['phone'] ~= number then return {0, 'not_pending', 0} end
  number = contact['phone'] or ''
end
-- ACCOUNT: the do-not-call list.
local listed = redis.call('HGET', KEYS[15], number)
if listed then
  if test then return {0, 'suppressed', 0} end
  local why = cjson.decode(listed)['reason'] or ''
  if why ~= '' then why = ': ' .. why end
  redis.call('HSET', KEYS[1], 'state', 'suppressed', 'updated_at', now,
    'error', 'on the do-not-call list' .. why)
  redis.call('HINCRBY', KEYS[2], 'pending', -1)
  redis.call('HINCRBY', KEYS[2], 'suppressed', 1)
  unindex(member)
  return {0, 'suppressed', 0}
end
-- A concurrency slot is held until its lease ends: those ended are not counted (a contact's
-- next transition moves its own slot; a dead worker's lapses and is counted no more).
if not test then
  if redis.call('ZCOUNT', KEYS[6], '(' .. now, '+inf') >= tonumber(ARGV[2]) then
    return {0, 'busy', 0}
  end
end
-- ACCOUNT: its limits (`dialer limits set`, else the deployment's defaults), read once.
local limits = redis.call('HMGET', KEYS[11], 'max_concurrent', 'interval_us', 'send_limit')
local account_max = tonumber(limits[1] or ARGV[11])
local account_interval = tonumber(limits[2] or ARGV[9])
local account_send = tonumber(limits[3] or ARGV[10])
local function held(reason)
  if not test then redis.call('HSET', KEYS[3], 'account_held', now, 'account_reason', reason) end
end
-- ACCOUNT: its concurrency slots (members are contact keys: unique across campaigns).
if account_max > 0 then
  if redis.call('ZCOUNT', KEYS[13], '(' .. now, '+inf') >= account_max then
    held('account_busy')
    return {0, 'account_busy', 250000}
  end
end
-- ACCOUNT: the ledger of creates to this number (kept 24 hours), read whole in one command
-- (a number has a few creates a day); those a day old are dropped when there are some.
local day_ms, ledger = 86400000, ARGV[12] ~= ''
local calls = {}  -- the last day's creates, oldest first: {by campaign, at ms}
if ledger then
  local flat = redis.call('ZRANGE', KEYS[16], 0, -1, 'WITHSCORES')
  for i = 1, #flat, 2 do
    local at = tonumber(flat[i + 1])
    if at > now - day_ms then calls[#calls + 1] = {string.match(flat[i], '^[^|]*'), at} end
  end
  if #calls < #flat / 2 then redis.call('ZREMRANGEBYSCORE', KEYS[16], '-inf', now - day_ms) end
end
local gap = ledger and tonumber(ARGV[13]) or 0
if gap > 0 then
  local own = {[ARGV[12]] = true}
  for id in string.gmatch(lineage, '[^,]+') do own[id] = true end
  for i = #calls, 1, -1 do
    local by, at = calls[i][1], calls[i][2]
    if at <= now - gap then break end
    if not own[by] then return {0, 'gap', (at + gap - now) * 1000, by, at} end
  end
end
local per_day = ledger and tonumber(ARGV[14]) or 0
if per_day > 0 and #calls >= per_day then
  local at = calls[#calls - per_day + 1][2]
  return {0, 'daily_limit', (at + day_ms - now) * 1000, '', at}
end
local interval = tonumber(ARGV[5])
if not test then
  if tat - now_us > tonumber(ARGV[6]) then return {0, 'pace', tat - now_us} end
end
-- ACCOUNT: its schedule of slots, checked like the campaign's.
local account_tat = 0
if account_interval > 0 then
  account_tat = tonumber(redis.call('HGET', KEYS[12], 'tat') or '0')
  if account_tat - now_us > tonumber(ARGV[6]) then
    held('account_pace')
    return {0, 'account_pace', account_tat - now_us}
  end
end
-- ACCOUNT: a test call is sent at once, so it passes the account's send guard here.
if test and account_send > 0 then
  local blocked = guard_wait(KEYS[14], account_send, tonumber(ARGV[8]), now_us)
  if blocked > 0 then return {0, 'account_pace', blocked} end
end
-- The slot: the next one on the schedule, or now when the schedule is less than one interval
-- behind (no pace is lost to lateness) or further (it starts afresh: no burst after idling).
-- Either way, slots are at least one interval apart: at most rate+1 in any second.
local slot = tat
if test or now_us - tat >= interval then slot = now_us elseif tat < now_us then slot = tat end
-- ACCOUNT: the later of the campaign's slot and the account's, booked on both schedules.
if account_interval > 0 then
  local account_slot = account_tat
  if now_us - account_tat >= account_interval then account_slot = now_us end
  slot = math.max(slot, account_slot)
  redis.call('HSET', KEYS[12], 'tat', slot + account_interval)
end
local send = 0
if not test then
  redis.call('HSET', KEYS[8], 'tat', slot + interval)
  send = tonumber(contact['sends'] or '0') + 1
  redis.call('HSET', KEYS[1], 'state', 'dialing', 'claimed_at', now, 'updated_at', now,
    'sends', send)
  redis.call('HINCRBY', KEYS[2], 'pending', -1)
  redis.call('HINCRBY', KEYS[2], 'dialing', 1)
  unindex(member)
  redis.call('ZADD', KEYS[6], now + tonumber(ARGV[3]), member)
  redis.call('ZADD', KEYS[7], now + tonumber(ARGV[4]), member)
  -- ACCOUNT: the concurrency slot, held as long as the campaign's (transition.lua mirrors it).
  redis.call('ZADD', KEYS[13], now + tonumber(ARGV[3]), KEYS[1])
end
-- ACCOUNT: the create goes in the number's ledger.
if ledger then
  local entry = ARGV[12] .. '|' .. member .. '|' .. send
  if test then entry = ARGV[12] .. '|test|' .. string.format('%.0f', now_us) end
  redis.call('ZADD', KEYS[16], now, entry)
  redis.call('PEXPIRE', KEYS[16], day_ms)
end
local wait, guarded = math.max(0, slot - now_us), 0
local limit = tonumber(ARGV[7])
-- ACCOUNT: the send guard is passed here only when both the campaign's and the account's let
-- the send through now (else the caller asks send.lua, which checks both).
if test then
  if account_send > 0 then guard_stamp(KEYS[14], account_send, tonumber(ARGV[8]), now_us) end
  guarded = 1
elseif wait == 0 and limit > 0 then
  local window = tonumber(ARGV[8])
  local blocked = guard_wait(KEYS[9], limit, window, now_us)
  if account_send > 0 then
    blocked = math.max(blocked, guard_wait(KEYS[14], account_send, window, now_us))
  end
  if blocked == 0 then
    guard_stamp(KEYS[9], limit, window, now_us)
    if account_send > 0 then guard_stamp(KEYS[14], account_send, window, now_us) end
    guarded = 1
  end
end
-- The contact as the claim leaves it, built from what it read (no second read).
local stamp = string.format('%.0f', now)
contact['state'], contact['sends'] = 'dialing', tostring(send)
contact['claimed_at'], contact['updated_at'] = stamp, stamp
local fields = {}
if not test then
  for name, value in pairs(contact) do
    fields[#fields + 1] = name
    fields[#fields + 1] = value
  end
end
return {1, 'ok', send, wait, fields, guarded}
