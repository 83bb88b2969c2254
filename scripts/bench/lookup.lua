-- wrk: GET /api/tracking/benchcode<N> over the seeded codes, N at random. The requests are
-- formatted once per thread, so the load generator spends its time sending, not building strings.
local count = tonumber(os.getenv("BXT_BENCH_CODES") or "10000")
local requests = {}

init = function(args)
    math.randomseed(os.time() + tonumber(tostring(requests):match("0x(%x+)") or "0", 16) % 1000)
    for i = 1, count do
        requests[i] = wrk.format("GET", "/api/tracking/benchcode" .. (i - 1))
    end
end

request = function()
    return requests[math.random(1, count)]
end
