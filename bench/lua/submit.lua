-- wrk script: every request is a distinct parent submission, read from a pre-generated file.
--
--   BENCH_REQUESTS=requests.tsv BENCH_OUT=folder BENCH_THREADS=2 wrk -t2 -c64 -d600s -s bench/lua/submit.lua URL
--
-- Each line of the file: bearer token, Idempotency-Key, JSON body (tab-separated). Thread i of n
-- sends lines i+1, i+1+n, … once each, in file order; when every answer is back it drops
-- BENCH_OUT/thread-<i>.done. The driver interrupts wrk (SIGINT) once every thread is done — wrk
-- itself only knows durations, -d is only a cap — and wrk's done() writes each thread's records to
-- BENCH_OUT/thread-<i>.tsv, from which the driver computes the results:
--   r <category> <latency µs>     one line per answer: 202, 202-replay, 409:<problem code>, 429:…, 503:…
--   m <name> <value>               first-sent and last-answered instants (µs); planned, sent, answered
-- The latency is from the request's creation in wrk to its answer, matched by X-Request-ID (the
-- services and bench/hello_app.py echo it).
--
-- A thread whose submissions are all sent keeps its connections busy with `GET /healthz` (not
-- recorded) until wrk is interrupted: it must neither stop alone nor idle. A connection left open
-- without a request holds a gunicorn sync worker in a blocking read until the worker timeout
-- (30 s), stalling every other connection behind it.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_REALTIME = 0
local timespec = ffi.new("bench_timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_REALTIME, timespec)
  return tonumber(timespec.tv_sec) * 1000000 + math.floor(tonumber(timespec.tv_nsec) / 1000)
end

-- In wrk's main Lua state: number the threads, keep them for done().
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

-- In each thread's own Lua state.
local path = os.getenv("BENCH_PATH") or "/applications"
local out_dir = os.getenv("BENCH_OUT") or "."
local requests = {}
local sent_at = {}
local next_index = 1
local verified = false
-- Globals: done() reads them from the main state with thread:get.
records = {}
sent = 0
answered = 0
first_sent, last_answered = 0, 0
planned = 0
local finished = false

function init(args)
  local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
  local file = assert(io.open(assert(os.getenv("BENCH_REQUESTS"), "BENCH_REQUESTS is not set"), "r"))
  local line_number = 0
  for line in file:lines() do
    if line_number % threads == id then
      local token, key, body = line:match("^([^\t]+)\t([^\t]+)\t(.+)$")
      local index = #requests + 1
      requests[index] = wrk.format("POST", path, {
        ["Authorization"] = "Bearer " .. token,
        ["Idempotency-Key"] = key,
        ["Content-Type"] = "application/json",
        ["X-Request-ID"] = tostring(index),
      }, body)
    end
    line_number = line_number + 1
  end
  file:close()
  planned = #requests
  -- wrk builds one request of thread 0 before starting, only to check it: that one is not sent.
  verified = id ~= 0
end

function request()
  if not verified then
    verified = true
    return requests[1]
  end
  local index = next_index
  if index > #requests then
    return wrk.format("GET", "/healthz", { ["X-Request-ID"] = "tail" })
  end
  next_index = index + 1
  sent = index
  local now = now_us()
  sent_at[index] = now
  if first_sent == 0 then first_sent = now end
  return requests[index]
end

local function finish()
  if finished then return end
  finished = true
  local marker = assert(io.open(out_dir .. "/thread-" .. id .. ".done", "w"))
  marker:close()
end

function response(status, headers, body)
  local lowered = {}
  for name, value in pairs(headers) do lowered[string.lower(name)] = value end
  local index = tonumber(lowered["x-request-id"])
  if index ~= nil and sent_at[index] ~= nil then
    local now = now_us()
    local category = tostring(status)
    if status == 202 and lowered["idempotent-replayed"] == "true" then
      category = "202-replay"
    elseif status >= 400 then
      local code = body and string.match(body, '"code"%s*:%s*"([^"]+)"')
      if code then category = category .. ":" .. code end
    end
    records[#records + 1] = "r " .. category .. " " .. tostring(now - sent_at[index])
    sent_at[index] = nil
    answered = answered + 1
    last_answered = now
  end
  if next_index > #requests and answered >= #requests then finish() end
end

-- In the main state, once every thread stopped (also when the driver gave up waiting: answers lost
-- to timeouts never come, and what was recorded is still written).
function done(summary, latency, requests)
  local out_dir = os.getenv("BENCH_OUT") or "."
  for _, thread in ipairs(threads) do
    local out = assert(io.open(out_dir .. "/thread-" .. thread:get("id") .. ".tsv", "w"))
    out:write("m first_sent ", string.format("%d", thread:get("first_sent")), "\n")
    out:write("m last_answered ", string.format("%d", thread:get("last_answered")), "\n")
    out:write("m planned ", string.format("%d", thread:get("planned")), "\n")
    out:write("m sent ", string.format("%d", thread:get("sent")), "\n")
    out:write("m answered ", string.format("%d", thread:get("answered")), "\n")
    for _, record in ipairs(thread:get("records")) do out:write(record, "\n") end
    out:close()
  end
  io.write(string.format(
    "bench-summary requests=%d duration_us=%d connect=%d read=%d write=%d timeout=%d status=%d "
      .. "p50_us=%d p95_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max))
end
