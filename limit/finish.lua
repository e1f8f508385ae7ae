-- Finish: release a ticket's concurrency leases and charge usage, against
-- Redis server time.
--
-- KEYS[i]   the state of check i (see admit.lua)
-- ARGV[1]   ticket
-- ARGV[2]   extra tokens (may be negative: a refund)
-- ARGV[3]   cost in USD (>= 0)
-- ARGV[2i+2], ARGV[2i+3]   kind, limit of check i
if redis.replicate_commands then redis.replicate_commands() end -- Redis < 5

local t = redis.call('TIME')
local sec = tonumber(t[1])
local now = sec * 1000000 + tonumber(t[2])
local today = math.floor(sec / 86400)
local window = 60000000
local maxDebt = 100 * 365 * 86400000000
local ticket = ARGV[1]
local extra = tonumber(ARGV[2])
local usd = ARGV[3]

local function round(x)
  if x < 0 then return -math.floor(-x + 0.5) end
  return math.floor(x + 0.5)
end

for i = 1, #KEYS do
  local key = KEYS[i]
  local kind = tonumber(ARGV[2 * i + 2])
  local limit = tonumber(ARGV[2 * i + 3])
  if kind == 2 then
    local step = round(extra * window / limit)
    local cur = tonumber(redis.call('GET', key))
    if step > 0 then
      if cur == nil or cur < now then cur = now end
      cur = math.min(cur + step, now + maxDebt)
    elseif cur ~= nil then
      -- A refund never moves the bucket past full.
      cur = math.max(cur + step, now)
    else
      cur = now
    end
    if cur > now then
      redis.call('SET', key, string.format('%d', cur), 'PX', math.floor((cur - now) / 1000) + 1)
    else
      redis.call('DEL', key)
    end
  elseif kind == 3 then
    redis.call('ZREM', key, ticket)
  elseif kind == 4 then
    if tonumber(redis.call('HGET', key, 'd')) ~= today then
      redis.call('HSET', key, 'd', string.format('%d', today), 's', '0')
    end
    redis.call('HINCRBYFLOAT', key, 's', usd)
    -- Kept an hour past the day, for late reads and clock slack.
    redis.call('EXPIREAT', key, string.format('%d', (today + 1) * 86400 + 3600))
  end
end
return 1
