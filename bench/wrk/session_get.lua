-- wrk script. SESSION_FILE: a loadgen session file (`loadgen prepare` writes session.txt and
-- reviewer-session.txt). Closed loop (wrk): latency is per response.
-- GET with the session cookie from SESSION_FILE; prints status counts and percentiles.
local f = io.open(os.getenv("SESSION_FILE"), "r")
local cookie = f:read("*l"); f:close()
wrk.headers["Cookie"] = cookie
done = function(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms, %.0f requests/s\n",
    latency:percentile(50)/1000, latency:percentile(90)/1000, latency:percentile(99)/1000, latency.max/1000,
    summary.requests / (summary.duration / 1e6)))
end
