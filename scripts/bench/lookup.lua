-- wrk: GET /api/tracking/benchcode<N> over the seeded codes.
local count = tonumber(os.getenv("BXT_BENCH_CODES") or "10000")
math.randomseed(os.time())
request = function()
    return wrk.format("GET", "/api/tracking/benchcode" .. math.random(0, count - 1))
end
