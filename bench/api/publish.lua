-- wrk script for S6 (bench/api.sh): POST a JSON body from $S6_BODY_FILE to $S6_PATH with X-API-Key.
-- Every request carries the same body; keep-alive, no pipelining (one request in flight per connection).
local f = assert(io.open(os.getenv("S6_BODY_FILE"), "rb"))
wrk.body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.path = os.getenv("S6_PATH")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = os.getenv("S6_API_KEY")

-- No per-response Lua hook (it would cost wrk CPU per request): non-2xx answers are wrk's
-- errors.status, and bench/api.sh checks the body of one request with curl before the run.
done = function(summary, latency, requests)
  io.write(string.format("S6 requests=%d errors_status=%d errors_connect=%d errors_timeout=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.errors.status, summary.errors.connect, summary.errors.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.max))
end
