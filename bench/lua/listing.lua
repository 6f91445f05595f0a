-- wrk script: a refresh storm on the public listing. Each request takes the next query of
-- BENCH_QUERIES (one per line, e.g. `?age=9&arrondissement=15`, or an empty line for the bare
-- listing), as families filter for their children.
--
--   BENCH_QUERIES=queries.txt wrk -t2 -c64 -d20s -s bench/lua/listing.lua http://127.0.0.1:8101
--
-- done() prints one `bench-summary` line: wrk's counts, socket errors and latency percentiles (µs),
-- and the answers by status.

local path = os.getenv("BENCH_PATH") or "/public/campaigns"
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

local queries = {}
local next_query = 0
statuses = {}

function init(args)
  local name = os.getenv("BENCH_QUERIES")
  if name then
    for line in io.lines(name) do queries[#queries + 1] = line end
  end
  if #queries == 0 then queries[1] = "" end
  next_query = id % #queries
end

function request()
  next_query = next_query % #queries + 1
  return wrk.format("GET", path .. queries[next_query])
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local by_status = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      by_status[status] = (by_status[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(by_status) do parts[#parts + 1] = "status_" .. status .. "=" .. count end
  io.write(string.format(
    "bench-summary requests=%d duration_us=%d connect=%d read=%d write=%d timeout=%d status=%d "
      .. "p50_us=%d p95_us=%d p99_us=%d max_us=%d %s\n",
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, table.concat(parts, " ")))
end
