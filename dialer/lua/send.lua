-- Pass the send guard (`send_guard`, from guard.lua: the store prepends it) right before a
-- create.
-- KEYS: 1 sends (the send guard's stamps)
-- ARGV: 1 limit (sends per window), 2 window us
-- Returns 0 when the send may go now (its stamp is recorded), else the us to wait first.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
return send_guard(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), now)
