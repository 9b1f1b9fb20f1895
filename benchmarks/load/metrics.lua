-- wrk script: GET /metrics as Prometheus asks for it (OpenMetrics, optionally gzip
-- with LLMETRICS_GZIP=1), printing the same JSON line as chat.lua.
--
--   wrk -t1 -c4 -d10s -s benchmarks/load/metrics.lua http://127.0.0.1:9464

function init(args)
   wrk.method = "GET"
   wrk.path = "/metrics"
   wrk.headers["Accept"] = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;" ..
                           "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
   if os.getenv("LLMETRICS_GZIP") == "1" then wrk.headers["Accept-Encoding"] = "gzip" end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'wrk-result {"completed":%d,"sent":%d,"ok":%d,"non_2xx":%d,"duration_us":%d,' ..
      '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
      summary.requests, summary.requests, summary.requests - e.status, e.status, summary.duration,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.status, e.timeout))
end
