-- The send guard: at most `limit` sends in any window. Not a script of its own: Redis runs one
-- body per script, so the store prepends these functions to the scripts that call them (claim.lua
-- and send.lua; see `_script` in dialer/store/core.py). Times are microseconds of Redis's clock.
-- Stamps are Redis's clock at the moment a send was allowed, newest first, at most `limit` of
-- them. A send is refused while the limit-th newest stamp is younger than a window, so no window
-- ever holds more than `limit`.
-- guard_wait: 0 when a send may go now (fewer than `limit` stamps), else the us to wait first.
local function guard_wait(key, limit, window, now)
  local oldest = redis.call('LINDEX', key, limit - 1)
  if not oldest then return 0 end
  local wait = tonumber(oldest) + window - now
  if wait > 0 then return wait end
  return 0
end
-- guard_stamp: record a send let through now. The list keeps the `limit` newest stamps (at
-- most 1000: the highest rate), all a send is checked against: two commands a send, three once
-- the list is full.
local function guard_stamp(key, limit, window, now)
  if redis.call('LPUSH', key, string.format('%.0f', now)) > limit then
    redis.call('LTRIM', key, 0, limit - 1)
  end
  redis.call('PEXPIRE', key, math.ceil(window / 1000) + 1000)
end
-- send_guard: 0 when the send may go now (its stamp is recorded), else the us to wait first.
local function send_guard(key, limit, window, now)
  local wait = guard_wait(key, limit, window, now)
  if wait == 0 then guard_stamp(key, limit, window, now) end
  return wait
end
-- account_limit: one of the account's limits (`dialer limits set`), else the deployment's
-- default given by the caller; 0 means none.
local function account_limit(limits_key, field, default)
  return tonumber(redis.call('HGET', limits_key, field) or default)
end
