-- wrk script. SESSION_FILE: a loadgen session file (cookie line, CSRF line); MEMBER, BIRTH: a member
-- covered (Medi-Cal) from 2026-12-10 to 2027-01-31; NPI: a provider under the session office's TIN.
-- Closed loop (wrk): latency is per response, without coordinated-omission correction.
-- POST /authorizations as the benchmark office user: one multipart form per request.
local f = io.open(os.getenv("SESSION_FILE"), "r")
local cookie = f:read("*l"); local csrf = f:read("*l"); f:close()
local b = "----benchboundary7f3a"
local fields = {
  {"_csrf", csrf}, {"action", "submit"}, {"kind", "prior_auth"},
  {"member_id", os.getenv("MEMBER") or "M000000001"}, {"birth_date", os.getenv("BIRTH") or "2017-09-29"},
  {"requesting_npi", os.getenv("NPI") or "2000000077"}, {"servicing_npi", os.getenv("NPI") or "2000000077"},
  {"diagnoses", "M54.5"}, {"code_1", "97110"}, {"units_1", "8"},
  {"from_date", "2026-12-10"}, {"to_date", "2027-01-31"}, {"place_of_service", "11"},
  {"urgency", "standard"}, {"urgency_reason", ""}, {"clinical_notes", "Low back pain, 6 weeks of therapy requested."},
}
local body = ""
for _, kv in ipairs(fields) do
  body = body .. "--" .. b .. "\r\nContent-Disposition: form-data; name=\"" .. kv[1] .. "\"\r\n\r\n" .. kv[2] .. "\r\n"
end
body = body .. "--" .. b .. "--\r\n"
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. b
wrk.headers["Cookie"] = cookie
wrk.headers["Sec-Fetch-Site"] = "same-origin"
done = function(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms, %.0f requests/s\n",
    latency:percentile(50)/1000, latency:percentile(90)/1000, latency:percentile(99)/1000, latency.max/1000,
    summary.requests / (summary.duration / 1e6)))
end
