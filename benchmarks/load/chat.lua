-- wrk script: POST /v1/chat/completions (OpenAI-style body) to llmetrics-demo --listen,
-- rotating X-Tenant-ID over LLMETRICS_TENANTS tenants (default 50). Counts the
-- requests each thread generated and the responses by status, and prints one
-- JSON line (prefixed "wrk-result ") that run_load.py reads.
--
--   wrk -t2 -c8 -d10s -s benchmarks/load/chat.lua http://127.0.0.1:9464

local tenant_count = tonumber(os.getenv("LLMETRICS_TENANTS") or "50")
local body = '{"model":"gpt-3.5-turbo","messages":[{"role":"user","content":"Hello"}],"max_tokens":32}'
local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   sent = 0
   ok = 0
   other = 0
   next_tenant = id * 7919
end

function request()
   sent = sent + 1
   next_tenant = next_tenant + 1
   return wrk.format("POST", "/v1/chat/completions", {
      ["Host"] = wrk.headers["Host"],
      ["Content-Type"] = "application/json",
      ["X-Tenant-ID"] = "tenant-" .. (next_tenant % tenant_count),
   }, body)
end

function response(status, headers, response_body)
   if status >= 200 and status < 300 then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
   local total_sent, total_ok, total_other = 0, 0, 0
   for _, t in ipairs(threads) do
      total_sent = total_sent + t:get("sent")
      total_ok = total_ok + t:get("ok")
      total_other = total_other + t:get("other")
   end
   local e = summary.errors
   io.write(string.format(
      'wrk-result {"completed":%d,"sent":%d,"ok":%d,"non_2xx":%d,"duration_us":%d,' ..
      '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
      summary.requests, total_sent, total_ok, total_other, summary.duration,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.status, e.timeout))
end
