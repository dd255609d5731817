-- wrk script for `scripts/bench http`: POST /v1/jobs with one diag.noop job per request, or, with
-- WHAGO_BENCH_JOBS=N above 1, POST /v1/jobs/batch with N jobs per request.
-- Environment: WHAGO_BENCH_KEY (the API key; required), WHAGO_BENCH_TENANT (default bench),
-- WHAGO_BENCH_JOBS (default 1).
-- Counts every response other than 202 Accepted; done() prints one line, "WHAGO_BENCH key=value ...".

local JOB = '{"type":"diag.noop","payload":{},"queue":"bench"}'
JOBS_PER_REQUEST = tonumber(os.getenv("WHAGO_BENCH_JOBS") or "1") or 1
if JOBS_PER_REQUEST > 1 then
  local jobs = {}
  for i = 1, JOBS_PER_REQUEST do
    jobs[i] = JOB
  end
  PATH = "/v1/jobs/batch"
  BODY = '{"jobs":[' .. table.concat(jobs, ",") .. "]}"
else
  PATH = "/v1/jobs"
  BODY = JOB
end

local key = os.getenv("WHAGO_BENCH_KEY")
if key == nil or key == "" then
  error("set WHAGO_BENCH_KEY to the API key")
end
wrk.method = "POST"
wrk.path = PATH
wrk.body = BODY
wrk.headers["Authorization"] = "Bearer " .. key
wrk.headers["Whago-Tenant"] = os.getenv("WHAGO_BENCH_TENANT") or "bench"
wrk.headers["Content-Type"] = "application/json"

-- setup and done run in the main Lua state, response in each thread's own state.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

non202 = 0
statuses = {}
function response(status, headers, body)
  if status ~= 202 then
    non202 = non202 + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local bad, by = 0, {}
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non202")
    for status, count in pairs(thread:get("statuses")) do
      by[status] = (by[status] or 0) + count
    end
  end
  local list = {}
  for status, count in pairs(by) do
    table.insert(list, status .. ":" .. count)
  end
  table.sort(list)
  local e = summary.errors
  io.write(string.format(
    "WHAGO_BENCH requests=%d duration_us=%d rps=%.1f jobs_per_request=%d p50_us=%d p99_us=%d " ..
    "non202=%d statuses=%s socket_errors=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6), JOBS_PER_REQUEST,
    latency:percentile(50), latency:percentile(99), bad, #list > 0 and table.concat(list, ",") or "-",
    e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write, e.timeout))
end
