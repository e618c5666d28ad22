-- The send guard: at most `limit` sends in any window. Not a script of its own: Redis runs one
-- body per script, so the store prepends these functions to the scripts that call them (claim.lua
-- and send.lua; see `_script` in dialer/store/core.py). Times are microseconds of Redis's clock.
-- Stamps are Redis's clock at the moment a send was allowed, newest first; a stamp leaves the
-- list once it is a window old, so the list never holds more than `limit` of them. A send is
-- refused while `limit` stamps are younger than a window, so no window ever holds more.
-- guard_wait: 0 when a send may go now (nothing recorded yet), else the us to wait first.
local function guard_wait(key, limit, window, now)
  local oldest = redis.call('LINDEX', key, -1)
  while oldest and now - tonumber(oldest) >= window do
    redis.call('RPOP', key)
    oldest = redis.call('LINDEX', key, -1)
  end
  if redis.call('LLEN', key) >= limit then
    return tonumber(redis.call('LINDEX', key, limit - 1)) + window - now
  end
  return 0
end
-- guard_stamp: record a send let through now.
local function guard_stamp(key, limit, window, now)
  redis.call('LPUSH', key, string.format('%.0f', now))
  redis.call('LTRIM', key, 0, limit - 1)
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
