-- wrk script: POST one bet per request with a unique Idempotency-Key, on a random player from a list
-- (BENCH_PLAYER_FILE, one "external_id currency" per line) or always the first player (BENCH_ONE_PLAYER=1).
local key = os.getenv("BENCH_KEY") or ""
local player_file = os.getenv("BENCH_PLAYER_FILE")
local one_player = os.getenv("BENCH_ONE_PLAYER") == "1"
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local players = {}
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  for line in io.lines(player_file) do
    local id, currency = line:match("^(%S+)%s+(%S+)$")
    players[#players + 1] = { id = id, currency = currency }
  end
  math.randomseed(tid * 7919 + os.time() + math.floor(os.clock() * 1000000))
  salt = math.random(1, 1000000000)  -- unique keys even when the same run name is reused
end

function request()
  counter = counter + 1
  local p = one_player and players[1] or players[math.random(1, #players)]
  local body = string.format(
    '{"type":"bet","player":"%s","amount":"0.10","currency":"%s","round_id":"%s-%d-%d","game_category":"table"}',
    p.id, p.currency, run, salt, counter)
  local headers = {
    ["Authorization"] = "Api-Key " .. key,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("%s-%d-%d", run, salt, counter),
  }
  return wrk.format("POST", "/api/v1/wallet/transactions/", headers, body)
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end
