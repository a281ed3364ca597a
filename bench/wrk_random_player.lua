-- wrk script: GET a random demo player's path with the API key; optional per-request delay (rate control).
local key = os.getenv("BENCH_KEY") or ""
local players = tonumber(os.getenv("BENCH_PLAYERS") or "1")
local path_format = os.getenv("BENCH_PATH") or "/bench/floor"
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter * 7919 + os.time())
end

function init(args)
  math.randomseed(seed)
end

function request()
  local path = string.format(path_format, math.random(0, players - 1))
  return wrk.format("GET", path, { ["Authorization"] = "Api-Key " .. key })
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end
