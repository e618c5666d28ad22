-- Pass the send guard (`send_guard`, from guard.lua: the store prepends it) right before a
-- create: the campaign's, and its account's when the account has a rate.
-- KEYS: 1 sends (the send guard's stamps), 2 account_limits hash, 3 account_sends
-- ARGV: 1 limit (sends per window), 2 window us, 3 the account's default send limit (0: none)
-- Returns 0 when the send may go now (its stamps are recorded), else the us to wait first.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local account = account_limit(KEYS[2], 'send_limit', ARGV[3])
local wait = guard_wait(KEYS[1], limit, window, now)
if account > 0 then wait = math.max(wait, guard_wait(KEYS[3], account, window, now)) end
if wait > 0 then return wait end
guard_stamp(KEYS[1], limit, window, now)
if account > 0 then guard_stamp(KEYS[3], account, window, now) end
return 0
